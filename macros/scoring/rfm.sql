{#-
    The pieces of RFM scoring that `rfm` (as of the analysis date) and `rfm_monthly` (as of the
    first day of every month) share, so both score exactly alike (DESIGN.md section 4). Each
    model keeps its own CTEs: values -> frequency rank -> edges per group -> scores -> segment.
    The rows the macros read have the columns recency, frequency, monetary and
    customer_sort_key; the group is a dataset (rfm) or a dataset and snapshot (rfm_monthly).
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
