{#-
    One row per clean invoice line with quantity and unit price capped for the BTYD model
    inputs, as the course does before fitting: per dataset and column, values above
    q_high + multiplier x (q_high - q_low) (defaults q99 + 1.5 x (q99 - q01), linear
    quantiles as pandas) are set to that limit. With cap_outliers false the values pass
    unchanged. RFM and the course CLTV read the uncapped lines.
-#}
with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_cleaned') }}
),

limits as (
    select
        dataset,
        {{ crm_quantile_cont('quantity', var('outlier_upper_quantile')) }}
        + {{ var('outlier_range_multiplier') }} * (
            {{ crm_quantile_cont('quantity', var('outlier_upper_quantile')) }}
            - {{ crm_quantile_cont('quantity', var('outlier_lower_quantile')) }}
        ) as quantity_limit,
        {{ crm_quantile_cont('unit_price', var('outlier_upper_quantile')) }}
        + {{ var('outlier_range_multiplier') }} * (
            {{ crm_quantile_cont('unit_price', var('outlier_upper_quantile')) }}
            - {{ crm_quantile_cont('unit_price', var('outlier_lower_quantile')) }}
        ) as unit_price_limit
    from invoice_lines
    group by dataset
),

capped as (
    select
        invoice_lines.dataset,
        invoice_lines.source_file,
        invoice_lines.source_sheet,
        invoice_lines.source_row_number,
        invoice_lines.invoice_id,
        invoice_lines.customer_id,
        invoice_lines.ordered_at,
        case
            when {{ 'true' if var('cap_outliers') else 'false' }}
                and invoice_lines.quantity > limits.quantity_limit
                then limits.quantity_limit
            else cast(invoice_lines.quantity as {{ dbt.type_float() }})
        end as quantity,
        case
            when {{ 'true' if var('cap_outliers') else 'false' }}
                and invoice_lines.unit_price > limits.unit_price_limit
                then limits.unit_price_limit
            else invoice_lines.unit_price
        end as unit_price,
        limits.quantity_limit,
        limits.unit_price_limit
    from invoice_lines
    inner join limits
        on invoice_lines.dataset = limits.dataset
),

final as (
    select
        *,
        quantity * unit_price as line_revenue
    from capped
)

select * from final
