{#-
    Types every raw line and gives it its row-level verdicts. A Parquet input keeps its own
    types (crm_input_types): a BIGINT quantity or a TIMESTAMP is taken as it is, with the same
    checks its text would get; only text values are parsed. The quarantine detail quotes the
    value as text, as it would appear in a text file. NaN and infinite values ('nan', 'inf',
    'infinity', typed NaN) are non_finite_value; a line whose quantity x price reaches
    crm_revenue_limit() is value_out_of_range, so no sum, mean or CLV downstream can overflow.
-#}
{%- set types = crm_input_types(var('transactions_path'), crm_transactions_spec(), 'transactions_path') %}
{%- set revenue_limit = crm_revenue_limit() %}

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
        source_file_index,
        {{ crm_blank_to_null('raw_invoice', types.get('invoice')) }} as invoice_id,
        {{ crm_blank_to_null('raw_stock_code', types.get('stock_code')) }} as stock_code,
        {{ crm_raw_text('raw_description', types.get('description')) }} as product_description,
        {{ crm_parse_integer('raw_quantity', types.get('quantity')) }} as quantity,
        {{ crm_parse_timestamp('raw_invoice_date', types.get('invoice_date')) }} as ordered_at,
        {{ crm_parse_number('raw_price', types.get('price')) }} as unit_price,
        {{ crm_normalize_id('raw_customer_id', types.get('customer_id')) }} as customer_id,
        {{ crm_blank_to_null('raw_country', types.get('country')) }} as country,
        raw_quantity,
        raw_invoice_date,
        raw_price
    from raw_lines
),

-- quantity x price; beyond revenue_limit a sum, square or cube of revenues may overflow
revenued as (
    select
        *,
        quantity * unit_price as unbounded_revenue
    from typed
),

checked as (
    select
        *,
        case
            when abs(unbounded_revenue) < {{ revenue_limit }} then unbounded_revenue
        end as line_revenue,
        -- a value that is missing, cannot be read or is not a finite number: the row cannot be used at all
        case
            when invoice_id is null then 'missing_value'
            when {{ crm_is_missing('raw_quantity', types.get('quantity')) }} then 'missing_value'
            when {{ crm_is_missing('raw_invoice_date', types.get('invoice_date')) }} then 'missing_value'
            when {{ crm_is_missing('raw_price', types.get('price')) }} then 'missing_value'
            when quantity is null and {{ crm_is_non_finite_number('raw_quantity', types.get('quantity')) }}
                then 'non_finite_value'
            when quantity is null then 'unparseable_value'
            when ordered_at is null and {{ crm_is_non_finite_timestamp('raw_invoice_date', types.get('invoice_date')) }}
                then 'non_finite_value'
            when ordered_at is null then 'unparseable_value'
            when unit_price is null and {{ crm_is_non_finite_number('raw_price', types.get('price')) }}
                then 'non_finite_value'
            when unit_price is null then 'unparseable_value'
            when not abs(unbounded_revenue) < {{ revenue_limit }} then 'value_out_of_range'
        end as invalid_reason,
        case
            when invoice_id is null then 'Invoice is empty'
            when {{ crm_is_missing('raw_quantity', types.get('quantity')) }} then 'Quantity is empty'
            when {{ crm_is_missing('raw_invoice_date', types.get('invoice_date')) }} then 'InvoiceDate is empty'
            when {{ crm_is_missing('raw_price', types.get('price')) }} then 'Price is empty'
            when quantity is null
                then {{ dbt.concat([
                    "'Quantity='", "chr(39)", crm_blank_to_null('raw_quantity', types.get('quantity')), "chr(39)"
                ]) }}
            when ordered_at is null
                then {{ dbt.concat([
                    "'InvoiceDate='", "chr(39)",
                    crm_blank_to_null('raw_invoice_date', types.get('invoice_date')),
                    "chr(39)",
                ]) }}
            when unit_price is null
                then {{ dbt.concat([
                    "'Price='", "chr(39)", crm_blank_to_null('raw_price', types.get('price')), "chr(39)"
                ]) }}
            when not abs(unbounded_revenue) < {{ revenue_limit }}
                then {{ dbt.concat([
                    "'Quantity x Price='",
                    crm_double_text('unbounded_revenue'),
                    "' (Quantity='",
                    "cast(quantity as " ~ dbt.type_string() ~ ")",
                    "'; Price='",
                    crm_raw_text('raw_price', types.get('price')),
                    "') is not below " ~ revenue_limit ~ "'",
                ]) }}
        end as invalid_detail,
        -- a readable line that the analyses leave out (DESIGN.md section 4, in this order)
        case
            when customer_id is null then 'missing_customer'
            when invoice_id like 'C%' or invoice_id like 'c%' then 'cancellation'
            when quantity <= 0 then 'non_positive_quantity'
            when unit_price < 0 then 'negative_price'
        end as exclusion_reason
    from revenued
),

final as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
        source_file_index,
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
