{#-
    The typed columns of a model-parameter table, shared by cltv_model_parameters and
    cltv_validation_model_parameters (both read a Python model's long parameter table, whose
    text columns have no type of their own when it is empty).
-#}
{% macro crm_model_parameter_columns() -%}
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
{%- endmacro %}
