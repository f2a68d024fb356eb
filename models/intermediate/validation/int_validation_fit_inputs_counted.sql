{#-
    The calibration fits' input: one row per dataset and distinct calibration (frequency,
    recency, T) with its customer count (the weights).
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
        count(*) as customers
    from validation_customers
    group by dataset, frequency, recency_days, customer_age_days, recency, customer_age
)

select * from final
