with

model_fits as (
    select * from {{ ref('int_btyd_models_fitted') }}
),

final as (
    select
        cast(n_rows as {{ dbt.type_bigint() }}) as n_rows,
        {{ crm_model_parameter_columns() }},
        cast(relative_standard_error as {{ dbt.type_float() }}) as relative_standard_error,
        cast(weakly_identified as {{ dbt.type_boolean() }}) as weakly_identified,
        cast(identification_note as {{ dbt.type_string() }}) as identification_note
    from model_fits
)

select * from final
