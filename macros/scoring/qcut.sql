{#-
    Quantile scores that equal pandas.qcut exactly (DESIGN.md section 4).

    pandas.qcut(x, q) takes the bin edges at the linearly interpolated quantiles 1/q, 2/q, ...
    of x (numpy's default, DuckDB's quantile_cont) and puts each value in the right-closed bin
    that holds it: bin k when edge_{k-1} < x <= edge_k. So a value's bin is 1 + the number of
    inner edges strictly below it. That rule also says what happens when edges coincide, where
    pandas raises "Bin edges must be unique": a value goes to the lowest bin that holds it, so
    when every value is equal, every value is in bin 1. `ntile(q)` is a different rule and gives
    different scores for most customer counts.
-#}

{#- Linear-interpolated quantile, numpy's default method. -#}
{% macro crm_quantile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('crm_quantile_cont', 'crm_analytics')(expression, fraction)) }}
{%- endmacro %}

{% macro default__crm_quantile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__crm_quantile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__crm_quantile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}


{#- The inner edges of `bins` quantile bins, as columns <prefix>_1 .. <prefix>_<bins-1>. -#}
{% macro crm_qcut_edges(expression, bins, prefix) -%}
    {%- for k in range(1, bins) %}
    {{ crm_quantile_cont(expression, (k / bins) | round(10)) }} as {{ prefix }}_{{ k }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The 1-based qcut bin of `expression` given the edge columns from crm_qcut_edges. -#}
{% macro crm_qcut_bin(expression, bins, prefix) -%}
    (1
    {%- for k in range(1, bins) %}
        + case when {{ expression }} > {{ prefix }}_{{ k }} then 1 else 0 end
    {%- endfor %})
{%- endmacro %}


{#-
    The A..D quartile segment of `expression` (A = top quartile), from the edge columns of
    crm_qcut_edges(expression, 4, prefix); null when the value is null.
-#}
{% macro crm_quartile_segment(expression, prefix) -%}
    case
        when {{ expression }} is null then null
        when {{ crm_qcut_bin(expression, 4, prefix) }} = 1 then 'D'
        when {{ crm_qcut_bin(expression, 4, prefix) }} = 2 then 'C'
        when {{ crm_qcut_bin(expression, 4, prefix) }} = 3 then 'B'
        else 'A'
    end
{%- endmacro %}
