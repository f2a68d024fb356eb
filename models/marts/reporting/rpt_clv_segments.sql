{#-
    The report's CLV segments: per dataset and predicted CLV segment (A = top quartile of
    cltv_predictions.predicted_clv), the customers, their mean and total predicted CLV and the
    segment's share of the dataset's total.
-#}
with

cltv_predictions as (
    select * from {{ ref('cltv_predictions') }}
),

segments as (
    select
        dataset,
        predicted_clv_segment,
        count(*) as customers,
        avg(predicted_clv) as mean_predicted_clv,
        sum(predicted_clv) as total_predicted_clv
    from cltv_predictions
    group by dataset, predicted_clv_segment
),

final as (
    select
        dataset,
        predicted_clv_segment,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(mean_predicted_clv as {{ dbt.type_float() }}) as mean_predicted_clv,
        cast(total_predicted_clv as {{ dbt.type_float() }}) as total_predicted_clv,
        cast(
            total_predicted_clv / sum(total_predicted_clv) over (partition by dataset)
            as {{ dbt.type_float() }}
        ) as predicted_clv_share
    from segments
)

select * from final
