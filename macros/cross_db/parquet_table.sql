{#-
    materialized='parquet_table': a table stored as a Parquet file beside the database, read
    through a view of the model's name. For every SQL table built from the invoice lines with a
    row per customer or more (millions of rows at 100 M invoice lines): DuckDB writes them to
    Parquet (zstd) in a third to two thirds of the CPU time it needs to compress them into its
    own format (text columns dominate: 78 M rows of rfm_monthly, 49 s of CPU into a table, 25 s
    into Parquet; 21 M orders, 29 s and 19 s; 16 M customer-months, 8.7 s and 5.5 s; the
    6.3 M-row customer tables, 3.8 to 6.2 s and 1.7 to 4.3 s), and downstream models scan
    either equally fast. Python models stay tables (this materialization runs SQL only), and so
    do the small ones: a file per table of a few thousand rows would save nothing. zstd at
    level 1, not DuckDB's default 3: 15 to 20 % less CPU for the writer, files within 8 % of
    the size (the 99 M-line table 876 MB against 890 MB and 54.8 s of CPU against 58.2 s; 16 M
    customer-months 394 MB against 366 MB, 7.5 s against 9.5 s).
    The file is <database file>.<model name>.parquet (the database's
    absolute path, so the view works from any directory); it is replaced on every build.
    An enforced contract is checked before anything is written, as the table materialization
    checks it (column names and types of the query against the YAML, columns written in the
    YAML's order), and again on the view once written, for a type Parquet does not keep; a
    Parquet file has no constraints to enforce, so a model that declares one is refused.

    Spark builds its own table, a Parquet table already; other adapters an ordinary table.
-#}
{% materialization parquet_table, adapter='duckdb' %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set location = crm_parquet_table_location(this) -%}

    {#- the contract is checked before anything is dropped or written -#}
    {%- set select_sql = sql -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config and contract_config.enforced -%}
        {%- set constraint_types = [] -%}
        {%- for constraint in model.get('constraints', []) -%}
            {%- do constraint_types.append(constraint.type) -%}
        {%- endfor -%}
        {%- for column in model.get('columns', {}).values() -%}
            {%- for constraint in column.get('constraints', []) -%}
                {%- do constraint_types.append(constraint.type) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if constraint_types -%}
            {{ exceptions.raise_compiler_error(
                "model " ~ this.identifier ~ " (materialized='parquet_table') declares constraints "
                ~ constraint_types | join(', ') ~ ": a Parquet file cannot enforce them; "
                ~ "materialize it as a table or drop the constraints") }}
        {%- endif -%}
        {{ get_assert_columns_equivalent(sql) }}
        {%- set select_sql = get_select_subquery(sql) -%}
    {%- endif %}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is not none and existing_relation.type != 'view' -%}
        {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}

    {% call statement('main') -%}
        copy ({{ select_sql }}) to {{ crm_sql_string(location) }}
            (format parquet, compression zstd, compression_level 1);
        create or replace view {{ target_relation }} as
            select * from read_parquet({{ crm_sql_string(location) }});
    {%- endcall %}

    {#- and again on the view, for a type Parquet does not keep (HUGEINT comes back DOUBLE) -#}
    {%- if contract_config and contract_config.enforced -%}
        {{ get_assert_columns_equivalent('select * from ' ~ target_relation) }}
    {%- endif %}

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
