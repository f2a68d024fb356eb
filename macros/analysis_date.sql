{#-
    The analysis_date var as a SQL date literal, or null when unset. A value that is not a real
    'YYYY-MM-DD' date fails the build with a message that names the var and the value.
-#}
{% macro crm_analysis_date_literal() %}
    {{ return(crm_date_var_literal('analysis_date')) }}
{% endmacro %}


{#- A date var ('YYYY-MM-DD' or null) as a SQL date literal; a bad value fails naming the var. -#}
{% macro crm_date_var_literal(var_name) %}
    {%- set value = var(var_name, none) -%}
    {%- if value is none or (value | string | trim) in ('', 'None', 'null') -%}
        {{ return('cast(null as date)') }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ var_name ~ "='" ~ text ~ "' is not a date in the form YYYY-MM-DD."
        ) }}
    {%- endif -%}
    {%- set parts = text.split('-') -%}
    {%- set year, month, day = parts[0] | int, parts[1] | int, parts[2] | int -%}
    {%- set days_in_month = [31, 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- if month < 1 or month > 12 or day < 1 or day > days_in_month[month - 1] -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ var_name ~ "='" ~ text ~ "' is not a calendar date."
        ) }}
    {%- endif -%}
    {{ return("cast('" ~ text ~ "' as date)") }}
{% endmacro %}


{#- Dataset names must be set and distinct: every mart keys its rows by them. -#}
{% macro crm_check_dataset_names() %}
    {%- set transactions = var('transactions_dataset') | string | trim -%}
    {%- set summaries = var('customer_summaries_dataset') | string | trim -%}
    {%- if transactions == '' or summaries == '' -%}
        {{ exceptions.raise_compiler_error(
            "vars transactions_dataset and customer_summaries_dataset must not be empty."
        ) }}
    {%- endif -%}
    {%- if transactions == summaries
        and (var('transactions_path') or '') | trim != ''
        and (var('customer_summaries_path') or '') | trim != '' -%}
        {{ exceptions.raise_compiler_error(
            "vars transactions_dataset and customer_summaries_dataset are both '" ~ transactions
            ~ "'; give the two inputs different dataset names."
        ) }}
    {%- endif -%}
{% endmacro %}
