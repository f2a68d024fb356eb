{#-
    Predictions per customer: the scores of the customer's distinct lifetime profile (computed
    once per profile by the Python model int_lifetime_profiles_scored) joined back in SQL, plus the
    CLV segment: quartiles of predicted_clv per dataset, pandas-qcut-exact, A (highest) .. D.
-#}
with

customer_lifetime as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

profile_predictions as (
    select * from {{ ref('int_lifetime_profiles_scored') }}
),

joined as (
    select
        customer_lifetime.dataset,
        customer_lifetime.customer_id,
        customer_lifetime.analysis_date,
        customer_lifetime.frequency,
        customer_lifetime.recency,
        customer_lifetime.customer_age,
        customer_lifetime.monetary_value,
        profile_predictions.probability_alive,
        profile_predictions.expected_purchases_week,
        profile_predictions.expected_purchases_month,
        profile_predictions.expected_purchases_quarter,
        profile_predictions.expected_average_profit,
        profile_predictions.clv
    from customer_lifetime
    inner join profile_predictions
        on customer_lifetime.dataset = profile_predictions.dataset
        and customer_lifetime.frequency = profile_predictions.frequency
        and customer_lifetime.recency_days = profile_predictions.recency_days
        and customer_lifetime.customer_age_days = profile_predictions.customer_age_days
        and customer_lifetime.monetary_value = profile_predictions.monetary_value
),

edges as (
    select
        dataset,
        {{ crm_qcut_edges('clv', 4, 'predicted_clv_edge') }}
    from joined
    group by dataset
),

final as (
    select
        joined.dataset,
        joined.customer_id,
        joined.analysis_date,
        joined.frequency,
        joined.recency,
        joined.customer_age,
        joined.monetary_value,
        cast(joined.probability_alive as {{ dbt.type_float() }}) as probability_alive,
        cast(joined.expected_purchases_week as {{ dbt.type_float() }}) as expected_purchases_week,
        cast(joined.expected_purchases_month as {{ dbt.type_float() }}) as expected_purchases_month,
        cast(joined.expected_purchases_quarter as {{ dbt.type_float() }}) as expected_purchases_quarter,
        cast(joined.expected_average_profit as {{ dbt.type_float() }}) as expected_average_profit,
        cast(joined.clv as {{ dbt.type_float() }}) as predicted_clv,
        {{ crm_quartile_segment('joined.clv', 'edges.predicted_clv_edge') }} as predicted_clv_segment
    from joined
    inner join edges
        on joined.dataset = edges.dataset
)

select * from final
