{#-
    The conditional-expectation check of the BG/NBD literature: customers grouped by their
    number of repeat purchases in the calibration period (0, 1, ..., 6, 7+), with their mean
    actual purchases in the holdout period next to the mean the model, fitted on the
    calibration period only, expected for them. Transactions datasets only (FLO has no
    purchase history to split).
-#}
with

validation_customers as (
    select * from {{ ref('int_validation_customers') }}
),

holdout_predictions as (
    select * from {{ ref('int_validation_holdout_profiles_scored') }}
),

customer_predictions as (
    select
        validation_customers.dataset,
        cast(holdout_predictions.model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        validation_customers.customer_id,
        validation_customers.holdout_purchases,
        holdout_predictions.expected_holdout_purchases,
        least(validation_customers.frequency, 7) as frequency_bucket_order
    from validation_customers
    inner join holdout_predictions
        on validation_customers.dataset = holdout_predictions.dataset
        and validation_customers.frequency = holdout_predictions.frequency
        and validation_customers.recency_days = holdout_predictions.recency_days
        and validation_customers.customer_age_days = holdout_predictions.customer_age_days
        and validation_customers.duration_holdout_days = holdout_predictions.duration_holdout_days
    where validation_customers.has_holdout
),

final as (
    select
        dataset,
        model,
        case
            when frequency_bucket_order = 7 then '7+'
            else cast(frequency_bucket_order as {{ dbt.type_string() }})
        end as calibration_frequency_bucket,
        cast(frequency_bucket_order as {{ dbt.type_int() }}) as bucket_order,
        cast(count(*) as {{ dbt.type_bigint() }}) as customers,
        cast(avg(holdout_purchases) as {{ dbt.type_float() }}) as mean_actual_holdout_purchases,
        cast(avg(expected_holdout_purchases) as {{ dbt.type_float() }}) as mean_predicted_holdout_purchases
    from customer_predictions
    group by dataset, model, frequency_bucket_order
)

select * from final
