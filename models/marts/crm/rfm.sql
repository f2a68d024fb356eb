{#-
    RFM scores and segments, per dataset, pandas-qcut-exact (see macros/scoring/qcut.sql; the
    scoring pieces are shared with rfm_monthly through macros/scoring/rfm.sql).
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
        -- whole days, rounded down as pandas' .days (macros/scoring/rfm.sql)
        {{ crm_rfm_recency('last_order_at', 'analysis_date') }} as recency,
        orders as frequency,
        revenue as monetary
    from customers
    where revenue > 0
),

frequency_ranked as (
    select
        *,
        {{ crm_rfm_frequency_rank(['dataset']) }} as frequency_rank
    from rfm_values
),

edges as (
    select
        dataset,
        {{ crm_rfm_edges() }}
    from rfm_values
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
        {{ crm_rfm_scores('frequency_ranked', 'edges') }}
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
