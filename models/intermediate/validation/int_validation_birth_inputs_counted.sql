{#-
    The tracking curve's input: one row per transactions dataset and distinct first-purchase
    day offset (days from the dataset's first purchase day; every customer of the period,
    those acquired in the holdout too) with its customer count and the period's weeks.
-#}
with

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

period_bounds as (
    select
        purchase_days.dataset,
        min(purchase_days.purchase_date) as period_start_date,
        min(dated_datasets.analysis_date) as analysis_date
    from purchase_days
    inner join dated_datasets
        on purchase_days.dataset = dated_datasets.dataset
    group by purchase_days.dataset
),

period_lengths as (
    select
        dataset,
        period_start_date,
        {{ dbt.datediff('period_start_date', 'analysis_date', 'day') }}
            as period_days
    from period_bounds
),

-- weeks from the first purchase day through the analysis date, the last one partial
period_weeks as (
    select
        dataset,
        period_start_date,
        cast(floor((period_days + 7) / 7.0) as {{ dbt.type_bigint() }}) as period_weeks
    from period_lengths
),

-- every customer of the period, including those acquired in the holdout
first_purchase_days as (
    select
        dataset,
        customer_id,
        min(purchase_date) as first_purchase_date
    from purchase_days
    group by dataset, customer_id
),

final as (
    select
        first_purchase_days.dataset,
        {{ dbt.datediff('period_weeks.period_start_date', 'first_purchase_days.first_purchase_date', 'day') }}
            as birth_offset_days,
        period_weeks.period_weeks,
        count(*) as customers
    from first_purchase_days
    inner join period_weeks
        on first_purchase_days.dataset = period_weeks.dataset
    group by
        first_purchase_days.dataset,
        {{ dbt.datediff('period_weeks.period_start_date', 'first_purchase_days.first_purchase_date', 'day') }},
        period_weeks.period_weeks
)

select * from final
