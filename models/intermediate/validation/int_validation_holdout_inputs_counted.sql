{#-
    The holdout predictions' input: one row per transactions dataset and distinct calibration
    profile with the holdout duration, and its customer count.
-#}
with

validation_customers as (
    select * from {{ ref('int_validation_customers') }}
),

final as (
    select
        dataset,
        frequency,
        recency_days,
        customer_age_days,
        recency,
        customer_age,
        duration_holdout_days,
        duration_holdout,
        count(*) as customers
    from validation_customers
    where has_holdout
    group by
        dataset, frequency, recency_days, customer_age_days, recency, customer_age,
        duration_holdout_days, duration_holdout
)

select * from final
