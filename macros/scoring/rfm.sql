{#-
    The pieces of RFM scoring that `rfm` (as of the analysis date) and `rfm_monthly` (as of the
    first day of every month) share, so both score exactly alike (DESIGN.md section 4). Each
    model keeps its own CTEs: values -> frequency rank -> edges per group -> scores -> segment.
    The rows the macros read have the columns recency, frequency, monetary and
    customer_sort_key; the group is a dataset (rfm) or a dataset and snapshot (rfm_monthly).
    rfm_monthly takes the frequency score from located edges instead of a rank over every row
    (crm_rfm_frequency_bin_at_edges, int_rfm_frequency_edges_located,
    int_rfm_score_edges_pivoted): the same bins, without sorting every customer of every
    snapshot.
-#}

{#-
    Whole days from a last-order timestamp to an as-of date (midnight), rounded down as pandas'
    `(as_of - last_order_at).days`: a last order at any time after midnight is one whole day
    less than the calendar-day difference.
-#}
{% macro crm_rfm_recency(last_order_at, as_of_date) -%}
    {{ dbt.datediff('cast(' ~ last_order_at ~ ' as date)', as_of_date, 'day') }}
    - case when {{ last_order_at }} > cast(cast({{ last_order_at }} as date) as {{ dbt.type_timestamp() }}) then 1 else 0 end
{%- endmacro %}


{#-
    The frequency's rank within a group with ties broken by first appearance, as pandas'
    rank(method="first") over rows in customer_sort_key order.
-#}
{% macro crm_rfm_frequency_rank(partition_by) -%}
    row_number() over (
        partition by {{ partition_by | join(', ') }} order by frequency, customer_sort_key
    )
{%- endmacro %}


{#-
    Per group: the quintile edges of recency and monetary, and the number of scored customers
    (the frequency ranks run 1..scored_customers, so their edges need no quantile).
-#}
{% macro crm_rfm_edges() -%}
    {{ crm_qcut_edges('recency', 5, 'recency_edge', together=true) }},
    {{ crm_qcut_edges('monetary', 5, 'monetary_edge', together=true) }},
    count(*) as scored_customers
{%- endmacro %}


{#-
    recency_score (reversed: 5 = most recent), frequency_score and monetary_score of the rows
    aliased `ranked` (with frequency_rank) against the edges of their group, aliased `edges`.
-#}
{% macro crm_rfm_scores(ranked, edges) -%}
    6 - {{ crm_qcut_bin(ranked ~ '.recency', 5, edges ~ '.recency_edge') }} as recency_score,
    {{ crm_qcut_rank_bin(ranked ~ '.frequency_rank', edges ~ '.scored_customers', 5) }} as frequency_score,
    {{ crm_qcut_bin(ranked ~ '.monetary', 5, edges ~ '.monetary_edge') }} as monetary_score
{%- endmacro %}


{#-
    The customer-months each RFM snapshot scores, as a from clause over the relations aliased
    `customer_months` (int_customer_months_accumulated) and `snapshots`
    (int_rfm_snapshots_spined): a customer-month stands for every snapshot after its month up
    to its valid_through_snapshot_date, and a customer is scored once its revenue is > 0.
    rfm_monthly, int_rfm_frequency_edges_located and int_rfm_score_edges_pivoted read the
    same rows through it.
-#}
{% macro crm_rfm_snapshot_customers(customer_months, snapshots) -%}
    {{ customer_months }}
    inner join {{ snapshots }}
        on {{ customer_months }}.dataset = {{ snapshots }}.dataset
        and {{ customer_months }}.activity_month < {{ snapshots }}.snapshot_date
        and {{ customer_months }}.valid_through_snapshot_date >= {{ snapshots }}.snapshot_date
        and {{ customer_months }}.cumulative_revenue > 0
{%- endmacro %}


{#-
    The block of 4,096 consecutive customer sort keys a key belongs to (0 for keys 0..4095):
    int_rfm_score_edges_pivoted numbers only the customers of the block that holds a frequency
    quintile edge (int_rfm_frequency_edges_located). An integer over an integer is a double on DuckDB and
    Spark, and a division by a power of two is exact in a double; where it is an integer
    division, it truncates, which is the same floor for the keys (never negative).
-#}
{% macro crm_rfm_sort_key_block(customer_sort_key) -%}
    cast(floor({{ customer_sort_key }} / 4096) as {{ dbt.type_bigint() }})
{%- endmacro %}


{#-
    rfm_monthly's frequency_score: the same bin as crm_qcut_rank_bin over the frequency rank,
    from the columns customers_not_above_edge_1..4 and last_sort_key_not_above_edge_1..4 of the
    relation aliased `thresholds` (one row per group and frequency). A customer is above edge k
    when no customer of its frequency is below it (customers_not_above_edge_k <= 0) or when its
    sort key is greater than that of the last customer of its frequency not above it (null when
    the whole frequency is below the edge).
-#}
{% macro crm_rfm_frequency_bin_at_edges(customer_sort_key, thresholds) -%}
    (1
    {%- for k in range(1, 5) %}
        + case
            when {{ thresholds }}.customers_not_above_edge_{{ k }} <= 0 then 1
            when {{ customer_sort_key }} > {{ thresholds }}.last_sort_key_not_above_edge_{{ k }} then 1
            else 0
        end
    {%- endfor %})
{%- endmacro %}
