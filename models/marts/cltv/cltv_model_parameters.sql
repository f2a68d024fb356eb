with

model_fits as (
    select * from {{ ref('int_btyd_models_fitted') }}
),

final as (
    select
        cast(n_rows as {{ dbt.type_bigint() }}) as n_rows,
        {{ crm_model_parameter_columns() }}
    from model_fits
)

select * from final
