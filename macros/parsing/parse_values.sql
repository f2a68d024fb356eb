{#-
    Text-to-type parsers used by staging. Each returns null when the value cannot be read as the
    type, so that staging can set the row aside with a reason instead of failing the build.
    DuckDB-specific pieces sit behind adapter.dispatch with a portable default.

    `source_type` is the column's type in the input (crm_input_types: a DuckDB type name such as
    'BIGINT'; null or 'VARCHAR' for text). A typed value is taken as it is, with the same checks
    the text would get (a whole number below 1e15, a finite number), so a Parquet file gives
    exactly the values its text would; any other type is cast to text and parsed, as before.
-#}

{#- The family of an input column type: text, integer, double, timestamp, date or other. -#}
{% macro crm_type_family(source_type) -%}
    {%- set name = (source_type or 'VARCHAR') | upper -%}
    {%- if name in ('VARCHAR', 'TEXT', 'STRING') -%}
        {{ return('text') }}
    {%- elif name in ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT') -%}
        {{ return('integer') }}
    {%- elif name == 'DOUBLE' -%}
        {{ return('double') }}
    {%- elif name == 'TIMESTAMP' -%}
        {{ return('timestamp') }}
    {%- elif name == 'DATE' -%}
        {{ return('date') }}
    {%- else -%}
        {{ return('other') }}
    {%- endif -%}
{%- endmacro %}


{#- The value as text, as a text reader would have given it. -#}
{% macro crm_raw_text(column, source_type=none) -%}
    {%- if crm_type_family(source_type) == 'text' -%}
        {{ column }}
    {%- else -%}
        cast({{ column }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#- True when the value is missing: null, or (text) empty or blank. -#}
{% macro crm_is_missing(column, source_type=none) -%}
    {%- if crm_type_family(source_type) == 'text' -%}
        {{ crm_blank_to_null(column) }} is null
    {%- else -%}
        {{ column }} is null
    {%- endif -%}
{%- endmacro %}


{#- A finite number (rejects NaN and +/-infinity). -#}
{% macro crm_parse_number(column, source_type=none) -%}
    {%- set family = crm_type_family(source_type) -%}
    {%- if family == 'double' -%}
        case when abs({{ column }}) < 1e300 then {{ column }} end
    {%- elif family == 'integer' -%}
        cast({{ column }} as {{ dbt.type_float() }})
    {%- else -%}
        {%- set text = crm_raw_text(column, source_type) -%}
    case
        when abs({{ dbt.safe_cast(text, dbt.type_float()) }}) < 1e300
            then {{ dbt.safe_cast(text, dbt.type_float()) }}
    end
    {%- endif -%}
{%- endmacro %}


{#- A whole number: '6' and '6.0' read as 6; '6.5' is not a whole number and reads as null. -#}
{% macro crm_parse_integer(column, source_type=none) -%}
    {%- set family = crm_type_family(source_type) -%}
    {%- if family == 'integer' -%}
        case when abs({{ column }}) < 1e15 then cast({{ column }} as {{ dbt.type_bigint() }}) end
    {%- elif family == 'double' -%}
        case
            when abs({{ column }}) < 1e15 and {{ column }} = floor({{ column }})
                then cast({{ column }} as {{ dbt.type_bigint() }})
        end
    {%- else -%}
        {%- set text = crm_raw_text(column, source_type) -%}
    case
        when abs({{ dbt.safe_cast(text, dbt.type_float()) }}) < 1e15
            and {{ dbt.safe_cast(text, dbt.type_float()) }}
            = floor({{ dbt.safe_cast(text, dbt.type_float()) }})
            then cast({{ dbt.safe_cast(text, dbt.type_float()) }} as {{ dbt.type_bigint() }})
    end
    {%- endif -%}
{%- endmacro %}


{#- A timestamp: ISO 'YYYY-MM-DD[ HH:MM[:SS]]', or the original UCI export's 'M/D/YYYY H:MM'. -#}
{% macro crm_parse_timestamp(column, source_type=none) -%}
    {%- set family = crm_type_family(source_type) -%}
    {%- if family == 'timestamp' -%}
        {{ column }}
    {%- elif family == 'date' -%}
        cast({{ column }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        {{ return(adapter.dispatch('crm_parse_timestamp', 'crm_analytics')(crm_raw_text(column, source_type))) }}
    {%- endif -%}
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
    such values are read back as '12346'. Anything else is kept as written (trimmed). A typed
    integer id is its decimal text.
-#}
{% macro crm_normalize_id(column, source_type=none) -%}
    {%- if crm_type_family(source_type) == 'integer' -%}
        cast({{ column }} as {{ dbt.type_string() }})
    {%- else -%}
        {{ return(adapter.dispatch('crm_normalize_id', 'crm_analytics')(crm_raw_text(column, source_type))) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__crm_normalize_id(column) -%}
    nullif(regexp_replace(trim({{ column }}), '^([0-9]+)[.]0+$', '\1'), '')
{%- endmacro %}

{% macro spark__crm_normalize_id(column) -%}
    nullif(regexp_replace(trim({{ column }}), '^([0-9]+)[.]0+$', '$1'), '')
{%- endmacro %}


{#- Empty or blank text is a missing value. -#}
{% macro crm_blank_to_null(column, source_type=none) -%}
    nullif(trim({{ crm_raw_text(column, source_type) }}), '')
{%- endmacro %}


{#-
    FLO's list-like category text as comma-delimited whole words: '[ERKEK, COCUK]' becomes
    ',ERKEK,COCUK,' so that `like '%,COCUK,%'` matches COCUK and not AKTIFCOCUK.
-#}
{% macro crm_category_tokens(column) -%}
    {%- set stripped = dbt.replace(dbt.replace(dbt.replace(column, "'['", "''"), "']'", "''"), "' '", "''") -%}
    {{ dbt.concat(["','", stripped, "','"]) }}
{%- endmacro %}
