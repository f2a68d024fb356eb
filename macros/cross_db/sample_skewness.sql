{#-
    The sample skewness of an expression as an aggregate: the adjusted Fisher-Pearson
    coefficient G1 = g1 x sqrt(n (n - 1)) / (n - 2), where g1 = m3 / m2^1.5 from the central
    moments (pandas' Series.skew). Null for fewer than 3 values. DuckDB's skewness() is G1;
    Spark's skewness() is g1, so the Spark version applies the factor; elsewhere the moments
    come from the power sums, as DuckDB computes them.
-#}
{% macro crm_sample_skewness(expression) -%}
    {{ return(adapter.dispatch('crm_sample_skewness', 'crm_analytics')(expression)) }}
{%- endmacro %}

{% macro default__crm_sample_skewness(expression) -%}
    case
        when count({{ expression }}) > 2
            and avg(power({{ expression }}, 2)) - power(avg({{ expression }}), 2) > 0
            then sqrt(count({{ expression }}) * (count({{ expression }}) - 1.0))
            / (count({{ expression }}) - 2.0)
            * (
                avg(power({{ expression }}, 3))
                - 3 * avg(power({{ expression }}, 2)) * avg({{ expression }})
                + 2 * power(avg({{ expression }}), 3)
            )
            / power(avg(power({{ expression }}, 2)) - power(avg({{ expression }}), 2), 1.5)
    end
{%- endmacro %}

{% macro duckdb__crm_sample_skewness(expression) -%}
    skewness({{ expression }})
{%- endmacro %}

{% macro spark__crm_sample_skewness(expression) -%}
    case
        when count({{ expression }}) > 2
            then skewness({{ expression }})
            * sqrt(count({{ expression }}) * (count({{ expression }}) - 1.0))
            / (count({{ expression }}) - 2.0)
    end
{%- endmacro %}
