{#-
    Everything rfm_monthly scores a customer against, per transactions dataset, RFM snapshot
    and frequency held by a scored customer: the recency and monetary quintile edges of the
    snapshot (pandas-qcut-exact, macros/scoring/qcut.sql) and, for each frequency quintile
    edge 1..4, how many of the frequency's customers are not above it and the sort key of the
    last of them (int_rfm_frequency_edges_located says where that customer is; only the
    customers of that one block of sort keys are numbered here).
    Why a model of its own: rfm_monthly then reads the customers of every snapshot once, in
    one pass that joins this small table, instead of keeping the customer-snapshot rows (78 M
    at 100 M invoice lines) while the edges are found from them.
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

-- the customers each snapshot scores, as rfm_monthly reads them: read by two CTEs below, and
-- computed again for each (crm_cte_inlined) rather than kept whole
rfm_values as {{ crm_cte_inlined() }} (
    select
        snapshots.dataset,
        snapshots.snapshot_date,
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

final as (
    select
        frequency_thresholds.dataset,
        frequency_thresholds.snapshot_date,
        frequency_thresholds.frequency,
        frequency_thresholds.customers_not_above_edge_1,
        frequency_thresholds.last_sort_key_not_above_edge_1,
        frequency_thresholds.customers_not_above_edge_2,
        frequency_thresholds.last_sort_key_not_above_edge_2,
        frequency_thresholds.customers_not_above_edge_3,
        frequency_thresholds.last_sort_key_not_above_edge_3,
        frequency_thresholds.customers_not_above_edge_4,
        frequency_thresholds.last_sort_key_not_above_edge_4,
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
)

select * from final
