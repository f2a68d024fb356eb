{#-
    The report's segment sizes over time: per transactions dataset and monthly snapshot of
    rfm_monthly, the customers of every segment of the seed rfm_segments (0 when a segment is
    empty at that snapshot) and their share of the snapshot's scored customers. segment_order
    ranks the segments by their first cell in the seed (lowest recency score, then frequency
    score), so the report can stack them in one fixed order.
-#}
with

rfm_monthly as (
    select * from {{ ref('rfm_monthly') }}
),

rfm_segments as (
    select * from {{ ref('rfm_segments') }}
),

segment_first_cells as (
    select
        segment,
        min(recency_score * 10 + frequency_score) as first_cell
    from rfm_segments
    group by segment
),

ordered_segments as (
    select
        segment,
        row_number() over (order by first_cell, segment) as segment_order
    from segment_first_cells
),

-- one pass over rfm_monthly (78 M rows at 100 M invoice lines): the segments' sizes, and the
-- snapshot's scored customers as their sum
segment_counts as (
    select
        dataset,
        snapshot_date,
        segment,
        count(*) as customers
    from rfm_monthly
    group by dataset, snapshot_date, segment
),

snapshots as (
    select
        dataset,
        snapshot_date,
        sum(customers) as scored_customers
    from segment_counts
    group by dataset, snapshot_date
),

snapshot_segments as (
    select
        snapshots.dataset,
        snapshots.snapshot_date,
        snapshots.scored_customers,
        ordered_segments.segment,
        ordered_segments.segment_order
    from snapshots
    cross join ordered_segments
),

final as (
    select
        snapshot_segments.dataset,
        snapshot_segments.snapshot_date,
        cast(snapshot_segments.segment as {{ dbt.type_string() }}) as segment,
        cast(snapshot_segments.segment_order as {{ dbt.type_int() }}) as segment_order,
        cast(coalesce(segment_counts.customers, 0) as {{ dbt.type_bigint() }}) as customers,
        cast(snapshot_segments.scored_customers as {{ dbt.type_bigint() }}) as scored_customers,
        cast(coalesce(segment_counts.customers, 0) as {{ dbt.type_float() }})
        / snapshot_segments.scored_customers as customer_share
    from snapshot_segments
    left join segment_counts
        on snapshot_segments.dataset = segment_counts.dataset
        and snapshot_segments.snapshot_date = segment_counts.snapshot_date
        and snapshot_segments.segment = segment_counts.segment
)

select * from final
