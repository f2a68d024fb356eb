{#-
    One row per transactions dataset, customer and calendar day with a purchase on or before
    the analysis date, with the day's revenue from capped lines. The purchase-day grain is the
    lifetimes convention (summary_data_from_transaction_data with freq='D'): several orders on
    one day are one purchase.

    Capping, for the BTYD model inputs only, as the course does before fitting: per dataset
    and column, quantity and unit price above q_high + multiplier x (q_high - q_low) (defaults
    q99 + 1.5 x (q99 - q01), linear quantiles as pandas) are set to that limit; with
    cap_outliers false the values pass unchanged. RFM and the course CLTV read the uncapped
    lines. The capped lines are not stored: they feed this one aggregation.
-#}
with

limit_lines as (
    select
        dataset,
        quantity,
        unit_price
    from {{ ref('int_invoice_lines_cleaned') }}
),

invoice_lines as (
    select
        dataset,
        customer_id,
        ordered_at,
        quantity,
        unit_price
    from {{ ref('int_invoice_lines_cleaned') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

limits as (
    select
        dataset,
        {{ crm_capping_limit('quantity') }} as quantity_limit,
        {{ crm_capping_limit('unit_price') }} as unit_price_limit
    from limit_lines
    group by dataset
),

capped_lines as (
    select
        invoice_lines.dataset,
        invoice_lines.customer_id,
        cast(invoice_lines.ordered_at as date) as purchase_date,
        case
            when {{ 'true' if var('cap_outliers') else 'false' }}
                and invoice_lines.quantity > limits.quantity_limit
                then limits.quantity_limit
            else cast(invoice_lines.quantity as {{ dbt.type_float() }})
        end
        * case
            when {{ 'true' if var('cap_outliers') else 'false' }}
                and invoice_lines.unit_price > limits.unit_price_limit
                then limits.unit_price_limit
            else invoice_lines.unit_price
        end as line_revenue
    from invoice_lines
    inner join limits
        on invoice_lines.dataset = limits.dataset
    inner join dated_datasets
        on invoice_lines.dataset = dated_datasets.dataset
    where cast(invoice_lines.ordered_at as date) <= dated_datasets.analysis_date
),

final as (
    select
        dataset,
        customer_id,
        purchase_date,
        {{ crm_sum_precise('line_revenue') }} as day_revenue
    from capped_lines
    group by dataset, customer_id, purchase_date
)

select * from final
