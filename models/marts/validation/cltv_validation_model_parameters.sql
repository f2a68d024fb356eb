with

fits as (
    select * from {{ ref('int_validation_models_fitted') }}
),

final as (
    select
        {{ crm_model_parameter_columns() }}
    from fits
)

select * from final
