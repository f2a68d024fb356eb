{{ config(severity=var('validation_gate_severity')) }}
{#-
    Quality gate: the transaction model behind cltv_predictions (the transaction_model var, or
    the selected one when it is `auto`) must have a lower holdout MAE than both naive
    baselines - predicting no purchases, and carrying each customer's calibration rate
    forward. Returns the datasets where it does not. Severity: validation_gate_severity.
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
        holdout_mae,
        zero_baseline_mae,
        rate_baseline_mae
    from chosen
    where holdout_mae is not null
        and (holdout_mae >= zero_baseline_mae or holdout_mae >= rate_baseline_mae)
)

select * from final
