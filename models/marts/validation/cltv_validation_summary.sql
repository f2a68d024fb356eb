{#-
    The public face of the model comparison: one row per dataset and transaction model of the
    backtest, computed in int_validation_models_compared (where the metrics and the selection
    rule live).
-#}
with

compared_models as (
    select * from {{ ref('int_validation_models_compared') }}
),

final as (
    select * from compared_models
)

select * from final
