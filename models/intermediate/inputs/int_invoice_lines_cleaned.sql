with

classified_lines as (
    select * from {{ ref('int_invoice_lines_classified') }}
),

final as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
        invoice_id,
        stock_code,
        product_description,
        quantity,
        ordered_at,
        unit_price,
        line_revenue,
        customer_id,
        country
    from classified_lines
    where quarantine_reason is null
)

select * from final
