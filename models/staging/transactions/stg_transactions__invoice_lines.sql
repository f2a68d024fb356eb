with

raw_lines as (
    select * from {{ ref('base_transactions__raw_lines') }}
),

typed as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
        {{ crm_blank_to_null('raw_invoice') }} as invoice_id,
        {{ crm_blank_to_null('raw_stock_code') }} as stock_code,
        raw_description as product_description,
        {{ crm_parse_integer('raw_quantity') }} as quantity,
        {{ crm_parse_timestamp('raw_invoice_date') }} as ordered_at,
        {{ crm_parse_number('raw_price') }} as unit_price,
        {{ crm_normalize_id('raw_customer_id') }} as customer_id,
        {{ crm_blank_to_null('raw_country') }} as country,
        {{ crm_blank_to_null('raw_quantity') }} as raw_quantity,
        {{ crm_blank_to_null('raw_invoice_date') }} as raw_invoice_date,
        {{ crm_blank_to_null('raw_price') }} as raw_price
    from raw_lines
),

checked as (
    select
        *,
        quantity * unit_price as line_revenue,
        -- a value that is missing or cannot be read: the row cannot be used at all
        case
            when invoice_id is null then 'missing_value'
            when raw_quantity is null then 'missing_value'
            when raw_invoice_date is null then 'missing_value'
            when raw_price is null then 'missing_value'
            when quantity is null then 'unparseable_value'
            when ordered_at is null then 'unparseable_value'
            when unit_price is null then 'unparseable_value'
        end as invalid_reason,
        case
            when invoice_id is null then 'Invoice is empty'
            when raw_quantity is null then 'Quantity is empty'
            when raw_invoice_date is null then 'InvoiceDate is empty'
            when raw_price is null then 'Price is empty'
            when quantity is null then {{ dbt.concat(["'Quantity='''", 'raw_quantity', "''''"]) }}
            when ordered_at is null
                then {{ dbt.concat(["'InvoiceDate='''", 'raw_invoice_date', "''''"]) }}
            when unit_price is null then {{ dbt.concat(["'Price='''", 'raw_price', "''''"]) }}
        end as invalid_detail,
        -- a readable line that the analyses leave out (DESIGN.md section 4, in this order)
        case
            when customer_id is null then 'missing_customer'
            when upper(invoice_id) like 'C%' then 'cancellation'
            when quantity <= 0 then 'non_positive_quantity'
            when unit_price < 0 then 'negative_price'
        end as exclusion_reason
    from typed
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
        country,
        invalid_reason,
        invalid_detail,
        exclusion_reason
    from checked
)

select * from final
