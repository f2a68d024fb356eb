{#-
    Where rfm_monthly's frequency quintile edges fall, per transactions dataset, snapshot,
    frequency and edge (1..4), so that rfm_monthly scores frequency without ranking every
    customer of every snapshot.

    The frequency score is qcut over rank(method="first"): rank r among the snapshot's N
    scored customers, ties in frequency broken by customer_sort_key. r is above edge k when
    5 (r - 1) > (N - 1) k (crm_qcut_rank_bin), that is when r > floor((N - 1) k / 5) + 1.
    A customer's rank is the customers of a lower frequency (customers_below_frequency) plus
    its position among the customers of its own frequency in sort-key order, so within one
    frequency the first customers_not_above_edge customers are not above edge k and the rest
    are. Only when that splits the frequency (0 < customers_not_above_edge <
    customers_at_frequency) is a position needed, and only the position of one
    customer: the last one not above the edge. Counting the customers per block of 4,096
    consecutive sort keys (crm_rfm_sort_key_block) finds the block that holds that customer
    and its position there, so int_rfm_score_edges_pivoted numbers the customers of that one
    block only.

    Why: a row_number over every customer of every snapshot sorts the whole of rfm_monthly
    (78 M rows at 100 M invoice lines, and the largest cost of the build); these counts are one
    aggregation of the same rows into a few hundred thousand groups.
-#}
with

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

snapshots as (
    select * from {{ ref('int_rfm_snapshots_spined') }}
),

edge_numbers as (
    {{ dbt.generate_series(4) }}
),

-- the customers each snapshot scores (the same rows as rfm_monthly's), counted per frequency
-- and block of sort keys
blocks as (
    select
        snapshots.dataset,
        snapshots.snapshot_date,
        customer_months.cumulative_orders as frequency,
        {{ crm_rfm_sort_key_block('customer_months.customer_sort_key') }} as sort_key_block,
        count(*) as customers_in_block
    from {{ crm_rfm_snapshot_customers('customer_months', 'snapshots') }}
    group by
        snapshots.dataset,
        snapshots.snapshot_date,
        customer_months.cumulative_orders,
        {{ crm_rfm_sort_key_block('customer_months.customer_sort_key') }}
),

blocks_accumulated as (
    select
        dataset,
        snapshot_date,
        frequency,
        sort_key_block,
        customers_in_block,
        cast(sum(customers_in_block) over (
            partition by dataset, snapshot_date, frequency
            order by sort_key_block
            rows between unbounded preceding and current row
        ) - customers_in_block as {{ dbt.type_bigint() }}) as customers_in_earlier_blocks
    from blocks
),

frequencies as (
    select
        dataset,
        snapshot_date,
        frequency,
        cast(sum(customers_in_block) as {{ dbt.type_bigint() }}) as customers_at_frequency
    from blocks
    group by dataset, snapshot_date, frequency
),

frequencies_accumulated as (
    select
        dataset,
        snapshot_date,
        frequency,
        customers_at_frequency,
        cast(coalesce(sum(customers_at_frequency) over (
            partition by dataset, snapshot_date
            order by frequency
            rows between unbounded preceding and 1 preceding
        ), 0) as {{ dbt.type_bigint() }}) as customers_below_frequency,
        cast(sum(customers_at_frequency) over (
            partition by dataset, snapshot_date
        ) as {{ dbt.type_bigint() }}) as scored_customers
    from frequencies
),

frequency_edges as (
    select
        frequencies_accumulated.dataset,
        frequencies_accumulated.snapshot_date,
        frequencies_accumulated.frequency,
        cast(edge_numbers.generated_number as {{ dbt.type_int() }}) as frequency_edge,
        frequencies_accumulated.scored_customers,
        frequencies_accumulated.customers_below_frequency,
        frequencies_accumulated.customers_at_frequency,
        -- ranks up to floor((N - 1) k / 5) + 1 are not above edge k; (N - 1) k / 5.0 is exact
        -- enough for floor: a whole number is exact, any other is at least 0.2 from one
        cast(floor(
            (frequencies_accumulated.scored_customers - 1) * edge_numbers.generated_number / 5.0
        ) as {{ dbt.type_bigint() }}) + 1
        - frequencies_accumulated.customers_below_frequency as customers_not_above_edge
    from frequencies_accumulated
    cross join edge_numbers
),

-- the block holding the last customer not above the edge, where the edge splits a frequency
splitting_blocks as (
    select
        frequency_edges.dataset,
        frequency_edges.snapshot_date,
        frequency_edges.frequency,
        frequency_edges.frequency_edge,
        blocks_accumulated.sort_key_block,
        frequency_edges.customers_not_above_edge
        - blocks_accumulated.customers_in_earlier_blocks as position_in_block
    from frequency_edges
    inner join blocks_accumulated
        on frequency_edges.dataset = blocks_accumulated.dataset
        and frequency_edges.snapshot_date = blocks_accumulated.snapshot_date
        and frequency_edges.frequency = blocks_accumulated.frequency
        and frequency_edges.customers_not_above_edge > blocks_accumulated.customers_in_earlier_blocks
        and frequency_edges.customers_not_above_edge
        <= blocks_accumulated.customers_in_earlier_blocks + blocks_accumulated.customers_in_block
    where
        frequency_edges.customers_not_above_edge > 0
        and frequency_edges.customers_not_above_edge < frequency_edges.customers_at_frequency
),

final as (
    select
        frequency_edges.dataset,
        frequency_edges.snapshot_date,
        frequency_edges.frequency,
        frequency_edges.frequency_edge,
        frequency_edges.scored_customers,
        frequency_edges.customers_below_frequency,
        frequency_edges.customers_at_frequency,
        frequency_edges.customers_not_above_edge,
        splitting_blocks.sort_key_block as edge_sort_key_block,
        splitting_blocks.position_in_block as edge_position_in_block
    from frequency_edges
    left join splitting_blocks
        on frequency_edges.dataset = splitting_blocks.dataset
        and frequency_edges.snapshot_date = splitting_blocks.snapshot_date
        and frequency_edges.frequency = splitting_blocks.frequency
        and frequency_edges.frequency_edge = splitting_blocks.frequency_edge
)

select * from final
