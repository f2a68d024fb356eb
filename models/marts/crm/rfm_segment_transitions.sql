{#-
    How customers move between RFM segments from one monthly snapshot to the next (rfm_monthly).
    Every customer scored at the later snapshot is counted once per pair of snapshots, under
    the segment they had at the earlier one, or under a state of their own when they were not
    scored then: not_yet_customer (no order before the earlier snapshot) or not_yet_scored
    (orders before it, all of them free). Scored customers stay scored (revenue only grows),
    so the counts reconcile with both snapshots' segment sizes
    (tests/dbt/assert_rfm_segment_transitions_reconcile.sql). Revenue is what the customers
    spent in the month between the two snapshots.
-#}
with

rfm_monthly as (
    select * from {{ ref('rfm_monthly') }}
),

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

snapshots as (
    select * from {{ ref('int_rfm_snapshots_spined') }}
),

snapshot_pairs as (
    select
        dataset,
        previous_snapshot_date as from_snapshot_date,
        snapshot_date as to_snapshot_date
    from snapshots
    where previous_snapshot_date is not null
),

customers_at_to_snapshot as (
    select
        snapshot_pairs.dataset,
        snapshot_pairs.from_snapshot_date,
        snapshot_pairs.to_snapshot_date,
        rfm_monthly.customer_id,
        rfm_monthly.segment as to_segment
    from rfm_monthly
    inner join snapshot_pairs
        on rfm_monthly.dataset = snapshot_pairs.dataset
        and rfm_monthly.snapshot_date = snapshot_pairs.to_snapshot_date
),

customer_transitions as (
    select
        customers_at_to_snapshot.dataset,
        customers_at_to_snapshot.from_snapshot_date,
        customers_at_to_snapshot.to_snapshot_date,
        customers_at_to_snapshot.customer_id,
        customers_at_to_snapshot.to_segment,
        case
            when rfm_monthly.segment is not null then rfm_monthly.segment
            when customer_months.first_order_month < customers_at_to_snapshot.from_snapshot_date
                then 'not_yet_scored'
            else 'not_yet_customer'
        end as from_segment,
        coalesce(customer_months.revenue, 0) as revenue
    from customers_at_to_snapshot
    left join rfm_monthly
        on customers_at_to_snapshot.dataset = rfm_monthly.dataset
        and customers_at_to_snapshot.customer_id = rfm_monthly.customer_id
        and customers_at_to_snapshot.from_snapshot_date = rfm_monthly.snapshot_date
    -- the customer's orders in the month between (a customer scored for the first time has some)
    left join customer_months
        on customers_at_to_snapshot.dataset = customer_months.dataset
        and customers_at_to_snapshot.customer_id = customer_months.customer_id
        and customers_at_to_snapshot.from_snapshot_date = customer_months.activity_month
),

segment_pairs as (
    select
        dataset,
        from_snapshot_date,
        to_snapshot_date,
        from_segment,
        to_segment,
        count(*) as customers,
        {{ crm_sum_precise('revenue') }} as revenue
    from customer_transitions
    group by dataset, from_snapshot_date, to_snapshot_date, from_segment, to_segment
),

final as (
    select
        dataset,
        from_snapshot_date,
        to_snapshot_date,
        from_segment,
        to_segment,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(
            sum(customers) over (partition by dataset, from_snapshot_date, from_segment)
            as {{ dbt.type_bigint() }}
        ) as from_segment_customers,
        -- a double division on every engine (Spark's 1.0 * n is a decimal, rounded to 6 places)
        cast(
            cast(customers as {{ dbt.type_float() }})
            / sum(customers) over (partition by dataset, from_snapshot_date, from_segment)
            as {{ dbt.type_float() }}
        ) as customer_share,
        cast(revenue as {{ dbt.type_float() }}) as revenue
    from segment_pairs
)

select * from final
