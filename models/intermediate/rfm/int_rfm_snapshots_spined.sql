{#-
    One row per transactions dataset and RFM snapshot: the first day of every calendar month
    from the second month of the dataset's orders up to the analysis date (a snapshot counts
    the orders strictly before its date, so the first month alone would have nothing before
    it). The var rfm_history_months keeps only the last that many snapshots (null = all).
    Customer summaries (FLO) have no purchase history and no snapshots.
-#}
with

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

month_numbers as (
    {{ dbt.generate_series(1200) }}
),

transaction_datasets as (
    select
        dataset,
        analysis_date,
        cast({{ dbt.date_trunc('month', 'first_order_date') }} as date) as first_order_month,
        cast({{ dbt.date_trunc('month', 'analysis_date') }} as date) as last_snapshot_date
    from dated_datasets
    where input_shape = 'transactions'
),

snapshots as (
    select
        transaction_datasets.dataset,
        transaction_datasets.analysis_date,
        transaction_datasets.last_snapshot_date,
        cast(
            {{ dbt.dateadd('month', 'month_numbers.generated_number', 'transaction_datasets.first_order_month') }}
            as date
        ) as snapshot_date
    from transaction_datasets
    cross join month_numbers
    where
        {{ dbt.dateadd('month', 'month_numbers.generated_number', 'transaction_datasets.first_order_month') }}
        <= transaction_datasets.last_snapshot_date
),

kept_snapshots as (
    select
        dataset,
        analysis_date,
        snapshot_date
    from snapshots
    {%- if var('rfm_history_months', none) is not none %}
    where snapshot_date > {{ dbt.dateadd('month', -1 * var('rfm_history_months'), 'last_snapshot_date') }}
    {%- endif %}
),

final as (
    select
        dataset,
        snapshot_date,
        analysis_date,
        lag(snapshot_date) over (partition by dataset order by snapshot_date) as previous_snapshot_date
    from kept_snapshots
)

select * from final
