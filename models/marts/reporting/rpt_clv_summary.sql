{#-
    The report's predicted-CLV figures per dataset (cltv_predictions.predicted_clv): spread,
    the share of the total held by the top decile of customers (ntile(10) by predicted CLV),
    and whether the report's histogram (rpt_clv_histogram) uses a log axis: when the
    distribution is skewed (sample skewness > 1) and some CLV is positive.
-#}
with

cltv_predictions as (
    select * from {{ ref('cltv_predictions') }}
),

ranked as (
    select
        dataset,
        predicted_clv,
        ntile(10) over (partition by dataset order by predicted_clv desc) as decile
    from cltv_predictions
),

summarised as (
    select
        dataset,
        count(*) as customers,
        sum(case when predicted_clv <= 0 then 1 else 0 end) as non_positive_customers,
        min(predicted_clv) as min_predicted_clv,
        min(case when predicted_clv > 0 then predicted_clv end) as min_positive_predicted_clv,
        max(predicted_clv) as max_predicted_clv,
        avg(predicted_clv) as mean_predicted_clv,
        {{ crm_quantile_cont('predicted_clv', 0.5) }} as median_predicted_clv,
        {{ crm_quantile_cont('predicted_clv', 0.9) }} as p90_predicted_clv,
        {{ crm_sample_skewness('predicted_clv') }} as predicted_clv_skewness,
        sum(predicted_clv) as total_predicted_clv,
        sum(case when decile = 1 then predicted_clv end) as top_decile_predicted_clv
    from ranked
    group by dataset
),

final as (
    select
        dataset,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(non_positive_customers as {{ dbt.type_bigint() }}) as non_positive_customers,
        cast(min_predicted_clv as {{ dbt.type_float() }}) as min_predicted_clv,
        cast(min_positive_predicted_clv as {{ dbt.type_float() }}) as min_positive_predicted_clv,
        cast(max_predicted_clv as {{ dbt.type_float() }}) as max_predicted_clv,
        cast(mean_predicted_clv as {{ dbt.type_float() }}) as mean_predicted_clv,
        cast(median_predicted_clv as {{ dbt.type_float() }}) as median_predicted_clv,
        cast(p90_predicted_clv as {{ dbt.type_float() }}) as p90_predicted_clv,
        cast(predicted_clv_skewness as {{ dbt.type_float() }}) as predicted_clv_skewness,
        cast(total_predicted_clv as {{ dbt.type_float() }}) as total_predicted_clv,
        cast(top_decile_predicted_clv / nullif(total_predicted_clv, 0) as {{ dbt.type_float() }})
            as top_decile_share,
        coalesce(predicted_clv_skewness, 0) > 1 and max_predicted_clv > 0 as is_log_scale
    from summarised
)

select * from final
