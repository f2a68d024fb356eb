{#-
    dbt-duckdb leaves dbt.safe_cast at dbt's default, a plain cast that fails the whole query on
    one bad value. DuckDB's try_cast returns null instead, which is what safe_cast promises
    (and what it does on Snowflake, BigQuery and Spark). Found through the dispatch config in
    dbt_project.yml.
-#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}


{#-
    dbt-duckdb maps dbt.type_float() to FLOAT, which DuckDB stores in 4 bytes (about 7 digits):
    83.4 comes back as 83.40000152587891. Money and model inputs need 8-byte doubles.
-#}
{% macro duckdb__type_float() -%}
    double
{%- endmacro %}


{#-
    A sum of doubles that does not depend on the order of the rows: DuckDB's fsum is
    compensated (Kahan-Babuska), so 16 lines adding up to 307.95 give 307.95 and not
    307.95000000000005 depending on how the scan was split. Quantile scores compare values
    with bin edges taken from the same values, so a last-bit difference can move a customer
    across an edge. Other databases fall back to sum.
-#}
{% macro crm_sum_precise(expression) -%}
    {{ return(adapter.dispatch('crm_sum_precise', 'crm_analytics')(expression)) }}
{%- endmacro %}

{% macro default__crm_sum_precise(expression) -%}
    sum({{ expression }})
{%- endmacro %}

{% macro duckdb__crm_sum_precise(expression) -%}
    fsum({{ expression }})
{%- endmacro %}


{#- True for a finite number (not NaN, not +/-infinity). -#}
{% macro crm_is_finite(expression) -%}
    {{ return(adapter.dispatch('crm_is_finite', 'crm_analytics')(expression)) }}
{%- endmacro %}

{% macro default__crm_is_finite(expression) -%}
    ({{ expression }} = {{ expression }} and abs({{ expression }}) < 1e308)
{%- endmacro %}

{% macro duckdb__crm_is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}


{#-
    The course's capping limit of a column, per group: q_high + multiplier x (q_high - q_low)
    with linear quantiles (vars outlier_upper_quantile, outlier_lower_quantile,
    outlier_range_multiplier). On DuckDB both quantiles come from one quantile_cont state
    (a list of fractions), so the column's values are held once, not twice; the quantiles are
    the same as two separate calls.
-#}
{% macro crm_capping_limit(expression) -%}
    {{ return(adapter.dispatch('crm_capping_limit', 'crm_analytics')(expression)) }}
{%- endmacro %}

{% macro default__crm_capping_limit(expression) -%}
    {{ crm_quantile_cont(expression, var('outlier_upper_quantile')) }}
    + {{ var('outlier_range_multiplier') }} * (
        {{ crm_quantile_cont(expression, var('outlier_upper_quantile')) }}
        - {{ crm_quantile_cont(expression, var('outlier_lower_quantile')) }}
    )
{%- endmacro %}

{% macro duckdb__crm_capping_limit(expression) -%}
    {%- set quantiles = 'quantile_cont(' ~ expression ~ ', ['
        ~ var('outlier_lower_quantile') ~ ', ' ~ var('outlier_upper_quantile') ~ '])' -%}
    {{ quantiles }}[2] + {{ var('outlier_range_multiplier') }} * ({{ quantiles }}[2] - {{ quantiles }}[1])
{%- endmacro %}
