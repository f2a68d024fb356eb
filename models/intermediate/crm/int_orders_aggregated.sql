with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_cleaned') }}
),

final as (
    select
        dataset,
        invoice_id,
        min(customer_id) as customer_id,
        min(ordered_at) as ordered_at,
        max(ordered_at) as last_line_at,
        min(country) as country,
        count(*) as order_lines,
        sum(quantity) as units,
        {{ crm_sum_precise("line_revenue") }} as revenue
    from invoice_lines
    group by dataset, invoice_id
)

select * from final
