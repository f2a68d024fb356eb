{{ config(post_hook="{{ crm_check_unparseable_share(this) }}") }}
with

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

invoice_lines as (
    select * from {{ ref('int_invoice_lines_classified') }}
),

customer_summaries as (
    select * from {{ ref('int_customer_summaries_classified') }}
),

row_statuses as (
    select
        dataset,
        quarantine_reason,
        customer_id
    from invoice_lines
    union all
    select
        dataset,
        quarantine_reason,
        customer_id
    from customer_summaries
),

row_counts as (
    select
        dataset,
        count(*) as raw_rows,
        cast(
            sum(case when quarantine_reason is null then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as clean_rows,
        cast(
            sum(case when quarantine_reason is not null then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as quarantined_rows,
        cast(
            sum(case when quarantine_reason = 'unparseable_value' then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as unparseable_rows,
        count(distinct case when quarantine_reason is null then customer_id end) as customers
    from row_statuses
    group by dataset
),

final as (
    select
        dated_datasets.dataset,
        dated_datasets.input_shape,
        case
            when dated_datasets.input_shape = 'transactions' then {{ crm_sql_string(var('transactions_path')) }}
            else {{ crm_sql_string(var('customer_summaries_path')) }}
        end as source_path,
        row_counts.raw_rows,
        row_counts.clean_rows,
        row_counts.quarantined_rows,
        row_counts.unparseable_rows,
        row_counts.customers,
        dated_datasets.first_order_date,
        dated_datasets.last_order_date,
        dated_datasets.analysis_date,
        dated_datasets.analysis_date_source
    from dated_datasets
    inner join row_counts
        on dated_datasets.dataset = row_counts.dataset
)

select * from final
