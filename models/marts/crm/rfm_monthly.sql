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
    The frequency score is rfm's (qcut over the rank with ties broken by customer_sort_key),
    found without ranking every row: int_rfm_frequency_edges_located says, per snapshot,
    frequency and quintile edge, whether the edge lies below, above or inside that frequency's
    customers, and inside, which block of sort keys holds the last customer not above it; only
    that block's customers are numbered here (edge_block_customers). A customer is above an
    edge when the whole frequency is, or when its sort key is greater than that last customer's.
-#}
with

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

snapshots as (
    select * from {{ ref('int_rfm_snapshots_spined') }}
),

frequency_edges as (
    select * from {{ ref('int_rfm_frequency_edges_located') }}
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
        customer_months.cumulative_revenue as monetary,
        {{ crm_rfm_sort_key_block('customer_months.customer_sort_key') }} as sort_key_block
    from {{ crm_rfm_snapshot_customers('customer_months', 'snapshots') }}
),

-- the customers of the blocks that hold an edge, numbered within the block in sort-key order
edge_block_customers as (
    select
        frequency_edges.dataset,
        frequency_edges.snapshot_date,
        frequency_edges.frequency,
        frequency_edges.frequency_edge,
        frequency_edges.edge_position_in_block,
        rfm_values.customer_sort_key,
        row_number() over (
            partition by
                frequency_edges.dataset,
                frequency_edges.snapshot_date,
                frequency_edges.frequency,
                frequency_edges.frequency_edge
            order by rfm_values.customer_sort_key
        ) as position_in_block
    from rfm_values
    inner join frequency_edges
        on rfm_values.dataset = frequency_edges.dataset
        and rfm_values.snapshot_date = frequency_edges.snapshot_date
        and rfm_values.frequency = frequency_edges.frequency
        and rfm_values.sort_key_block = frequency_edges.edge_sort_key_block
),

-- per snapshot and frequency: for each edge, the customers of the frequency not above it and
-- the sort key of the last of them (null unless the edge splits the frequency)
frequency_thresholds as (
    select
        {% for edge in range(1, 5) -%}
            max(
                case
                    when frequency_edges.frequency_edge = {{ edge }}
                        then frequency_edges.customers_not_above_edge
                end
            ) as customers_not_above_edge_{{ edge }},
            max(
                case
                    when frequency_edges.frequency_edge = {{ edge }}
                        then edge_block_customers.customer_sort_key
                end
            ) as last_sort_key_not_above_edge_{{ edge }},
        {% endfor -%}
        frequency_edges.dataset,
        frequency_edges.snapshot_date,
        frequency_edges.frequency
    from frequency_edges
    left join edge_block_customers
        on frequency_edges.dataset = edge_block_customers.dataset
        and frequency_edges.snapshot_date = edge_block_customers.snapshot_date
        and frequency_edges.frequency = edge_block_customers.frequency
        and frequency_edges.frequency_edge = edge_block_customers.frequency_edge
        and edge_block_customers.position_in_block = edge_block_customers.edge_position_in_block
    group by frequency_edges.dataset, frequency_edges.snapshot_date, frequency_edges.frequency
),

-- recency and monetary edges (crm_rfm_edges also counts scored_customers, which rfm ranks up
-- to; here the counts come from frequency_edges)
edges as (
    select
        dataset,
        snapshot_date,
        {{ crm_rfm_edges() }}
    from rfm_values
    group by dataset, snapshot_date
),

-- one row per snapshot and frequency with everything a customer's scores are taken against
score_edges as (
    select
        frequency_thresholds.*,
        edges.recency_edge_1,
        edges.recency_edge_2,
        edges.recency_edge_3,
        edges.recency_edge_4,
        edges.monetary_edge_1,
        edges.monetary_edge_2,
        edges.monetary_edge_3,
        edges.monetary_edge_4
    from frequency_thresholds
    inner join edges
        on frequency_thresholds.dataset = edges.dataset
        and frequency_thresholds.snapshot_date = edges.snapshot_date
),

scored as (
    select
        rfm_values.dataset,
        rfm_values.snapshot_date,
        rfm_values.customer_id,
        rfm_values.recency,
        rfm_values.frequency,
        rfm_values.monetary,
        6 - {{ crm_qcut_bin('rfm_values.recency', 5, 'score_edges.recency_edge') }} as recency_score,
        {{ crm_rfm_frequency_bin_at_edges('rfm_values.customer_sort_key', 'score_edges') }} as frequency_score,
        {{ crm_qcut_bin('rfm_values.monetary', 5, 'score_edges.monetary_edge') }} as monetary_score
    from rfm_values
    inner join score_edges
        on rfm_values.dataset = score_edges.dataset
        and rfm_values.snapshot_date = score_edges.snapshot_date
        and rfm_values.frequency = score_edges.frequency
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
