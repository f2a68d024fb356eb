{#-
    Predictions per customer. The transaction model's scores depend on the customer's
    (frequency, recency, T) only: the Python model int_lifetime_profiles_scored computes them
    once per distinct profile and they are joined back here on the integer day counts. The
    spend is Gamma-Gamma's closed form per customer (lifetimes'
    conditional_expected_average_profit; note 025, eq. 5): the population mean p v / (q - 1)
    for one-time buyers, otherwise the weighted mean of it and the customer's mean repeat
    spend, the customer's weight p x / (p x + q - 1). The CLV is that spend times the profile's
    discounted expected purchases, which equals lifetimes' customer_lifetime_value. The CLV
    segment: quartiles of predicted_clv per dataset, pandas-qcut-exact, A (highest) .. D.
-#}
with

customer_lifetime as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

profile_predictions as (
    select * from {{ ref('int_lifetime_profiles_scored') }}
),

gamma_gamma_parameters as (
    select * from {{ ref('int_gamma_gamma_parameters_pivoted') }}
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
        profile_predictions.discounted_expected_purchases,
        gamma_gamma_parameters.gamma_gamma_p,
        gamma_gamma_parameters.gamma_gamma_q,
        gamma_gamma_parameters.gamma_gamma_v
    from customer_lifetime
    inner join profile_predictions
        on customer_lifetime.dataset = profile_predictions.dataset
        and customer_lifetime.frequency = profile_predictions.frequency
        and customer_lifetime.recency_days = profile_predictions.recency_days
        and customer_lifetime.customer_age_days = profile_predictions.customer_age_days
    inner join gamma_gamma_parameters
        on customer_lifetime.dataset = gamma_gamma_parameters.dataset
),

spend_weighted as (
    select
        *,
        gamma_gamma_v * gamma_gamma_p / (gamma_gamma_q - 1) as population_mean_spend,
        gamma_gamma_p * frequency / (gamma_gamma_p * frequency + gamma_gamma_q - 1)
            as individual_spend_weight
    from joined
),

spend_expected as (
    select
        *,
        case
            when frequency = 0 then population_mean_spend
            else (1 - individual_spend_weight) * population_mean_spend
                + individual_spend_weight * monetary_value
        end as expected_average_profit
    from spend_weighted
),

valued as (
    select
        *,
        expected_average_profit * discounted_expected_purchases as predicted_clv
    from spend_expected
),

edges as (
    select
        dataset,
        {{ crm_qcut_edges('predicted_clv', 4, 'predicted_clv_edge') }}
    from valued
    group by dataset
),

final as (
    select
        valued.dataset,
        valued.customer_id,
        valued.analysis_date,
        valued.frequency,
        valued.recency,
        valued.customer_age,
        valued.monetary_value,
        cast(valued.probability_alive as {{ dbt.type_float() }}) as probability_alive,
        cast(valued.expected_purchases_week as {{ dbt.type_float() }}) as expected_purchases_week,
        cast(valued.expected_purchases_month as {{ dbt.type_float() }}) as expected_purchases_month,
        cast(valued.expected_purchases_quarter as {{ dbt.type_float() }}) as expected_purchases_quarter,
        cast(valued.expected_average_profit as {{ dbt.type_float() }}) as expected_average_profit,
        cast(valued.predicted_clv as {{ dbt.type_float() }}) as predicted_clv,
        {{ crm_quartile_segment('valued.predicted_clv', 'edges.predicted_clv_edge') }}
            as predicted_clv_segment
    from valued
    inner join edges
        on valued.dataset = edges.dataset
)

select * from final
