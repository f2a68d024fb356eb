with

rfm as (
    select * from {{ ref('rfm') }}
),

dataset_totals as (
    select
        dataset,
        count(*) as scored_customers,
        sum(monetary) as total_monetary
    from rfm
    group by dataset
),

segments as (
    select
        dataset,
        segment,
        count(*) as customers,
        avg(recency) as mean_recency,
        {{ crm_quantile_cont('recency', 0.5) }} as median_recency,
        avg(frequency) as mean_frequency,
        {{ crm_quantile_cont('frequency', 0.5) }} as median_frequency,
        avg(monetary) as mean_monetary,
        {{ crm_quantile_cont('monetary', 0.5) }} as median_monetary,
        sum(monetary) as monetary
    from rfm
    group by dataset, segment
),

final as (
    select
        segments.dataset,
        segments.segment,
        cast(segments.customers as {{ dbt.type_bigint() }}) as customers,
        cast(
            cast(segments.customers as {{ dbt.type_float() }}) / dataset_totals.scored_customers
            as {{ dbt.type_float() }}
        ) as customer_share,
        cast(segments.mean_recency as {{ dbt.type_float() }}) as mean_recency,
        cast(segments.median_recency as {{ dbt.type_float() }}) as median_recency,
        cast(segments.mean_frequency as {{ dbt.type_float() }}) as mean_frequency,
        cast(segments.median_frequency as {{ dbt.type_float() }}) as median_frequency,
        cast(segments.mean_monetary as {{ dbt.type_float() }}) as mean_monetary,
        cast(segments.median_monetary as {{ dbt.type_float() }}) as median_monetary,
        cast(segments.monetary / dataset_totals.total_monetary as {{ dbt.type_float() }}) as revenue_share
    from segments
    inner join dataset_totals
        on segments.dataset = dataset_totals.dataset
)

select * from final
