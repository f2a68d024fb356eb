{#-
    One row per transactions dataset, customer and calendar month in which the customer ordered
    before the analysis date, with the month's orders and revenue and the customer's running
    totals through the month: everything rfm_monthly needs, and the customer-months of
    kpi_monthly and cohort_retention, at order level, in one pass over the orders.
    The running totals are the customer's RFM inputs at every snapshot after this month up to
    and including `valid_through_snapshot_date` (the month of the next order, or the dataset's
    last snapshot, the first of the analysis date's month), so rfm_monthly expands them to
    snapshots with one range join. The analysis date's own month (orders from its first day to
    the analysis date) is after every snapshot, so no snapshot reads its row.
    An order belongs to the month of its first line and counts as a whole; its last line is
    the last order timestamp (recency), as in rfm, capped at the end of the month: rfm as of a
    month start sees only the lines before midnight of an invoice that runs past it (no real
    invoice does; with such an invoice the snapshot's monetary would differ from rfm's).
    acquisition_month is the month of the customer's first line (int_customers_aggregated),
    the month cohort_retention sizes its cohorts by.
    previous_activity_month is the customer's month with orders before this one: kpi_monthly
    counts a customer as retained where it is the calendar month before, without joining the
    customer-months to themselves.
    previous_last_order_at and has_revenue_before_month describe the customer at the snapshot
    on this month's first day (the previous customer-month's last order, null before the first;
    whether revenue was > 0 then): rfm_monthly scores a customer's previous snapshot from them
    where this month begins.
-#}
with

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

orders_in_scope as (
    select
        orders.dataset,
        orders.customer_id,
        orders.revenue,
        orders.last_line_at,
        cast({{ dbt.date_trunc('month', 'dated_datasets.analysis_date') }} as date) as last_snapshot_date,
        cast({{ dbt.date_trunc('month', 'orders.ordered_at') }} as date) as activity_month
    from orders
    inner join dated_datasets
        on orders.dataset = dated_datasets.dataset
    where orders.ordered_at < dated_datasets.analysis_date
),

customer_months as (
    select
        dataset,
        customer_id,
        activity_month,
        last_snapshot_date,
        count(*) as orders,
        {{ crm_sum_precise('revenue') }} as revenue,
        -- an order's lines past midnight into the next month count from its snapshot on:
        -- capped there, recency is never negative (rfm would not see those lines at all)
        least(
            max(last_line_at),
            cast({{ dbt.dateadd('month', 1, 'activity_month') }} as {{ dbt.type_timestamp() }})
        ) as last_order_at
    from orders_in_scope
    group by dataset, customer_id, activity_month, last_snapshot_date
),

accumulated as (
    select
        dataset,
        customer_id,
        activity_month,
        orders,
        revenue,
        last_order_at,
        lag(activity_month) over (
            partition by dataset, customer_id order by activity_month
        ) as previous_activity_month,
        lag(last_order_at) over (
            partition by dataset, customer_id order by activity_month
        ) as previous_last_order_at,
        -- scored at the snapshot on this month's first day (an exact test: no sum involved;
        -- the same as a running revenue > 0 because clean lines never have negative revenue)
        coalesce(max(revenue) over (
            partition by dataset, customer_id order by activity_month
            rows between unbounded preceding and 1 preceding
        ) > 0, false) as has_revenue_before_month,
        min(activity_month) over (partition by dataset, customer_id) as first_order_month,
        cast(sum(orders) over (
            partition by dataset, customer_id order by activity_month
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as cumulative_orders,
        {{ crm_sum_precise('revenue', window='
            partition by dataset, customer_id order by activity_month
            rows between unbounded preceding and current row
        ') }} as cumulative_revenue,
        -- the analysis date's month has no later order month: its row is valid through the
        -- last snapshot, which is its own month, i.e. through no snapshot
        coalesce(
            lead(activity_month) over (partition by dataset, customer_id order by activity_month),
            last_snapshot_date
        ) as valid_through_snapshot_date
    from customer_months
),

final as (
    select
        accumulated.dataset,
        accumulated.customer_id,
        accumulated.activity_month,
        accumulated.first_order_month,
        accumulated.orders,
        accumulated.revenue,
        accumulated.last_order_at,
        accumulated.cumulative_orders,
        accumulated.cumulative_revenue,
        accumulated.previous_activity_month,
        accumulated.previous_last_order_at,
        accumulated.has_revenue_before_month,
        accumulated.valid_through_snapshot_date,
        cast({{ dbt.date_trunc('month', 'customers.first_order_at') }} as date) as acquisition_month,
        customers.customer_sort_key
    from accumulated
    inner join customers
        on accumulated.dataset = customers.dataset
        and accumulated.customer_id = customers.customer_id
)

select * from final
