{#-
    One row per dataset and transaction model of the backtest: the holdout log-likelihood (the
    log-probability of each customer's observed holdout purchase days given the calibration
    history, summed over customers, and per customer), the holdout errors per customer (MAE,
    RMSE of expected vs actual holdout purchases), the total forecast against the actual total,
    the calibration fit's log-likelihood, AIC and BIC; the same for naive baselines: a Poisson
    at the dataset's pooled calibration rate (log-likelihood), no future purchases and each
    customer's calibration rate carried forward (MAE, RMSE). Selection rule: among the models
    that were fitted, the highest holdout log-likelihood - a proper scoring rule, which a
    forecast of no purchases cannot win as it wins MAE on sparse data; where there is no
    holdout (FLO summaries), the lowest BIC. `transaction_model: auto` makes cltv_predictions
    use the selected model.
-#}
with

validation_customers as (
    select * from {{ ref('int_validation_customers') }}
),

holdout_predictions as (
    select * from {{ ref('int_validation_holdout_profiles_scored') }}
),

holdout_count_scores as (
    select * from {{ ref('int_validation_holdout_counts_scored') }}
),

fits as (
    select * from {{ ref('int_validation_models_fitted') }}
),

-- explicit types: a Python model's empty output (no customer acquired by the calibration end)
-- has no types of its own
model_fits as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        cast(model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        max(log_likelihood) as log_likelihood,
        max(n_parameters) as n_parameters,
        max(aic) as aic,
        max(bic) as bic,
        max(n_customers) as fit_customers,
        min(case when converged then 1 else 0 end) = 1 as converged,
        max(penalizer) as penalizer,
        cast(max(fit_message) as {{ dbt.type_string() }}) as fit_message
    from fits
    group by dataset, model
),

holdout_customers as (
    select * from validation_customers
    where has_holdout
),

model_errors as (
    select
        holdout_customers.dataset,
        cast(holdout_predictions.model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        count(*) as holdout_customers,
        avg(abs(holdout_predictions.expected_holdout_purchases - holdout_customers.holdout_purchases))
            as holdout_mae,
        sqrt(avg(
            (holdout_predictions.expected_holdout_purchases - holdout_customers.holdout_purchases)
            * (holdout_predictions.expected_holdout_purchases - holdout_customers.holdout_purchases)
        )) as holdout_rmse,
        sum(holdout_predictions.expected_holdout_purchases) as predicted_holdout_purchases,
        sum(holdout_customers.holdout_purchases) as actual_holdout_purchases
    from holdout_customers
    inner join holdout_predictions
        on holdout_customers.dataset = holdout_predictions.dataset
        and holdout_customers.frequency = holdout_predictions.frequency
        and holdout_customers.recency_days = holdout_predictions.recency_days
        and holdout_customers.customer_age_days = holdout_predictions.customer_age_days
        and holdout_customers.duration_holdout_days = holdout_predictions.duration_holdout_days
    group by holdout_customers.dataset, holdout_predictions.model
),

model_scores as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        cast(model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        sum(customers * holdout_log_probability) as holdout_log_likelihood,
        sum(customers) as scored_customers
    from holdout_count_scores
    where model != 'calibration_rate_poisson'
    group by dataset, model
),

baseline_scores as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        sum(customers * holdout_log_probability) / sum(customers)
            as poisson_baseline_log_likelihood_per_customer
    from holdout_count_scores
    where model = 'calibration_rate_poisson'
    group by dataset
),

baseline_predictions as (
    select
        dataset,
        holdout_purchases,
        case
            when customer_age > 0 then frequency / customer_age * duration_holdout
            else 0
        end as rate_prediction
    from holdout_customers
),

baseline_errors as (
    select
        dataset,
        avg(holdout_purchases) as zero_baseline_mae,
        sqrt(avg(holdout_purchases * holdout_purchases)) as zero_baseline_rmse,
        avg(abs(rate_prediction - holdout_purchases)) as rate_baseline_mae,
        sqrt(avg((rate_prediction - holdout_purchases) * (rate_prediction - holdout_purchases)))
            as rate_baseline_rmse,
        sum(rate_prediction) as rate_baseline_predicted_purchases
    from baseline_predictions
    group by dataset
),

combined as (
    select
        model_fits.dataset,
        model_fits.model,
        model_fits.converged,
        model_fits.fit_message,
        model_fits.penalizer,
        model_fits.fit_customers,
        model_fits.log_likelihood,
        model_fits.n_parameters,
        model_fits.aic,
        model_fits.bic,
        model_errors.holdout_customers,
        model_scores.holdout_log_likelihood,
        baseline_scores.poisson_baseline_log_likelihood_per_customer,
        model_errors.holdout_mae,
        model_errors.holdout_rmse,
        model_errors.predicted_holdout_purchases,
        model_errors.actual_holdout_purchases,
        baseline_errors.zero_baseline_mae,
        baseline_errors.zero_baseline_rmse,
        baseline_errors.rate_baseline_mae,
        baseline_errors.rate_baseline_rmse,
        baseline_errors.rate_baseline_predicted_purchases,
        model_scores.holdout_log_likelihood / model_scores.scored_customers
            as holdout_log_likelihood_per_customer,
        case
            when model_errors.actual_holdout_purchases > 0
                then 100.0
                    * (model_errors.predicted_holdout_purchases - model_errors.actual_holdout_purchases)
                    / model_errors.actual_holdout_purchases
        end as holdout_error_pct
    from model_fits
    left join model_errors
        on model_fits.dataset = model_errors.dataset
        and model_fits.model = model_errors.model
    left join model_scores
        on model_fits.dataset = model_scores.dataset
        and model_fits.model = model_scores.model
    left join baseline_errors
        on model_fits.dataset = baseline_errors.dataset
    left join baseline_scores
        on model_fits.dataset = baseline_scores.dataset
),

ranked as (
    select
        *,
        row_number() over (
            partition by dataset
            order by
                case when converged then 0 else 1 end asc,
                case when holdout_log_likelihood is null then 1 else 0 end asc,
                holdout_log_likelihood desc,
                bic asc
        ) as selection_rank
    from combined
),

final as (
    select
        dataset,
        model,
        converged,
        fit_message,
        cast(penalizer as {{ dbt.type_float() }}) as penalizer,
        cast(fit_customers as {{ dbt.type_bigint() }}) as fit_customers,
        cast(log_likelihood as {{ dbt.type_float() }}) as log_likelihood,
        cast(n_parameters as {{ dbt.type_int() }}) as n_parameters,
        cast(aic as {{ dbt.type_float() }}) as aic,
        cast(bic as {{ dbt.type_float() }}) as bic,
        cast(holdout_customers as {{ dbt.type_bigint() }}) as holdout_customers,
        cast(holdout_log_likelihood as {{ dbt.type_float() }}) as holdout_log_likelihood,
        cast(holdout_log_likelihood_per_customer as {{ dbt.type_float() }})
            as holdout_log_likelihood_per_customer,
        cast(holdout_mae as {{ dbt.type_float() }}) as holdout_mae,
        cast(holdout_rmse as {{ dbt.type_float() }}) as holdout_rmse,
        cast(predicted_holdout_purchases as {{ dbt.type_float() }}) as predicted_holdout_purchases,
        cast(actual_holdout_purchases as {{ dbt.type_bigint() }}) as actual_holdout_purchases,
        cast(holdout_error_pct as {{ dbt.type_float() }}) as holdout_error_pct,
        cast(poisson_baseline_log_likelihood_per_customer as {{ dbt.type_float() }})
            as poisson_baseline_log_likelihood_per_customer,
        cast(
            holdout_log_likelihood_per_customer - poisson_baseline_log_likelihood_per_customer
            as {{ dbt.type_float() }}
        ) as log_likelihood_lift_vs_poisson_baseline,
        cast(zero_baseline_mae as {{ dbt.type_float() }}) as zero_baseline_mae,
        cast(zero_baseline_rmse as {{ dbt.type_float() }}) as zero_baseline_rmse,
        cast(rate_baseline_mae as {{ dbt.type_float() }}) as rate_baseline_mae,
        cast(rate_baseline_rmse as {{ dbt.type_float() }}) as rate_baseline_rmse,
        cast(rate_baseline_predicted_purchases as {{ dbt.type_float() }}) as rate_baseline_predicted_purchases,
        cast(case when zero_baseline_mae > 0 then 1 - holdout_mae / zero_baseline_mae end as {{ dbt.type_float() }})
            as mae_lift_vs_zero_baseline,
        cast(case when rate_baseline_mae > 0 then 1 - holdout_mae / rate_baseline_mae end as {{ dbt.type_float() }})
            as mae_lift_vs_rate_baseline,
        cast(selection_rank as {{ dbt.type_int() }}) as selection_rank,
        selection_rank = 1 and converged as is_selected,
        case
            when holdout_log_likelihood is not null then 'highest holdout log-likelihood'
            else 'lowest BIC (no holdout)'
        end as selection_rule
    from ranked
)

select * from final
