{#-
    One row per dataset and customer of the model backtest. Transactions: customers whose first
    purchase day is on or before the calibration end; their calibration-period BTYD statistics
    (lifetimes' calibration_and_holdout_data convention: purchase days, repeat purchases,
    recency and T at the calibration end) and the purchase days they made in the holdout
    period (calibration end, analysis date]. Customer summaries (FLO) hold no purchase history,
    so they cannot be split: their rows carry the whole-period statistics and no holdout
    (has_holdout false); the validation marts compare models on them in-sample only.
-#}
with

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

customer_lifetime as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

transaction_days as (
    select
        purchase_days.dataset,
        purchase_days.customer_id,
        purchase_days.purchase_date,
        dated_datasets.calibration_end_date,
        dated_datasets.analysis_date,
        purchase_days.purchase_date <= dated_datasets.calibration_end_date as is_calibration_day
    from purchase_days
    inner join dated_datasets
        on purchase_days.dataset = dated_datasets.dataset
),

transaction_customers as (
    select
        dataset,
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(case when is_calibration_day then purchase_date end) as last_calibration_purchase_date,
        sum(case when is_calibration_day then 1 else 0 end) - 1 as frequency,
        sum(case when is_calibration_day then 0 else 1 end) as holdout_purchases,
        min(calibration_end_date) as calibration_end_date,
        min(analysis_date) as analysis_date
    from transaction_days
    group by dataset, customer_id
),

transaction_rows as (
    select
        dataset,
        customer_id,
        true as has_holdout,
        frequency,
        {{ dbt.datediff('first_purchase_date', 'last_calibration_purchase_date', 'day') }}
            as recency_days,
        {{ dbt.datediff('first_purchase_date', 'calibration_end_date', 'day') }}
            as customer_age_days,
        holdout_purchases,
        {{ dbt.datediff('calibration_end_date', 'analysis_date', 'day') }}
            as duration_holdout_days
    from transaction_customers
    where first_purchase_date <= calibration_end_date
),

summary_rows as (
    select
        dataset,
        customer_id,
        false as has_holdout,
        frequency,
        recency_days,
        customer_age_days,
        cast(null as {{ dbt.type_bigint() }}) as holdout_purchases,
        cast(null as {{ dbt.type_bigint() }}) as duration_holdout_days
    from customer_lifetime
    where input_shape = 'customer_summaries'
),

unioned as (
    select * from transaction_rows
    union all
    select * from summary_rows
),

final as (
    select
        dataset,
        customer_id,
        has_holdout,
        cast(frequency as {{ dbt.type_bigint() }}) as frequency,
        cast(recency_days as {{ dbt.type_bigint() }}) as recency_days,
        cast(customer_age_days as {{ dbt.type_bigint() }}) as customer_age_days,
        cast(recency_days as {{ dbt.type_float() }}) / {{ var('time_unit_days') }} as recency,
        cast(customer_age_days as {{ dbt.type_float() }}) / {{ var('time_unit_days') }} as customer_age,
        cast(holdout_purchases as {{ dbt.type_bigint() }}) as holdout_purchases,
        cast(duration_holdout_days as {{ dbt.type_bigint() }}) as duration_holdout_days,
        cast(duration_holdout_days as {{ dbt.type_float() }}) / {{ var('time_unit_days') }} as duration_holdout
    from unioned
)

select * from final
