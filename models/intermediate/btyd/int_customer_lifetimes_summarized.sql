{#-
    The BTYD inputs per customer, in the lifetimes.utils.summary_data_from_transaction_data
    convention (freq='D', then divided by the time unit):
    purchases on or before the analysis date, collapsed to distinct purchase days;
    frequency = purchase days - 1 (repeat purchases); recency = days from the first to the last
    purchase day / time_unit_days; customer_age (T) = days from the first purchase day to the
    analysis date / time_unit_days; monetary_value = mean revenue of the repeat purchase days
    (0 when frequency = 0), from capped lines when cap_outliers is on.
    FLO summaries have no purchase days: frequency = orders - 1, recency and T from the first
    and last order dates, monetary_value = value / orders (all orders, the first included).
-#}
with

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

customer_summaries as (
    select * from {{ ref('int_customer_summaries_cleaned') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

numbered_days as (
    select
        *,
        row_number() over (
            partition by dataset, customer_id order by purchase_date
        ) as day_number
    from purchase_days
),

transaction_customers as (
    select
        dataset,
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) - 1 as frequency,
        {{ crm_sum_precise('case when day_number > 1 then day_revenue end') }} as repeat_revenue
    from numbered_days
    group by dataset, customer_id
),

transaction_profiles as (
    select
        dataset,
        customer_id,
        first_purchase_date,
        last_purchase_date,
        frequency,
        case when frequency > 0 then repeat_revenue / frequency else 0 end as monetary_value
    from transaction_customers
),

summary_profiles as (
    select
        dataset,
        customer_id,
        first_order_date as first_purchase_date,
        last_order_date as last_purchase_date,
        total_orders - 1 as frequency,
        total_value / total_orders as monetary_value
    from customer_summaries
),

profiles as (
    select * from transaction_profiles
    union all
    select * from summary_profiles
),

final as (
    select
        profiles.dataset,
        profiles.customer_id,
        dated_datasets.input_shape,
        dated_datasets.analysis_date,
        profiles.first_purchase_date,
        profiles.last_purchase_date,
        cast(profiles.frequency as {{ dbt.type_bigint() }}) as frequency,
        cast(
            {{ dbt.datediff('profiles.first_purchase_date', 'profiles.last_purchase_date', 'day') }}
            as {{ dbt.type_bigint() }}
        ) as recency_days,
        cast(
            {{ dbt.datediff('profiles.first_purchase_date', 'dated_datasets.analysis_date', 'day') }}
            as {{ dbt.type_bigint() }}
        ) as customer_age_days,
        cast({{ var('time_unit_days') }} as {{ dbt.type_int() }}) as time_unit_days,
        cast(
            {{ dbt.datediff('profiles.first_purchase_date', 'profiles.last_purchase_date', 'day') }}
            as {{ dbt.type_float() }}
        ) / {{ var('time_unit_days') }} as recency,
        cast(
            {{ dbt.datediff('profiles.first_purchase_date', 'dated_datasets.analysis_date', 'day') }}
            as {{ dbt.type_float() }}
        ) / {{ var('time_unit_days') }} as customer_age,
        cast(profiles.monetary_value as {{ dbt.type_float() }}) as monetary_value
    from profiles
    inner join dated_datasets
        on profiles.dataset = dated_datasets.dataset
    where profiles.first_purchase_date <= dated_datasets.analysis_date
)

select * from final
