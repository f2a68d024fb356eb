{#-
    materialized='parquet_table': a table stored as a Parquet file beside the database, read
    through a view of the model's name. For the one line-level table: DuckDB writes 100 million
    lines to Parquet (zstd) in about 60 % of the CPU time it needs to compress them into its own
    format (the dictionary analysis of every text column dominates), and downstream models scan
    either equally fast. The file is <database file>.<model name>.parquet (the database's
    absolute path, so the view works from any directory); it is replaced on every build.

    Spark builds its own table, a Parquet table already; other adapters an ordinary table.
-#}
{% materialization parquet_table, adapter='duckdb' %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set location = crm_parquet_table_location(this) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is not none and existing_relation.type != 'view' -%}
        {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}

    {% call statement('main') -%}
        copy ({{ sql }}) to {{ crm_sql_string(location) }} (format parquet, compression zstd);
        create or replace view {{ target_relation }} as
            select * from read_parquet({{ crm_sql_string(location) }});
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- Spark: dbt-spark's own table materialisation (a Parquet table, file_format in dbt_project.yml) -#}
{% materialization parquet_table, adapter='spark' %}
    {{ return(materialization_table_spark()) }}
{% endmaterialization %}


{% materialization parquet_table, default %}
    {{ return(materialization_table_default()) }}
{% endmaterialization %}


{#- The Parquet file of a parquet_table model: beside the database file, named after the model. -#}
{% macro crm_parquet_table_location(relation) -%}
    {%- set database_path = run_query(
        "select path from duckdb_databases() where database_name = current_database()"
    ).columns[0].values()[0] -%}
    {{ return(database_path ~ '.' ~ relation.identifier ~ '.parquet') }}
{%- endmacro %}
