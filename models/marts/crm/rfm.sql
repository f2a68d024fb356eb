{#-
    RFM scores and segments, per dataset, pandas-qcut-exact (see macros/scoring/qcut.sql).
    recency = whole days from the last order to the analysis date (floor, as pandas .days);
    frequency = distinct invoices (FLO: online + offline orders); monetary = total revenue.
    Only customers with monetary > 0 are scored. Frequency is scored on its rank with ties
    broken by first appearance (pandas rank(method="first")). Segments come from the R and F
    scores through the seed rfm_segments.
-#}
with

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

segment_map as (
    select * from {{ ref('rfm_segments') }}
),

rfm_values as (
    select
        dataset,
        customer_id,
        analysis_date,
        customer_sort_key,
        -- floor of the exact interval: the analysis date is midnight, so a last order at any
        -- time after midnight is one whole day less than the calendar-day difference
        {{ dbt.datediff('cast(last_order_at as date)', 'analysis_date', 'day') }}
        - case when last_order_at > cast(cast(last_order_at as date) as {{ dbt.type_timestamp() }}) then 1 else 0 end
            as recency,
        orders as frequency,
        revenue as monetary
    from customers
    where revenue > 0
),

frequency_ranked as (
    select
        *,
        row_number() over (
            partition by dataset order by frequency, customer_sort_key
        ) as frequency_rank
    from rfm_values
),

edges as (
    select
        dataset,
        {{ crm_qcut_edges('recency', 5, 'recency_edge') }},
        {{ crm_qcut_edges('frequency_rank', 5, 'frequency_edge') }},
        {{ crm_qcut_edges('monetary', 5, 'monetary_edge') }}
    from frequency_ranked
    group by dataset
),

scored as (
    select
        frequency_ranked.dataset,
        frequency_ranked.customer_id,
        frequency_ranked.analysis_date,
        frequency_ranked.recency,
        frequency_ranked.frequency,
        frequency_ranked.monetary,
        6 - {{ crm_qcut_bin('frequency_ranked.recency', 5, 'edges.recency_edge') }} as recency_score,
        {{ crm_qcut_bin('frequency_ranked.frequency_rank', 5, 'edges.frequency_edge') }} as frequency_score,
        {{ crm_qcut_bin('frequency_ranked.monetary', 5, 'edges.monetary_edge') }} as monetary_score
    from frequency_ranked
    inner join edges
        on frequency_ranked.dataset = edges.dataset
),

final as (
    select
        scored.dataset,
        scored.customer_id,
        scored.analysis_date,
        scored.recency,
        scored.frequency,
        scored.monetary,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        {{ dbt.concat([
            dbt.cast('scored.recency_score', dbt.type_string()),
            dbt.cast('scored.frequency_score', dbt.type_string()),
        ]) }} as rf_score,
        {{ dbt.concat([
            dbt.cast('scored.recency_score', dbt.type_string()),
            dbt.cast('scored.frequency_score', dbt.type_string()),
            dbt.cast('scored.monetary_score', dbt.type_string()),
        ]) }} as rfm_score,
        segment_map.segment
    from scored
    left join segment_map
        on scored.recency_score = segment_map.recency_score
        and scored.frequency_score = segment_map.frequency_score
)

select * from final
