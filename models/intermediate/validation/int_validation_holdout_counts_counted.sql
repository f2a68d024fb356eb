{#-
    The holdout log-likelihood's input: one row per transactions dataset, distinct calibration
    profile with the holdout duration, and number of holdout purchase days, with its customer
    count. calibration_rate is the dataset's pooled calibration repeat-purchase rate (repeat
    purchase days over customer age, per time unit), the rate of the Poisson baseline.
-#}
with

validation_customers as (
    select * from {{ ref('int_validation_customers') }}
),

holdout_customers as (
    select * from validation_customers
    where has_holdout
),

calibration_rates as (
    select
        dataset,
        case
            when sum(customer_age) > 0 then sum(frequency) / sum(customer_age)
            else 0
        end as calibration_rate
    from holdout_customers
    group by dataset
),

counted as (
    select
        dataset,
        frequency,
        recency_days,
        customer_age_days,
        recency,
        customer_age,
        duration_holdout_days,
        duration_holdout,
        holdout_purchases,
        count(*) as customers
    from holdout_customers
    group by
        dataset, frequency, recency_days, customer_age_days, recency, customer_age,
        duration_holdout_days, duration_holdout, holdout_purchases
),

final as (
    select
        counted.*,
        cast(calibration_rates.calibration_rate as {{ dbt.type_float() }}) as calibration_rate
    from counted
    inner join calibration_rates
        on counted.dataset = calibration_rates.dataset
)

select * from final
