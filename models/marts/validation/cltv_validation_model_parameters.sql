with

fits as (
    select * from {{ ref('cltv_validation_fits') }}
),

final as (
    select
        {{ crm_model_parameter_columns() }}
    from fits
)

select * from final
