{#-
    One row per transactions dataset, customer and calendar month in which the customer ordered
    before the dataset's last RFM snapshot, with the month's orders and revenue and the
    customer's running totals through the month: everything rfm_monthly needs, at order level,
    in one pass. The running totals are the customer's RFM inputs at every snapshot after this
    month up to and including `valid_through_snapshot_date` (the month of the next order, or
    the last snapshot), so rfm_monthly expands them to snapshots with one range join.
    An order belongs to the month of its first line and counts as a whole; its last line is
    the last order timestamp (recency), as in rfm, capped at the end of the month: rfm as of a
    month start sees only the lines before midnight of an invoice that runs past it (no real
    invoice does; with such an invoice the snapshot's monetary would differ from rfm's).
-#}
with

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

snapshots as (
    select * from {{ ref('int_rfm_snapshots_spined') }}
),

last_snapshots as (
    select
        dataset,
        max(snapshot_date) as last_snapshot_date
    from snapshots
    group by dataset
),

orders_before_last_snapshot as (
    select
        orders.dataset,
        orders.customer_id,
        orders.revenue,
        orders.last_line_at,
        last_snapshots.last_snapshot_date,
        cast({{ dbt.date_trunc('month', 'orders.ordered_at') }} as date) as activity_month
    from orders
    inner join last_snapshots
        on orders.dataset = last_snapshots.dataset
    where orders.ordered_at < last_snapshots.last_snapshot_date
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
    from orders_before_last_snapshot
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
        min(activity_month) over (partition by dataset, customer_id) as first_order_month,
        cast(sum(orders) over (
            partition by dataset, customer_id order by activity_month
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as cumulative_orders,
        {{ crm_sum_precise('revenue', window='
            partition by dataset, customer_id order by activity_month
            rows between unbounded preceding and current row
        ') }} as cumulative_revenue,
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
        accumulated.valid_through_snapshot_date,
        customers.customer_sort_key
    from accumulated
    inner join customers
        on accumulated.dataset = customers.dataset
        and accumulated.customer_id = customers.customer_id
)

select * from final
