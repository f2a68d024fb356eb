{#-
    The period-transaction histogram's input: one row per dataset and distinct calibration T
    with its customer count.
-#}
with

validation_customers as (
    select * from {{ ref('int_validation_customers') }}
),

final as (
    select
        dataset,
        customer_age_days,
        customer_age,
        count(*) as customers
    from validation_customers
    group by dataset, customer_age_days, customer_age
)

select * from final
