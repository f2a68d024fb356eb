{#-
    Text-to-type parsers used by staging. Each returns null when the text cannot be read as the
    type, so that staging can set the row aside with a reason instead of failing the build.
    DuckDB-specific pieces sit behind adapter.dispatch with a portable default.
-#}

{#- A finite number (rejects NaN and +/-infinity). -#}
{% macro crm_parse_number(column) -%}
    case
        when abs({{ dbt.safe_cast(column, dbt.type_float()) }}) < 1e300
            then {{ dbt.safe_cast(column, dbt.type_float()) }}
    end
{%- endmacro %}


{#- A whole number: '6' and '6.0' read as 6; '6.5' is not a whole number and reads as null. -#}
{% macro crm_parse_integer(column) -%}
    case
        when abs({{ dbt.safe_cast(column, dbt.type_float()) }}) < 1e15
            and {{ dbt.safe_cast(column, dbt.type_float()) }}
            = floor({{ dbt.safe_cast(column, dbt.type_float()) }})
            then cast({{ dbt.safe_cast(column, dbt.type_float()) }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}


{#- A timestamp: ISO 'YYYY-MM-DD[ HH:MM[:SS]]', or the original UCI export's 'M/D/YYYY H:MM'. -#}
{% macro crm_parse_timestamp(column) -%}
    {{ return(adapter.dispatch('crm_parse_timestamp', 'crm_analytics')(column)) }}
{%- endmacro %}

{% macro default__crm_parse_timestamp(column) -%}
    {{ dbt.safe_cast(column, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__crm_parse_timestamp(column) -%}
    coalesce(
        try_cast({{ column }} as timestamp),
        try_strptime({{ column }}, '%m/%d/%Y %H:%M'),
        try_strptime({{ column }}, '%m/%d/%Y %H:%M:%S')
    )
{%- endmacro %}


{#- A calendar date 'YYYY-MM-DD' (a timestamp's time of day is dropped). -#}
{% macro crm_parse_date(column) -%}
    cast({{ crm_parse_timestamp(column) }} as date)
{%- endmacro %}


{#-
    Customer ids are text. Spreadsheet and pandas exports turn 12346 into '12346.0';
    such values are read back as '12346'. Anything else is kept as written (trimmed).
-#}
{% macro crm_normalize_id(column) -%}
    {{ return(adapter.dispatch('crm_normalize_id', 'crm_analytics')(column)) }}
{%- endmacro %}

{% macro default__crm_normalize_id(column) -%}
    nullif(regexp_replace(trim({{ column }}), '^([0-9]+)[.]0+$', '\1'), '')
{%- endmacro %}

{% macro spark__crm_normalize_id(column) -%}
    nullif(regexp_replace(trim({{ column }}), '^([0-9]+)[.]0+$', '$1'), '')
{%- endmacro %}


{#- Empty or blank text is a missing value. -#}
{% macro crm_blank_to_null(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}


{#-
    FLO's list-like category text as comma-delimited whole words: '[ERKEK, COCUK]' becomes
    ',ERKEK,COCUK,' so that `like '%,COCUK,%'` matches COCUK and not AKTIFCOCUK.
-#}
{% macro crm_category_tokens(column) -%}
    {%- set stripped = dbt.replace(dbt.replace(dbt.replace(column, "'['", "''"), "']'", "''"), "' '", "''") -%}
    {{ dbt.concat(["','", stripped, "','"]) }}
{%- endmacro %}
