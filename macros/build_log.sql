{#-
    The build log: one row when a dbt invocation that writes tables starts and one when it ends,
    in the table crm_build_log of the build database. `make publish` reads it to publish only
    the database of the last invocation that finished, completely and successfully: a build
    that was killed leaves a start row without an end row, a failed one ends `failed`.
    Append-only (no update), so it works on engines without row updates.
-#}
{% macro crm_build_log_enabled() %}
    {{ return(flags.WHICH in ['build', 'run', 'seed', 'snapshot']) }}
{% endmacro %}


{% macro crm_build_log_create() %}
    {%- if crm_build_log_enabled() -%}
        {#- Spark: dbt creates the target schema after on-run-start, DuckDB's main always exists -#}
        {%- if execute and target.type == 'spark' -%}
            {%- do run_query('create schema if not exists ' ~ target.schema) -%}
        {%- endif -%}
        create table if not exists {{ target.schema }}.crm_build_log (
            invocation_id {{ dbt.type_string() }},
            command {{ dbt.type_string() }},
            event {{ dbt.type_string() }},
            logged_at {{ dbt.type_timestamp() }}
        )
    {%- endif -%}
{% endmacro %}


{% macro crm_build_log_write(event) %}
    {%- if crm_build_log_enabled() -%}
        insert into {{ target.schema }}.crm_build_log (invocation_id, command, event, logged_at)
        values (
            {{ crm_sql_string(invocation_id) }},
            {{ crm_sql_string(flags.WHICH) }},
            {{ crm_sql_string(event) }},
            cast({{ crm_sql_string(modules.datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M:%S.%f')) }}
                as {{ dbt.type_timestamp() }})
        )
    {%- endif -%}
{% endmacro %}


{#- `success` when no node of the invocation errored, failed or was skipped for an upstream failure. -#}
{% macro crm_build_outcome(results) %}
    {%- set failed = [] -%}
    {%- for result in results -%}
        {%- if (result.status | string | lower) in ['error', 'fail', 'runtime error', 'skipped', 'partial success'] -%}
            {%- do failed.append(result) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('failed' if failed else 'success') }}
{% endmacro %}
