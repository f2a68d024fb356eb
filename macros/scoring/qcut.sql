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


{#-
    The linearly interpolated quantile at fractions[index] (0-based) of an expression whose
    quantiles at all of `fractions` are wanted in one select: DuckDB computes one
    quantile_cont over the list of fractions (the same values, one pass over the group's values
    instead of one per fraction; identical list aggregates are computed once), Spark one
    percentile over an array; elsewhere one aggregate per fraction.
-#}
{% macro crm_quantile_cont_of_many(expression, fractions, index) -%}
    {{ return(adapter.dispatch('crm_quantile_cont_of_many', 'crm_analytics')(expression, fractions, index)) }}
{%- endmacro %}

{% macro default__crm_quantile_cont_of_many(expression, fractions, index) -%}
    {{ crm_quantile_cont(expression, fractions[index]) }}
{%- endmacro %}

{% macro duckdb__crm_quantile_cont_of_many(expression, fractions, index) -%}
    quantile_cont({{ expression }}, [{{ fractions | join(', ') }}])[{{ index + 1 }}]
{%- endmacro %}

{% macro spark__crm_quantile_cont_of_many(expression, fractions, index) -%}
    percentile({{ expression }}, array({{ fractions | join(', ') }}))[{{ index }}]
{%- endmacro %}


{#-
    The inner edges of `bins` quantile bins, as columns <prefix>_1 .. <prefix>_<bins-1>.
    together=true computes them in one aggregate where the database can
    (crm_quantile_cont_of_many): the same values, cheaper on large groups.
-#}
{% macro crm_qcut_edges(expression, bins, prefix, together=false) -%}
    {%- set fractions = [] -%}
    {%- for k in range(1, bins) %}{% do fractions.append((k / bins) | round(10)) %}{% endfor -%}
    {%- for fraction in fractions %}
    {%- if together %}
    {{ crm_quantile_cont_of_many(expression, fractions, loop.index0) }} as {{ prefix }}_{{ loop.index }}{{ ',' if not loop.last }}
    {%- else %}
    {{ crm_quantile_cont(expression, fraction) }} as {{ prefix }}_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endif %}
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
    The 1-based qcut bin of a rank among the ranks 1..n with ties already broken (pandas
    qcut(x.rank(method="first"), bins)): the linearly interpolated quantiles of 1..n are exactly
    1 + (n - 1) k / bins, so rank > edge_k <=> bins (rank - 1) > (n - 1) k. Whole numbers only,
    no quantile aggregate over the ranks; the same bins as crm_qcut_bin over
    crm_qcut_edges(rank, bins, ...). (Floating-point edges agree: (n - 1) k / bins, computed as
    (n - 1) x (k / bins), rounds to the whole number whenever it is one, and is at least 1 / bins
    away from one otherwise.)
-#}
{% macro crm_qcut_rank_bin(rank, count, bins) -%}
    (1
    {%- for k in range(1, bins) %}
        + case when {{ bins }} * ({{ rank }} - 1) > ({{ count }} - 1) * {{ k }} then 1 else 0 end
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
