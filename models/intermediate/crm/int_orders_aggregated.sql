{#-
    One row per transactions dataset and invoice, summed from the clean lines (all dates). The
    invoice's customer is its smallest customer id; has_one_customer says whether it is the
    only one (the largest is the same), which lets int_customers_aggregated read the invoice
    from here instead of from its lines. The smallest country of an invoice is found through
    each country's rank (a handful of countries): min() over text on 100 million lines costs
    twice the rest of the aggregation.
-#}
with

country_lines as (
    select
        dataset,
        country
    from {{ ref('int_invoice_lines_cleaned') }}
),

invoice_lines as (
    select * from {{ ref('int_invoice_lines_cleaned') }}
),

countries as (
    select distinct country
    from country_lines
    where country is not null
),

ranked_countries as (
    select
        country,
        dense_rank() over (order by country) as country_rank
    from countries
),

invoices as (
    select
        invoice_lines.dataset,
        invoice_lines.invoice_id,
        min(invoice_lines.customer_id) as customer_id,
        max(invoice_lines.customer_id) as largest_customer_id,
        min(invoice_lines.ordered_at) as ordered_at,
        max(invoice_lines.ordered_at) as last_line_at,
        min(ranked_countries.country_rank) as country_rank,
        count(*) as order_lines,
        sum(invoice_lines.quantity) as units,
        {{ crm_sum_precise("invoice_lines.line_revenue") }} as revenue
    from invoice_lines
    left join ranked_countries
        on invoice_lines.country = ranked_countries.country
    group by invoice_lines.dataset, invoice_lines.invoice_id
),

final as (
    select
        invoices.dataset,
        invoices.invoice_id,
        invoices.customer_id,
        invoices.ordered_at,
        invoices.last_line_at,
        ranked_countries.country,
        invoices.order_lines,
        invoices.units,
        invoices.revenue,
        invoices.customer_id = invoices.largest_customer_id as has_one_customer
    from invoices
    left join ranked_countries
        on invoices.country_rank = ranked_countries.country_rank
)

select * from final
