{#-
    One row per dataset and customer with the facts every customer-level analysis starts from,
    as of the dataset's analysis date. Transactions: invoice lines dated before the analysis
    date. An order's time has one definition everywhere: its invoice's first line
    (int_orders_aggregated.ordered_at, the orders mart's ordered_at), so first_order_at and
    last_order_at are the earliest and latest such times. The course's max(InvoiceDate) takes
    the latest *line*, a minute later for an invoice whose lines span two minutes (4 customers
    on the 2010-2011 sheet); the recency in whole days is the same unless an invoice spans
    midnight.
    Revenue is a compensated sum (crm_sum_precise) of the customer's invoice revenues, each the
    compensated sum of its lines: the same to the last bit or two as one sum over the lines.
    Each customer's invoices are summed first, then the customer's. An invoice with one customer
    (int_orders_aggregated.has_one_customer, true for every invoice of the real datasets) whose
    last line is before the analysis date is read from int_orders_aggregated, which summed the
    same lines; only the others (an invoice shared by two customers, or one whose lines run past
    the analysis date) are summed from their lines here. At 100 M lines this is one aggregation
    of the 21 M orders instead of a second pass over the lines.
    Customer summaries (FLO): the summary itself; orders and value are online + offline, and
    the first and last order are dates (midnight).
    `customer_sort_key` orders customers the way the course's pandas code meets them, for ties:
    numeric customer id for transactions (pandas groupby on a float id), file order for FLO.
-#}
with

invoice_lines as (
    select * from {{ ref('int_invoice_lines_cleaned') }}
),

customer_summaries as (
    select * from {{ ref('int_customer_summaries_cleaned') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

-- the same table under two more names: a CTE read more than once would be materialized
whole_orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

split_orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

-- the latest order time per customer, from the orders (time = the invoice's first line)
last_orders as (
    select
        orders.dataset,
        orders.customer_id,
        max(orders.ordered_at) as last_order_at
    from orders
    inner join dated_datasets
        on orders.dataset = dated_datasets.dataset
    where orders.ordered_at < dated_datasets.analysis_date
    group by orders.dataset, orders.customer_id
),

-- each customer's invoices, as the course's groupby on the invoice lines sees them. An invoice
-- of one customer with every line before the analysis date (all of them in real data, but for
-- an invoice that runs past the analysis date) is that customer's order as
-- int_orders_aggregated summed it: the same lines, the same sums.
whole_invoices as (
    select
        whole_orders.dataset,
        whole_orders.customer_id,
        whole_orders.invoice_id,
        whole_orders.ordered_at as first_line_at,
        whole_orders.units,
        whole_orders.revenue
    from whole_orders
    inner join dated_datasets
        on whole_orders.dataset = dated_datasets.dataset
    where whole_orders.has_one_customer
        and whole_orders.last_line_at < dated_datasets.analysis_date
),

-- the others (several customers, or lines on both sides of the analysis date) from their lines
split_invoices as (
    select
        split_orders.dataset,
        split_orders.invoice_id
    from split_orders
    inner join dated_datasets
        on split_orders.dataset = dated_datasets.dataset
    where split_orders.ordered_at < dated_datasets.analysis_date
        and (
            -- null only for a null customer id, which a clean line never has
            not coalesce(split_orders.has_one_customer, false)
            or split_orders.last_line_at >= dated_datasets.analysis_date
        )
),

split_lines as (
    select invoice_lines.*
    from invoice_lines
    inner join split_invoices
        on invoice_lines.dataset = split_invoices.dataset
        and invoice_lines.invoice_id = split_invoices.invoice_id
    inner join dated_datasets
        on invoice_lines.dataset = dated_datasets.dataset
    where invoice_lines.ordered_at < dated_datasets.analysis_date
),

split_customer_invoices as (
    select
        dataset,
        customer_id,
        invoice_id,
        min(ordered_at) as first_line_at,
        sum(quantity) as units,
        {{ crm_sum_precise('line_revenue') }} as revenue
    from split_lines
    group by dataset, customer_id, invoice_id
),

customer_invoices as (
    select * from whole_invoices
    union all
    select * from split_customer_invoices
),

line_customers as (
    select
        dataset,
        customer_id,
        min(first_line_at) as first_order_at,
        count(*) as orders,
        sum(units) as units,
        {{ crm_sum_precise('revenue') }} as revenue,
        row_number() over (
            partition by dataset
            order by {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }}, customer_id
        ) as customer_sort_key
    from customer_invoices
    group by dataset, customer_id
),

transaction_customers as (
    select
        line_customers.dataset,
        line_customers.customer_id,
        line_customers.first_order_at,
        last_orders.last_order_at,
        line_customers.orders,
        line_customers.units,
        line_customers.revenue,
        line_customers.customer_sort_key
    from line_customers
    inner join last_orders
        on line_customers.dataset = last_orders.dataset
        and line_customers.customer_id = last_orders.customer_id
),

summary_customers as (
    select
        dataset,
        customer_id,
        cast(first_order_date as {{ dbt.type_timestamp() }}) as first_order_at,
        cast(last_order_date as {{ dbt.type_timestamp() }}) as last_order_at,
        total_orders as orders,
        cast(null as {{ dbt.type_bigint() }}) as units,
        total_value as revenue,
        source_row_number as customer_sort_key
    from customer_summaries
),

unioned as (
    select
        dataset,
        customer_id,
        first_order_at,
        last_order_at,
        orders,
        units,
        revenue,
        customer_sort_key
    from transaction_customers
    union all
    select
        dataset,
        customer_id,
        first_order_at,
        last_order_at,
        orders,
        units,
        revenue,
        customer_sort_key
    from summary_customers
),

final as (
    select
        unioned.dataset,
        unioned.customer_id,
        dated_datasets.input_shape,
        dated_datasets.analysis_date,
        unioned.first_order_at,
        unioned.last_order_at,
        unioned.orders,
        cast(unioned.units as {{ dbt.type_bigint() }}) as units,
        unioned.revenue,
        unioned.customer_sort_key
    from unioned
    inner join dated_datasets
        on unioned.dataset = dated_datasets.dataset
)

select * from final
