{{ config(severity=var('validation_gate_severity')) }}
{#-
    Quality gate: the chosen transaction model's total holdout forecast is within
    max_holdout_forecast_error_pct percent of the actual holdout purchases. Returns the
    datasets where it is not. Severity: validation_gate_severity.
-#}
with

summary as (
    select * from {{ ref('cltv_validation_summary') }}
),

chosen_models as (
    select * from {{ ref('int_transaction_models_chosen') }}
),

chosen as (
    select summary.*
    from summary
    inner join chosen_models
        on summary.dataset = chosen_models.dataset
        and summary.model = chosen_models.transaction_model
),

final as (
    select
        dataset,
        model,
        predicted_holdout_purchases,
        actual_holdout_purchases,
        holdout_error_pct
    from chosen
    where abs(holdout_error_pct) > {{ var('max_holdout_forecast_error_pct') }}
)

select * from final
