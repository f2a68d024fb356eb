{#-
    One row per dataset with its order-date span and the analysis date every mart uses:
    the analysis_date var when set, otherwise the dataset's last order date plus
    analysis_date_offset_days (2, as the course does: 2010-12-09 -> 2010-12-11).
    The model validation splits the history at calibration_end_date: the var when set,
    otherwise the analysis date minus holdout_days.
-#}
{{ crm_check_vars() }}
{#- the input check's example rows come from the classified tables (only when an input has no clean row) -#}
-- depends_on: {{ ref('int_invoice_lines_classified') }}
-- depends_on: {{ ref('int_customer_summaries_classified') }}
{{ config(post_hook="{{ crm_check_analysis_dates(this) }}") }}
with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_cleaned') }}
),

customer_summaries as (
    select * from {{ ref('int_customer_summaries_cleaned') }}
),

transaction_spans as (
    select
        dataset,
        'transactions' as input_shape,
        cast(min(ordered_at) as date) as first_order_date,
        cast(max(ordered_at) as date) as last_order_date
    from invoice_lines
    group by dataset
),

summary_spans as (
    select
        dataset,
        'customer_summaries' as input_shape,
        min(first_order_date) as first_order_date,
        max(last_order_date) as last_order_date
    from customer_summaries
    group by dataset
),

spans as (
    select * from transaction_spans
    union all
    select * from summary_spans
),

analysis_dated as (
    select
        dataset,
        input_shape,
        first_order_date,
        last_order_date,
        coalesce(
            {{ crm_analysis_date_literal() }},
            cast({{ dbt.dateadd('day', var('analysis_date_offset_days'), 'last_order_date') }} as date)
        ) as analysis_date,
        case
            when {{ crm_analysis_date_literal() }} is null then 'last_order_date_plus_offset'
            else 'var'
        end as analysis_date_source
    from spans
),

final as (
    select
        *,
        coalesce(
            {{ crm_date_var_literal('calibration_end_date') }},
            cast({{ dbt.dateadd('day', -1 * var('holdout_days'), 'analysis_date') }} as date)
        ) as calibration_end_date
    from analysis_dated
)

select * from final
