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
    The scores are taken against int_rfm_score_edges_pivoted: per snapshot and frequency, the
    recency and monetary quintile edges and, for the frequency score (rfm's qcut over the rank
    with ties broken by customer_sort_key, found without ranking every row), the sort key of
    the last customer of the frequency not above each edge. A customer is above an edge when
    the whole frequency is, or when its sort key is greater than that last customer's.
    Each row is scored a second time against the previous snapshot's edges, from the inputs
    the same customer had there (the same customer-month, or the one before it), which gives
    previous_segment: rfm_segment_transitions counts those instead of joining this table to
    itself. The whole model is one pass over the customer-months joined to small tables.
-#}
with

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

snapshots as (
    select * from {{ ref('int_rfm_snapshots_spined') }}
),

score_edges as (
    select * from {{ ref('int_rfm_score_edges_pivoted') }}
),

-- the same table again under its own name: a CTE read twice would be materialized
previous_score_edges as (
    select * from {{ ref('int_rfm_score_edges_pivoted') }}
),

segment_map as (
    select * from {{ ref('rfm_segments') }}
),

rfm_values as (
    select
        snapshots.dataset,
        snapshots.snapshot_date,
        snapshots.previous_snapshot_date,
        customer_months.customer_id,
        customer_months.customer_sort_key,
        {{ crm_rfm_recency('customer_months.last_order_at', 'snapshots.snapshot_date') }} as recency,
        customer_months.cumulative_orders as frequency,
        customer_months.cumulative_revenue as monetary,
        -- the orders of the month before the snapshot are this customer-month's when it is
        -- that month (the first snapshot this row stands for)
        case
            when cast({{ dbt.dateadd('month', 1, 'customer_months.activity_month') }} as date)
                = snapshots.snapshot_date
                then customer_months.revenue
            else 0
        end as previous_month_revenue,
        -- the same customer at the previous snapshot: still this customer-month when its
        -- month is before that snapshot's, else the customer-month before it, if any (this
        -- relies on snapshots one month apart, int_rfm_snapshots_spined: a customer-month
        -- not before the previous snapshot then starts exactly on it)
        case
            when snapshots.previous_snapshot_date is null then null
            when customer_months.activity_month < snapshots.previous_snapshot_date then 'scored'
            when customer_months.has_revenue_before_month then 'scored'
            when customer_months.previous_last_order_at is not null then 'not_yet_scored'
            else 'not_yet_customer'
        end as previous_state,
        -- null unless scored there, so that the previous snapshot's edges join only then
        case
            when customer_months.activity_month < snapshots.previous_snapshot_date
                then customer_months.cumulative_orders
            when customer_months.has_revenue_before_month
                then customer_months.cumulative_orders - customer_months.orders
        end as previous_frequency,
        case
            when customer_months.activity_month < snapshots.previous_snapshot_date
                then customer_months.last_order_at
            else customer_months.previous_last_order_at
        end as previous_last_order_at
    from {{ crm_rfm_snapshot_customers('customer_months', 'snapshots') }}
),

-- the previous snapshot's recency (its frequency and state are above)
previous_values as (
    select
        *,
        {{ crm_rfm_recency('previous_last_order_at', 'previous_snapshot_date') }} as previous_recency
    from rfm_values
),

-- each customer scored at the snapshot and, when scored there too, at the previous one (the
-- same scores rfm_monthly gives it at that snapshot: the same inputs against the same edges)
scored as (
    select
        previous_values.dataset,
        previous_values.snapshot_date,
        previous_values.customer_id,
        previous_values.recency,
        previous_values.frequency,
        previous_values.monetary,
        previous_values.previous_month_revenue,
        previous_values.previous_state,
        6 - {{ crm_qcut_bin('previous_values.recency', 5, 'score_edges.recency_edge') }} as recency_score,
        {{ crm_rfm_frequency_bin_at_edges('previous_values.customer_sort_key', 'score_edges') }} as frequency_score,
        {{ crm_qcut_bin('previous_values.monetary', 5, 'score_edges.monetary_edge') }} as monetary_score,
        6 - {{ crm_qcut_bin('previous_values.previous_recency', 5, 'previous_edges.recency_edge') }}
            as previous_recency_score,
        {{ crm_rfm_frequency_bin_at_edges('previous_values.customer_sort_key', 'previous_edges') }}
            as previous_frequency_score
    -- the left join first: DuckDB underestimates the customer rows after an inner join with
    -- the edges and would then build the left join's hash table on them (78 M rows)
    from previous_values
    left join previous_score_edges as previous_edges
        on previous_values.dataset = previous_edges.dataset
        and previous_values.previous_snapshot_date = previous_edges.snapshot_date
        and previous_values.previous_frequency = previous_edges.frequency
    inner join score_edges
        on previous_values.dataset = score_edges.dataset
        and previous_values.snapshot_date = score_edges.snapshot_date
        and previous_values.frequency = score_edges.frequency
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
        segment_map.segment,
        scored.previous_month_revenue,
        case
            when scored.previous_state = 'scored' then previous_segment_map.segment
            else scored.previous_state
        end as previous_segment
    from scored
    left join segment_map
        on scored.recency_score = segment_map.recency_score
        and scored.frequency_score = segment_map.frequency_score
    left join segment_map as previous_segment_map
        on scored.previous_recency_score = previous_segment_map.recency_score
        and scored.previous_frequency_score = previous_segment_map.frequency_score
)

select * from final
