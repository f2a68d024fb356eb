with

fits as (
    select * from {{ ref('cltv_validation_fits') }}
),

final as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        cast(model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        cast(parameter as {{ dbt.type_string() }}) as parameter,
        cast(estimate as {{ dbt.type_float() }}) as estimate,
        cast(standard_error as {{ dbt.type_float() }}) as standard_error,
        cast(ci_lower as {{ dbt.type_float() }}) as ci_lower,
        cast(ci_upper as {{ dbt.type_float() }}) as ci_upper,
        cast(log_likelihood as {{ dbt.type_float() }}) as log_likelihood,
        cast(n_customers as {{ dbt.type_bigint() }}) as n_customers,
        cast(converged as {{ dbt.type_boolean() }}) as converged,
        cast(penalizer as {{ dbt.type_float() }}) as penalizer,
        cast(attempts as {{ dbt.type_int() }}) as attempts,
        cast(fit_message as {{ dbt.type_string() }}) as fit_message
    from fits
)

select * from final
