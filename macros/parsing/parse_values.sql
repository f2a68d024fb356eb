{#-
    Text-to-type parsers used by staging. Each returns null when the value cannot be read as the
    type, so that staging can set the row aside with a reason instead of failing the build.
    DuckDB-specific pieces sit behind adapter.dispatch with a portable default.

    `source_type` is the column's type in the input (crm_input_types: a DuckDB type name such as
    'BIGINT'; null or 'VARCHAR' for text). A typed value is taken as it is, with the same checks
    the text would get (a whole number below 1e15, a finite number), so a Parquet file gives
    exactly the values its text would; any other type is cast to text and parsed, as before.
-#}

{#- The family of an input column type: text, integer, double, timestamp, timestamptz, date or other. -#}
{% macro crm_type_family(source_type) -%}
    {%- set name = (source_type or 'VARCHAR') | upper -%}
    {%- if name in ('VARCHAR', 'TEXT', 'STRING') -%}
        {{ return('text') }}
    {%- elif name in ('TINYINT', 'SMALLINT', 'INTEGER', 'INT', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT') -%}
        {{ return('integer') }}
    {%- elif name == 'DOUBLE' -%}
        {{ return('double') }}
    {%- elif name in ('TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS') -%}
        {{ return('timestamp') }}
    {%- elif name in ('TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ') -%}
        {{ return('timestamptz') }}
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
    {%- elif crm_type_family(source_type) == 'double' -%}
        {{ crm_double_text(column) }}
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


{#-
    A timestamp: ISO 'YYYY-MM-DD[ HH:MM[:SS]]', or the original UCI export's 'M/D/YYYY H:MM'.
    The time-zone rule (one for every machine): a timestamp that carries a zone (a Parquet
    TIMESTAMPTZ, or ISO text whose time ends in 'Z' or an offset such as '+02:00'; a bare date
    '2020-02-11' has none) is converted to the
    zone named by the var input_time_zone (default UTC) and its wall-clock time there is kept;
    a timestamp without a zone is taken as written. The machine's TZ never enters. An infinite
    timestamp ('infinity') reads as null (crm_is_non_finite_timestamp tells it apart).
-#}
{% macro crm_parse_timestamp(column, source_type=none) -%}
    {%- set family = crm_type_family(source_type) -%}
    {%- if family == 'timestamp' and target.type == 'spark' -%}
        {#- Spark: a wall-clock TIMESTAMP_NTZ column, as the session's (UTC) TIMESTAMP of the contracts -#}
        {%- set parsed = 'cast(' ~ column ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}
    {%- elif family == 'timestamp' -%}
        {%- set parsed = column -%}
    {%- elif family == 'timestamptz' -%}
        {%- set parsed = crm_timestamp_in_zone(column, var('input_time_zone')) -%}
    {%- elif family == 'date' -%}
        {%- set parsed = 'cast(' ~ column ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}
    {%- else -%}
        {%- set parsed = adapter.dispatch('crm_parse_timestamp', 'crm_analytics')(crm_raw_text(column, source_type)) -%}
    {%- endif -%}
    {{ return(crm_finite_or_null(parsed)) }}
{%- endmacro %}

{% macro default__crm_parse_timestamp(column) -%}
    {{ dbt.safe_cast(column, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__crm_parse_timestamp(column) -%}
    case
        when regexp_matches({{ column }}, ':[0-9][0-9]([.][0-9]*)?(Z|[+-][0-9][0-9](:?[0-9][0-9])?)$')
            then {{ crm_timestamp_in_zone('try_cast(' ~ column ~ ' as timestamptz)', var('input_time_zone')) }}
        else coalesce(
            try_cast({{ column }} as timestamp),
            try_strptime({{ column }}, '%m/%d/%Y %H:%M'),
            try_strptime({{ column }}, '%m/%d/%Y %H:%M:%S')
        )
    end
{%- endmacro %}


{#- A timestamp with a zone as the wall-clock time (a timestamp without zone) in `zone`. -#}
{% macro crm_timestamp_in_zone(column, zone) -%}
    {{ return(adapter.dispatch('crm_timestamp_in_zone', 'crm_analytics')(column, zone)) }}
{%- endmacro %}

{% macro default__crm_timestamp_in_zone(column, zone) -%}
    from_utc_timestamp({{ column }}, {{ crm_sql_string(zone) }})
{%- endmacro %}

{% macro duckdb__crm_timestamp_in_zone(column, zone) -%}
    timezone({{ crm_sql_string(zone) }}, {{ column }})
{%- endmacro %}


{#- The expression when it is a finite number or timestamp, else null (NaN, +/-infinity). -#}
{% macro crm_finite_or_null(expression) -%}
    case when {{ crm_is_finite(expression) }} then {{ expression }} end
{%- endmacro %}


{#-
    True when the value is written as, or typed as, a non-finite number: 'nan', 'inf',
    '-Infinity' and the like in text, NaN or +/-infinity in a DOUBLE column. Such a value is
    quarantined as non_finite_value rather than unparseable_value.
-#}
{% macro crm_is_non_finite_number(column, source_type=none) -%}
    {%- set family = crm_type_family(source_type) -%}
    {%- if family == 'double' -%}
        not {{ crm_is_finite(column) }}
    {%- elif family == 'integer' -%}
        false
    {%- else -%}
        not {{ crm_is_finite(dbt.safe_cast(crm_raw_text(column, source_type), dbt.type_float())) }}
    {%- endif -%}
{%- endmacro %}


{#- True when the value is an infinite timestamp ('infinity', '-infinity', typed or as text). -#}
{% macro crm_is_non_finite_timestamp(column, source_type=none) -%}
    {{ return(adapter.dispatch('crm_is_non_finite_timestamp', 'crm_analytics')(column, source_type)) }}
{%- endmacro %}

{% macro default__crm_is_non_finite_timestamp(column, source_type=none) -%}
    {%- set family = crm_type_family(source_type) -%}
    {%- if family in ('timestamp', 'timestamptz', 'date') -%}
        not {{ crm_is_finite(column) }}
    {%- else -%}
        not {{ crm_is_finite(dbt.safe_cast(crm_raw_text(column, source_type), dbt.type_timestamp())) }}
    {%- endif -%}
{%- endmacro %}


{#- A calendar date 'YYYY-MM-DD' (a timestamp's time of day is dropped). -#}
{% macro crm_parse_date(column, source_type=none) -%}
    cast({{ crm_parse_timestamp(column, source_type) }} as date)
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
    FLO's list-like category text as comma-delimited upper-case whole words, whatever the
    spelling: '[ERKEK, COCUK]', '["AKTIFSPOR"]', "['X', 'Y']", 'KADIN|COCUK', 'A;B' and a bare
    'KADIN' all give ',ERKEK,COCUK,'-like text, so that `like '%,COCUK,%'` matches COCUK and
    not AKTIFCOCUK. Brackets, quotes and spaces are dropped; '|' and ';' separate like ','.
-#}
{% macro crm_category_tokens(column) -%}
    {#- a namespace: a plain set inside the loop would not outlive it -#}
    {%- set built = namespace(text=dbt.replace(dbt.replace(column, "'|'", "','"), "';'", "','")) -%}
    {#- chr(39) is a quote on every engine ('''' is one on DuckDB, an error or '' elsewhere) -#}
    {%- for character in ["'['", "']'", "'\"'", "chr(39)", "' '"] -%}
        {%- set built.text = dbt.replace(built.text, character, "''") -%}
    {%- endfor -%}
    {{ dbt.concat(["','", "upper(" ~ built.text ~ ")", "','"]) }}
{%- endmacro %}


{#-
    True when a category list cannot be read as a list of names: after crm_category_tokens
    every token must be a name of letters, digits, '_', '&' or '-', with no empty token
    ('[]' is an empty list and reads). Such rows are quarantined as unparseable_value.
-#}
{% macro crm_is_unparseable_category_list(column) -%}
    {{ return(adapter.dispatch('crm_is_unparseable_category_list', 'crm_analytics')(column)) }}
{%- endmacro %}

{% macro default__crm_is_unparseable_category_list(column) -%}
    not (
        {{ crm_category_tokens(column) }} = ',,'
        or {{ crm_category_tokens(column) }} rlike '^,([A-Z0-9_&-]+,)+$'
    )
{%- endmacro %}

{% macro duckdb__crm_is_unparseable_category_list(column) -%}
    not (
        {{ crm_category_tokens(column) }} = ',,'
        or regexp_full_match({{ crm_category_tokens(column) }}, ',([A-Z0-9_&-]+,)+')
    )
{%- endmacro %}


{#-
    The largest magnitude a money value may have (a line's quantity x price, a customer
    summary's online or offline value): 1e15. Sums of up to a billion such values, their squares
    and cubes (the report's skewness) all stay finite in a double; a value beyond it is
    quarantined as value_out_of_range instead of turning a mart's numbers into inf or NaN.
-#}
{% macro crm_revenue_limit() -%}
    {{ return('1e15') }}
{%- endmacro %}


{#-
    Spark versions of the parsers. Spark's cast to timestamp reads ISO text (with or without a
    zone: a zone is converted to the session's UTC) but not 'M/D/YYYY H:MM', which
    try_to_timestamp reads with a Java pattern ('M', 'd' and 'H' take one or two digits, as
    DuckDB's %m, %d and %H do). Every function used is a try_ function: with ANSI mode on, a
    plain cast or to_timestamp of bad text would fail the query instead of giving null.
-#}
{% macro spark__crm_parse_timestamp(column) -%}
    case
        when {{ column }} rlike ':[0-9][0-9]([.][0-9]*)?(Z|[+-][0-9][0-9](:?[0-9][0-9])?)$'
            then {{ crm_timestamp_in_zone('try_cast(' ~ column ~ ' as timestamp)', var('input_time_zone')) }}
        else coalesce(
            try_cast({{ column }} as timestamp),
            try_to_timestamp({{ column }}, 'M/d/yyyy H:mm'),
            try_to_timestamp({{ column }}, 'M/d/yyyy H:mm:ss')
        )
    end
{%- endmacro %}


{#-
    Spark timestamps and dates have no infinite values, so a typed column never is one; text
    'infinity' (which DuckDB reads as an infinite timestamp and Spark as nothing) is recognised
    by its spelling, so that it is quarantined as non_finite_value on both engines.
-#}
{% macro spark__crm_is_non_finite_timestamp(column, source_type=none) -%}
    {%- set family = crm_type_family(source_type) -%}
    {%- if family in ('timestamp', 'timestamptz', 'date') -%}
        ({{ column }} is not null and false)
    {%- else -%}
        (lower(trim({{ crm_raw_text(column, source_type) }})) rlike '^[+-]?infinity$')
    {%- endif -%}
{%- endmacro %}


{#-
    A double as text the way DuckDB (and Python's repr) writes it: the shortest digits that read
    back as the same double, plain from 1e-4 up to 1e16 ('6.95', '1000000000000000.0'), else with
    an exponent of at least two digits ('1e+24', '1.5e-07'). Quarantine details quote values
    this way on every engine.
-#}
{% macro crm_double_text(expression) -%}
    {{ return(adapter.dispatch('crm_double_text', 'crm_analytics')(expression)) }}
{%- endmacro %}

{% macro default__crm_double_text(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{#-
    Spark (Java's Double.toString) writes the same digits but switches to an exponent outside
    [1e-3, 1e7) and writes it as '1.0E24': the digits and the exponent are taken apart and
    written again in DuckDB's form.
-#}
{% macro spark__crm_double_text(expression) -%}
    {%- set text = 'cast(' ~ expression ~ ' as string)' -%}
    {%- set pattern = "'^(-?)([0-9])[.]([0-9]+)E(-?[0-9]+)$'" -%}
    {%- set sign = 'regexp_extract(' ~ text ~ ', ' ~ pattern ~ ', 1)' -%}
    {%- set digits = "regexp_replace(concat(regexp_extract(" ~ text ~ ", " ~ pattern ~ ", 2), regexp_extract(" ~ text ~ ", " ~ pattern ~ ", 3)), '(.)0+$', '$1')" -%}
    {%- set exponent = 'cast(regexp_extract(' ~ text ~ ', ' ~ pattern ~ ', 4) as int)' -%}
    case
        when {{ text }} not like '%E%' then {{ text }}
        when {{ exponent }} between 7 and 15
            then concat(
                {{ sign }},
                substr(rpad({{ digits }}, {{ exponent }} + 1, '0'), 1, {{ exponent }} + 1),
                '.',
                coalesce(nullif(substr({{ digits }}, {{ exponent }} + 2), ''), '0')
            )
        when {{ exponent }} = -4
            then concat({{ sign }}, '0.000', {{ digits }})
        else concat(
            {{ sign }},
            substr({{ digits }}, 1, 1),
            case when length({{ digits }}) > 1 then concat('.', substr({{ digits }}, 2)) else '' end,
            'e',
            case when {{ exponent }} < 0 then '-' else '+' end,
            lpad(cast(abs({{ exponent }}) as string), 2, '0')
        )
    end
{%- endmacro %}
