{#-
    One row per dataset and customer with the facts every customer-level analysis starts from,
    as of the dataset's analysis date. Transactions: invoice lines dated before the analysis
    date (the last order timestamp is the latest line timestamp, the course's max(InvoiceDate)).
    Revenue is a compensated sum of the line revenues (crm_sum_precise).
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

lines_in_scope as (
    select invoice_lines.*
    from invoice_lines
    inner join dated_datasets
        on invoice_lines.dataset = dated_datasets.dataset
    where invoice_lines.ordered_at < dated_datasets.analysis_date
),

-- straight from the lines, as the course's groupby on the invoice lines
transaction_customers as (
    select
        dataset,
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(distinct invoice_id) as orders,
        sum(quantity) as units,
        {{ crm_sum_precise('line_revenue') }} as revenue,
        row_number() over (
            partition by dataset
            order by {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }}, customer_id
        ) as customer_sort_key
    from lines_in_scope
    group by dataset, customer_id
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
        unioned.units,
        unioned.revenue,
        unioned.customer_sort_key
    from unioned
    inner join dated_datasets
        on unioned.dataset = dated_datasets.dataset
)

select * from final
