{#-
    One row per dataset and customer with the facts every customer-level analysis starts from,
    as of the dataset's analysis date. Transactions: orders placed before the analysis date
    (the last order timestamp is the latest line timestamp, as the course's max(InvoiceDate)).
    Customer summaries (FLO): the summary itself; orders and value are online + offline, and
    the first and last order are dates (midnight).
    `customer_sort_key` orders customers the way the course's pandas code meets them, for ties:
    numeric customer id for transactions (pandas groupby on a float id), file order for FLO.
-#}
with

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

customer_summaries as (
    select * from {{ ref('int_customer_summaries_cleaned') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

orders_in_scope as (
    select orders.*
    from orders
    inner join dated_datasets
        on orders.dataset = dated_datasets.dataset
    where orders.ordered_at < dated_datasets.analysis_date
),

transaction_customers as (
    select
        dataset,
        customer_id,
        min(ordered_at) as first_order_at,
        max(last_line_at) as last_order_at,
        count(*) as orders,
        sum(units) as units,
        sum(revenue) as revenue,
        row_number() over (
            partition by dataset
            order by {{ dbt.safe_cast('customer_id', dbt.type_bigint()) }}, customer_id
        ) as customer_sort_key
    from orders_in_scope
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
        cast(orders as {{ dbt.type_float() }}) as orders,
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
