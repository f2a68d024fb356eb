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
    Intervals (level prediction_interval_level) from parameter uncertainty: expected purchases
    over the month horizon from parameter draws per profile (int_lifetime_profiles_scored); the
    CLV's on the log scale, predicted_clv x exp(-/+ z sqrt(s1^2 + s2^2)), with s1 the spread of
    the log discounted purchases over the same draws and s2 the delta-method standard error of
    the log expected spend from Gamma-Gamma's log-parameter covariance (the two fits are
    independent, so their variances add).
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
        profile_predictions.expected_purchases_month_lower,
        profile_predictions.expected_purchases_month_upper,
        profile_predictions.log_discounted_expected_purchases_sd,
        profile_predictions.interval_z,
        gamma_gamma_parameters.gamma_gamma_p,
        gamma_gamma_parameters.gamma_gamma_q,
        gamma_gamma_parameters.gamma_gamma_v,
        gamma_gamma_parameters.log_covariance_pp,
        gamma_gamma_parameters.log_covariance_pq,
        gamma_gamma_parameters.log_covariance_pv,
        gamma_gamma_parameters.log_covariance_qq,
        gamma_gamma_parameters.log_covariance_qv,
        gamma_gamma_parameters.log_covariance_vv
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

-- the gradient of the expected spend in (ln p, ln q, ln v): spend = (1 - w) m0 + w m with
-- m0 = p v / (q - 1) and w = p x / (p x + q - 1)
spend_gradients as (
    select
        *,
        (1 - individual_spend_weight) * population_mean_spend
        + (monetary_value - population_mean_spend)
        * individual_spend_weight * (1 - individual_spend_weight) as spend_gradient_p,
        -(1 - individual_spend_weight) * population_mean_spend * gamma_gamma_q / (gamma_gamma_q - 1)
        - (monetary_value - population_mean_spend) * individual_spend_weight * gamma_gamma_q
        / (gamma_gamma_p * frequency + gamma_gamma_q - 1) as spend_gradient_q,
        (1 - individual_spend_weight) * population_mean_spend as spend_gradient_v
    from spend_expected
),

spend_spread as (
    select
        *,
        (
            spend_gradient_p * spend_gradient_p * log_covariance_pp
            + spend_gradient_q * spend_gradient_q * log_covariance_qq
            + spend_gradient_v * spend_gradient_v * log_covariance_vv
            + 2 * spend_gradient_p * spend_gradient_q * log_covariance_pq
            + 2 * spend_gradient_p * spend_gradient_v * log_covariance_pv
            + 2 * spend_gradient_q * spend_gradient_v * log_covariance_qv
        ) / (expected_average_profit * expected_average_profit) as log_spend_variance
    from spend_gradients
),

valued as (
    select
        *,
        expected_average_profit * discounted_expected_purchases as predicted_clv,
        interval_z * sqrt(
            log_discounted_expected_purchases_sd * log_discounted_expected_purchases_sd
            + greatest(log_spend_variance, 0)
        ) as clv_log_half_width
    from spend_spread
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
        cast(valued.expected_purchases_month_lower as {{ dbt.type_float() }}) as expected_purchases_month_lower,
        cast(valued.expected_purchases_month_upper as {{ dbt.type_float() }}) as expected_purchases_month_upper,
        cast(valued.predicted_clv * exp(-valued.clv_log_half_width) as {{ dbt.type_float() }})
            as predicted_clv_lower,
        cast(valued.predicted_clv * exp(valued.clv_log_half_width) as {{ dbt.type_float() }})
            as predicted_clv_upper,
        {{ crm_quartile_segment('valued.predicted_clv', 'edges.predicted_clv_edge') }}
            as predicted_clv_segment
    from valued
    inner join edges
        on valued.dataset = edges.dataset
)

select * from final
