{#-
    RFM as of the first day of every calendar month (int_rfm_snapshots_spined): for each
    transactions dataset and snapshot, every customer with revenue > 0 before the snapshot date,
    scored exactly as rfm scores them on its analysis date (macros/scoring/rfm.sql), with the
    quintiles taken per dataset and snapshot. The snapshot on the first of the analysis date's
    month equals rfm built with that date as analysis_date, but for the last bit of monetary
    (summed from monthly order totals here, from the lines in rfm), which can move a customer
    whose monetary ties a quintile edge to the adjacent monetary_score.
    Built from order-level running totals (int_customer_months_accumulated): each customer-month
    row stands for the snapshots after its month up to the customer's next order month.
-#}
with

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

snapshots as (
    select * from {{ ref('int_rfm_snapshots_spined') }}
),

segment_map as (
    select * from {{ ref('rfm_segments') }}
),

rfm_values as (
    select
        snapshots.dataset,
        snapshots.snapshot_date,
        customer_months.customer_id,
        customer_months.customer_sort_key,
        {{ crm_rfm_recency('customer_months.last_order_at', 'snapshots.snapshot_date') }} as recency,
        customer_months.cumulative_orders as frequency,
        customer_months.cumulative_revenue as monetary
    from customer_months
    inner join snapshots
        on customer_months.dataset = snapshots.dataset
        and customer_months.activity_month < snapshots.snapshot_date
        and customer_months.valid_through_snapshot_date >= snapshots.snapshot_date
    where customer_months.cumulative_revenue > 0
),

frequency_ranked as (
    select
        *,
        {{ crm_rfm_frequency_rank(['dataset', 'snapshot_date']) }} as frequency_rank
    from rfm_values
),

edges as (
    select
        dataset,
        snapshot_date,
        {{ crm_rfm_edges() }}
    from rfm_values
    group by dataset, snapshot_date
),

scored as (
    select
        frequency_ranked.dataset,
        frequency_ranked.snapshot_date,
        frequency_ranked.customer_id,
        frequency_ranked.recency,
        frequency_ranked.frequency,
        frequency_ranked.monetary,
        {{ crm_rfm_scores('frequency_ranked', 'edges') }}
    from frequency_ranked
    inner join edges
        on frequency_ranked.dataset = edges.dataset
        and frequency_ranked.snapshot_date = edges.snapshot_date
),

final as (
    select
        scored.dataset,
        scored.snapshot_date,
        scored.customer_id,
        scored.recency,
        scored.frequency,
        scored.monetary,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        segment_map.segment
    from scored
    left join segment_map
        on scored.recency_score = segment_map.recency_score
        and scored.frequency_score = segment_map.frequency_score
)

select * from final
