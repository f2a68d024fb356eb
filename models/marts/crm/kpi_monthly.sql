{#-
    Monthly KPIs per transactions dataset. Rates are null where their denominator is zero;
    the conversion rate is null until its whole window has passed before the analysis date.
-#}
with

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

months as (
    select * from {{ ref('int_dataset_months_spined') }}
),

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

activity as (
    select
        dataset,
        activity_month,
        count(*) as active_customers,
        sum(case when activity_month = acquisition_month then 1 else 0 end) as new_customers,
        sum(orders) as orders,
        sum(revenue) as revenue,
        -- retained: the customer's previous month with orders is the calendar month before
        sum(
            case
                when previous_activity_month
                    = cast({{ dbt.dateadd('month', -1, 'activity_month') }} as date)
                    then 1
                else 0
            end
        ) as retained_customers
    from customer_months
    group by dataset, activity_month
),

-- each customer's second order (by time, then invoice id), to see whether a new customer came
-- back within the window: the second smallest order time, i.e. the first order time
-- (customers.first_order_at, the earliest order time) when two orders share it, else the
-- earliest time after it. One aggregation over the orders instead of numbering every order.
-- An invoice whose clean lines carry two customer ids (none in Online Retail or Online Retail
-- II) is an order of the smaller id only (int_orders_aggregated), while its lines still count
-- in the other customer's first_order_at: that customer's next order is then their second.
orders_in_scope as (
    select
        orders.dataset,
        orders.customer_id,
        orders.ordered_at,
        customers.first_order_at
    from orders
    inner join customers
        on orders.dataset = customers.dataset
        and orders.customer_id = customers.customer_id
    where orders.ordered_at < customers.analysis_date
),

second_orders as (
    select
        dataset,
        customer_id,
        case
            when sum(case when ordered_at = first_order_at then 1 else 0 end) >= 2
                then min(first_order_at)
            else min(case when ordered_at > first_order_at then ordered_at end)
        end as ordered_at
    from orders_in_scope
    group by dataset, customer_id
),

conversions as (
    select
        customers.dataset,
        cast({{ dbt.date_trunc('month', 'customers.first_order_at') }} as date) as acquisition_month,
        sum(
            case
                when second_orders.ordered_at
                    <= {{ dbt.dateadd('day', var('second_purchase_window_days'), 'customers.first_order_at') }}
                    then 1
                else 0
            end
        ) as converted_customers
    from customers
    left join second_orders
        on customers.dataset = second_orders.dataset
        and customers.customer_id = second_orders.customer_id
    where customers.input_shape = 'transactions'
    group by customers.dataset, cast({{ dbt.date_trunc('month', 'customers.first_order_at') }} as date)
),

analysis_dates as (
    select distinct
        dataset,
        analysis_date
    from customers
),

filled as (
    select
        months.dataset,
        months.calendar_month,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.new_customers, 0) as new_customers,
        coalesce(activity.retained_customers, 0) as retained_customers,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.revenue, 0) as revenue,
        conversions.converted_customers,
        {{ dbt.dateadd('day', var('second_purchase_window_days'), dbt.last_day('months.calendar_month', 'month')) }}
        < analysis_dates.analysis_date as is_conversion_window_complete
    from months
    inner join analysis_dates
        on months.dataset = analysis_dates.dataset
    left join activity
        on months.dataset = activity.dataset
        and months.calendar_month = activity.activity_month
    left join conversions
        on months.dataset = conversions.dataset
        and months.calendar_month = conversions.acquisition_month
),

with_previous as (
    select
        *,
        lag(active_customers) over (partition by dataset order by calendar_month) as previous_active_customers,
        lag(revenue) over (partition by dataset order by calendar_month) as previous_revenue
    from filled
),

final as (
    select
        dataset,
        calendar_month,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(active_customers - new_customers as {{ dbt.type_bigint() }}) as returning_customers,
        cast(retained_customers as {{ dbt.type_bigint() }}) as retained_customers,
        cast(coalesce(previous_active_customers, 0) - retained_customers as {{ dbt.type_bigint() }})
            as churned_customers,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(revenue as {{ dbt.type_float() }}) as revenue,
        cast(
            case when orders > 0 then revenue / orders end as {{ dbt.type_float() }}
        ) as average_order_value,
        -- rates: double divisions on every engine (Spark's 1.0 * n is a decimal, rounded to 6 places)
        cast(
            case
                when active_customers > 0 then cast(new_customers as {{ dbt.type_float() }}) / active_customers
            end as {{ dbt.type_float() }}
        ) as acquisition_rate,
        cast(
            case
                when previous_active_customers > 0
                    then cast(retained_customers as {{ dbt.type_float() }}) / previous_active_customers
            end as {{ dbt.type_float() }}
        ) as retention_rate,
        cast(
            case
                when previous_active_customers > 0
                    then 1.0 - cast(retained_customers as {{ dbt.type_float() }}) / previous_active_customers
            end as {{ dbt.type_float() }}
        ) as churn_rate,
        cast(
            case
                when previous_revenue > 0 then (revenue - previous_revenue) / previous_revenue
            end as {{ dbt.type_float() }}
        ) as revenue_growth_rate,
        cast(
            case
                when previous_active_customers > 0
                    then cast(active_customers - previous_active_customers as {{ dbt.type_float() }})
                        / previous_active_customers
            end as {{ dbt.type_float() }}
        ) as active_customer_growth_rate,
        cast(
            case
                when new_customers > 0 and is_conversion_window_complete
                    then cast(converted_customers as {{ dbt.type_float() }}) / new_customers
            end as {{ dbt.type_float() }}
        ) as second_purchase_conversion_rate,
        is_conversion_window_complete
    from with_previous
)

select * from final
