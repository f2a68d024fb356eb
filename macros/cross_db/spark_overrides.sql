{#-
    Spark (dbt-spark) versions of dbt's cross-database macros, where dbt-spark's own give other
    values than DuckDB does. Found through the dispatch config in dbt_project.yml, like
    duckdb_overrides.sql. Each one says what dbt-spark's version would get wrong.
-#}

{#-
    dbt-spark's safe_cast is a plain cast: with ANSI mode on (Spark 4's default) one bad value
    fails the whole query. try_cast returns null, as DuckDB's try_cast does.
-#}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}


{#- dbt-spark maps type_float to FLOAT (4 bytes): 83.4 came back as 83.4000015. -#}
{% macro spark__type_float() -%}
    double
{%- endmacro %}


{#-
    dbt-spark's datediff('day') is Spark's datediff, an int (the contracts say bigint, DuckDB's
    date_diff type), and its 'month' counts whole months between the days; DuckDB (and dbt's
    default) counts the month boundaries crossed: 2010-01-31 -> 2010-02-01 is 1 month.
-#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- if datepart == 'day' -%}
        cast(datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) as bigint)
    {%- elif datepart == 'month' -%}
        cast(
            (year({{ second_date }}) - year({{ first_date }})) * 12
            + month({{ second_date }}) - month({{ first_date }})
        as bigint)
    {%- elif datepart == 'year' -%}
        cast(year({{ second_date }}) - year({{ first_date }}) as bigint)
    {%- else -%}
        {{ exceptions.raise_compiler_error("spark__datediff: datepart " ~ datepart ~ " is not used by this project") }}
    {%- endif -%}
{%- endmacro %}


{#-
    dbt-spark's listagg drops the order by (a warning, then collect_list in whatever order the
    rows arrive). Sorting the collected values gives dbt's default for an `order by <measure>`,
    the only ordering this project uses.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause and (order_by_clause | trim | lower) != ('order by ' ~ measure) | lower -%}
        {{ exceptions.raise_compiler_error(
            "spark__listagg: only 'order by " ~ measure ~ "' is supported, got '" ~ order_by_clause ~ "'"
        ) }}
    {%- endif -%}
    array_join(
        {%- if limit_num %} slice(array_sort(collect_list({{ measure }})), 1, {{ limit_num }})
        {%- else %} array_sort(collect_list({{ measure }}))
        {%- endif %},
        {{ delimiter_text }}
    )
{%- endmacro %}


{#-
    A Spark string literal: Spark reads a backslash as an escape character and 'a''b' as two
    literals 'a' 'b' (concatenated: ab), so a quote or a backslash is escaped with a backslash.
-#}
{% macro spark__crm_sql_string(value) -%}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{#-
    A sum that does not depend on the order of the rows or the partitioning: each double is
    taken as a decimal with 18 places (exact to far below a cent for values under 1e15, the
    revenue limit) and summed exactly, and the exact sum is rounded to a double once. DuckDB's
    fsum (compensated) gives the same correctly rounded sums on the project's data. A sum of
    1e20 or more overflows decimal(38, 18): an error with ANSI mode on, null with it off (money
    values are below 1e15 a line, see crm_revenue_limit).
-#}
{% macro spark__crm_sum_precise(expression, window=none) -%}
    cast(sum(cast({{ expression }} as decimal(38, 18))){% if window is not none %} over ({{ window }}){% endif %} as double)
{%- endmacro %}


{#-
    Spark has no isfinite, and NaN equals itself in Spark SQL, so the default's `x = x` does not
    find it: isnan and a comparison with infinity, on the value as a double (a timestamp gives its
    epoch seconds, always finite: Spark timestamps have no infinity). Null for null, as isfinite.
-#}
{% macro spark__crm_is_finite(expression) -%}
    (not isnan(try_cast({{ expression }} as double)) and abs(try_cast({{ expression }} as double)) < double('Infinity'))
{%- endmacro %}


{#- Spark's max_by over a struct of the order columns. -#}
{% macro spark__crm_value_at_max(value, order_columns) -%}
    max_by({{ value }}, struct({{ order_columns | join(', ') }}))
{%- endmacro %}


{#- Spark keeps no insertion order to switch on or off: the readers number rows by file position. -#}
{% macro spark__crm_scan_order(keep) -%}
{%- endmacro %}


{#-
    The fit-sample hash on Spark: the same number as default__crm_customer_hash_fraction (the
    first 13 hex digits of an MD5, over 2^52), read with conv() since Spark casts no '0x' text.
-#}
{% macro spark__crm_customer_hash_fraction(dataset, customer_id) -%}
    (cast(cast(conv(substr(md5({{ dataset }} || '|' || {{ customer_id }}), 1, 13), 16, 10) as bigint) as double) / 4503599627370496.0)
{%- endmacro %}


{#- Java regular expressions: `$1` in the replacement (the default's `\1` is DuckDB's / RE2's). -#}
{% macro spark__crm_is_unparseable_category_list(column) -%}
    not (
        {{ crm_category_tokens(column) }} = ',,'
        or {{ crm_category_tokens(column) }} rlike '^,([A-Z0-9_&-]+,)+$'
    )
{%- endmacro %}
