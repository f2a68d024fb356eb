{#-
    The report's RFM segment map: per RFM-scored dataset, all 25 cells of the recency score x
    frequency score grid with the segment the seed rfm_segments gives the cell and the scored
    customers in it; empty cells keep their segment with 0 customers.
-#}
with

rfm as (
    select * from {{ ref('rfm') }}
),

rfm_segments as (
    select * from {{ ref('rfm_segments') }}
),

scored_datasets as (
    select
        dataset,
        count(*) as scored_customers
    from rfm
    group by dataset
),

cell_counts as (
    select
        dataset,
        recency_score,
        frequency_score,
        count(*) as customers
    from rfm
    group by dataset, recency_score, frequency_score
),

dataset_cells as (
    select
        scored_datasets.dataset,
        scored_datasets.scored_customers,
        rfm_segments.recency_score,
        rfm_segments.frequency_score,
        rfm_segments.segment
    from scored_datasets
    cross join rfm_segments
),

final as (
    select
        dataset_cells.dataset,
        cast(dataset_cells.recency_score as {{ dbt.type_int() }}) as recency_score,
        cast(dataset_cells.frequency_score as {{ dbt.type_int() }}) as frequency_score,
        cast(dataset_cells.segment as {{ dbt.type_string() }}) as segment,
        cast(coalesce(cell_counts.customers, 0) as {{ dbt.type_bigint() }}) as customers,
        cast(coalesce(cell_counts.customers, 0) as {{ dbt.type_float() }})
        / dataset_cells.scored_customers as customer_share
    from dataset_cells
    left join cell_counts
        on dataset_cells.dataset = cell_counts.dataset
        and dataset_cells.recency_score = cell_counts.recency_score
        and dataset_cells.frequency_score = cell_counts.frequency_score
)

select * from final
