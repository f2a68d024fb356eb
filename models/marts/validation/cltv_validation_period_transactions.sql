{#-
    Customers by number of repeat purchases in the calibration period (0, 1, ..., 6, 7+):
    actual, and expected by each model fitted on that period (the sum over customers of the
    model's probability of that many repeat purchases within the customer's own T). Both input
    shapes; for FLO the "calibration period" is the whole history (no holdout exists).
-#}
with

validation_customers as (
    select * from {{ ref('int_validation_customers') }}
),

age_inputs as (
    select * from {{ ref('int_validation_age_inputs_counted') }}
),

probabilities as (
    select * from {{ ref('int_validation_repeat_probabilities_predicted') }}
),

actual_counts as (
    select
        dataset,
        least(frequency, 7) as bucket_order,
        count(*) as actual_customers
    from validation_customers
    group by dataset, least(frequency, 7)
),

expected_counts as (
    select
        cast(probabilities.dataset as {{ dbt.type_string() }}) as dataset,
        cast(probabilities.model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        probabilities.repeat_purchases as bucket_order,
        sum(probabilities.probability * age_inputs.customers) as expected_customers
    from probabilities
    inner join age_inputs
        on probabilities.dataset = age_inputs.dataset
        and probabilities.customer_age_days = age_inputs.customer_age_days
    group by
        cast(probabilities.dataset as {{ dbt.type_string() }}),
        cast(probabilities.model as {{ dbt.type_string() }}),
        probabilities.repeat_purchases
),

final as (
    select
        expected_counts.dataset,
        expected_counts.model,
        case
            when expected_counts.bucket_order = 7 then '7+'
            else cast(expected_counts.bucket_order as {{ dbt.type_string() }})
        end as calibration_frequency_bucket,
        cast(expected_counts.bucket_order as {{ dbt.type_int() }}) as bucket_order,
        cast(coalesce(actual_counts.actual_customers, 0) as {{ dbt.type_bigint() }}) as actual_customers,
        cast(expected_counts.expected_customers as {{ dbt.type_float() }}) as expected_customers
    from expected_counts
    left join actual_counts
        on expected_counts.dataset = actual_counts.dataset
        and expected_counts.bucket_order = actual_counts.bucket_order
)

select * from final
