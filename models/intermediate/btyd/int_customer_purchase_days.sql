{#-
    One row per transactions dataset, customer and calendar day with a purchase on or before
    the analysis date, with the day's revenue from the capped lines. The purchase-day grain is
    the lifetimes convention (summary_data_from_transaction_data with freq='D'): several orders
    on one day are one purchase.
-#}
with

capped_lines as (
    select * from {{ ref('int_invoice_lines_capped') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

final as (
    select
        capped_lines.dataset,
        capped_lines.customer_id,
        cast(capped_lines.ordered_at as date) as purchase_date,
        {{ crm_sum_precise('capped_lines.line_revenue') }} as day_revenue
    from capped_lines
    inner join dated_datasets
        on capped_lines.dataset = dated_datasets.dataset
    where cast(capped_lines.ordered_at as date) <= dated_datasets.analysis_date
    group by capped_lines.dataset, capped_lines.customer_id, cast(capped_lines.ordered_at as date)
)

select * from final
