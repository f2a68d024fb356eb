{#-
    One row per transactions dataset, customer and calendar month in which the customer
    ordered (before the analysis date), with that month's orders and revenue and the
    customer's acquisition month. The base of kpi_monthly and cohort_retention.
-#}
with

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

orders_in_scope as (
    select
        orders.dataset,
        orders.customer_id,
        orders.revenue,
        cast({{ dbt.date_trunc('month', 'orders.ordered_at') }} as date) as activity_month,
        cast({{ dbt.date_trunc('month', 'customers.first_order_at') }} as date) as acquisition_month
    from orders
    inner join customers
        on orders.dataset = customers.dataset
        and orders.customer_id = customers.customer_id
    where orders.ordered_at < customers.analysis_date
),

final as (
    select
        dataset,
        customer_id,
        activity_month,
        acquisition_month,
        count(*) as orders,
        sum(revenue) as revenue
    from orders_in_scope
    group by dataset, customer_id, activity_month, acquisition_month
)

select * from final
