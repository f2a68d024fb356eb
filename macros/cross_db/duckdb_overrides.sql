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
