{#-
    How customers move between RFM segments from one monthly snapshot to the next (rfm_monthly).
    Every customer scored at the later snapshot is counted once per pair of snapshots, under
    the segment they had at the earlier one, or under a state of their own when they were not
    scored then: not_yet_customer (no order before the earlier snapshot) or not_yet_scored
    (orders before it, all of them free). Scored customers stay scored (revenue only grows),
    so the counts reconcile with both snapshots' segment sizes
    (tests/dbt/assert_rfm_segment_transitions_reconcile.sql). Revenue is what the customers
    spent in the month between the two snapshots.
    Each row of rfm_monthly already carries the customer's previous_segment and the month's
    revenue (scored there from the same customer-month, against the previous snapshot's
    edges), so the pairs are counted without joining rfm_monthly (78 M rows at 100 M invoice
    lines) to itself.
-#}
with

rfm_monthly as (
    select * from {{ ref('rfm_monthly') }}
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

segment_pairs as (
    select
        snapshot_pairs.dataset,
        snapshot_pairs.from_snapshot_date,
        snapshot_pairs.to_snapshot_date,
        rfm_monthly.previous_segment as from_segment,
        rfm_monthly.segment as to_segment,
        count(*) as customers,
        {{ crm_sum_precise('rfm_monthly.previous_month_revenue') }} as revenue
    from rfm_monthly
    inner join snapshot_pairs
        on rfm_monthly.dataset = snapshot_pairs.dataset
        and rfm_monthly.snapshot_date = snapshot_pairs.to_snapshot_date
    group by
        snapshot_pairs.dataset,
        snapshot_pairs.from_snapshot_date,
        snapshot_pairs.to_snapshot_date,
        rfm_monthly.previous_segment,
        rfm_monthly.segment
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
