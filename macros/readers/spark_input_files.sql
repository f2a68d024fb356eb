{#-
    The Spark versions of the file readers (macros/readers/input_files.sql): Spark SQL reads a
    file or glob with `csv.`path`` / `parquet.`path`` and options in `with (...)`, and gives
    each row's file in the hidden column _metadata. They return the columns the DuckDB table
    functions give (filename, file_index, file_row_number / _crm_scan_position), so the reader
    above them is the same on both engines.
-#}

{#-
    CSV: every value as text (no schema inference), the header row as names, RFC 4180 quoting
    as DuckDB reads it ('"' escapes a quote; Spark's default escape is a backslash), quoted line
    breaks inside values (multiLine, which also keeps each file in one partition, in file order).
    Parquet: the file's own types; mergeSchema reads a glob of files whose columns differ, as
    DuckDB's union_by_name.
-#}
{% macro spark__crm_file_sql(path, kind) -%}
    {%- if kind == 'csv' -%}
        csv.`{{ crm_spark_path(path) }}` with (
            'header' = 'true',
            'inferSchema' = 'false',
            'multiLine' = 'true',
            'quote' = '"',
            'escape' = '"',
            'encoding' = 'UTF-8',
            'mode' = 'PERMISSIVE'
        )
    {%- elif kind == 'parquet' -%}
        parquet.`{{ crm_spark_path(path) }}` with ('mergeSchema' = 'true')
    {%- endif -%}
{%- endmacro %}


{#-
    The scan with the columns of DuckDB's readers. filename: the path as written when the glob is
    in the file name only (as DuckDB's glob returns it; Spark gives an absolute file: URI), else
    the URI without its scheme. file_index: the file's place among the matched files in name order
    (DuckDB's). CSV row order: one partition per file (multiLine), in which
    monotonically_increasing_id() follows the file. Parquet: _metadata.row_index is the row's
    place in its file.
-#}
{% macro spark__crm_scan_sql(path, kind) -%}
    (
        select
            scanned.*,
            dense_rank() over (order by filename) - 1 as file_index
            {%- if kind == 'csv' %},
            {#- bigint, as DuckDB's row_number (Spark's is an int; source_row_number is contracted bigint) -#}
            cast(row_number() over (order by filename, _crm_scan_id) as bigint) as _crm_scan_position
            {%- endif %}
        from (
            select
                * {%- if kind == 'csv' %} except (_crm_scan_id_raw){% endif %},
                {{ crm_spark_file_name(path, '_metadata.file_path') }} as filename,
                {%- if kind == 'csv' %}
                _crm_scan_id_raw as _crm_scan_id
                {%- else %}
                _metadata.row_index as file_row_number
                {%- endif %}
            from (
                select
                    *,
                    _metadata
                    {%- if kind == 'csv' %},
                    monotonically_increasing_id() as _crm_scan_id_raw
                    {%- endif %}
                from {{ spark__crm_file_sql(path, kind) }}
            ) as with_metadata
        ) as scanned
    )
{%- endmacro %}


{#- A path inside Spark SQL's back-quoted file reference (a back quote is doubled). -#}
{% macro crm_spark_path(path) -%}
    {{ path | replace('`', '``') }}
{%- endmacro %}


{#- The directory part of a path (with its trailing slash; '' for a bare file name). -#}
{% macro crm_spark_path_directory(path) -%}
    {{ return(path[:path.rfind('/') + 1]) }}
{%- endmacro %}


{#- True when the path has a glob character outside its file name. -#}
{% macro crm_spark_glob_in_directory(path) -%}
    {%- set directory = crm_spark_path_directory(path) -%}
    {{ return(modules.re.search('[*?\\[{]', directory) is not none) }}
{%- endmacro %}


{#- A file's name as DuckDB's readers give it (see spark__crm_scan_sql), from Spark's file URI. -#}
{% macro crm_spark_file_name(path, uri_column) -%}
    {%- if crm_spark_glob_in_directory(path) -%}
        regexp_replace({{ uri_column }}, '^file:', '')
    {%- else -%}
        concat({{ crm_sql_string(crm_spark_path_directory(path)) }}, substring_index({{ uri_column }}, '/', -1))
    {%- endif -%}
{%- endmacro %}


{#-
    The files of a path with their sizes, as (name, bytes) rows. Spark's readers stop with their
    own error on a path that matches nothing, so when the glob is in the file name only, the
    directory is listed and filtered by the name (pathGlobFilter): no match is then an empty
    answer and the build stops with the project's message. (A directory that does not exist,
    or a glob in the directory part that matches nothing, still gives Spark's PATH_NOT_FOUND
    error, which names the path.) binaryFile reads no file content unless asked for it.
-#}
{% macro crm_spark_list_files(path) %}
    {%- if crm_spark_glob_in_directory(path) -%}
        {%- set listing -%}
            select {{ crm_spark_file_name(path, 'path') }} as file, length
            from binaryFile.`{{ crm_spark_path(path) }}`
            order by file
        {%- endset -%}
    {%- else -%}
        {%- set directory = crm_spark_path_directory(path) -%}
        {%- set listing -%}
            select {{ crm_spark_file_name(path, 'path') }} as file, length
            from binaryFile.`{{ crm_spark_path(directory or '.') }}` with (
                'pathGlobFilter' = {{ crm_sql_string(path[directory | length:]) }}
            )
            order by file
        {%- endset -%}
    {%- endif -%}
    {{ return(run_query(listing)) }}
{% endmacro %}


{#-
    The checks of default__crm_check_input_files. The text probe reads each CSV file's first line
    (Spark's text reader decodes UTF-8 and replaces undecodable bytes with U+FFFD): a file named
    .csv that holds gzip or other binary content gives a line with U+FFFD or a NUL character
    and is refused with the same message as on DuckDB.
-#}
{% macro spark__crm_check_input_files(path, kind, var_name) %}
    {%- set files = crm_spark_list_files(path) -%}
    {%- if files.rows | length == 0 -%}
        {{ crm_raise_no_file(path, var_name) }}
    {%- endif -%}
    {%- for file, size in files.rows -%}
        {%- if size == 0 -%}
            {{ crm_raise_empty_file(path, var_name, file) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if kind == 'csv' -%}
        {%- for file, size in files.rows if not (file | lower).endswith('.gz') -%}
            {%- set probe -%}
                select 1
                from (select value from text.`{{ crm_spark_path(file) }}` limit 1) as first_line
                where instr(value, decode(unhex('EFBFBD'), 'UTF-8')) > 0
                    or instr(value, decode(unhex('00'), 'UTF-8')) > 0
            {%- endset -%}
            {%- if run_query(probe).rows | length > 0 -%}
                {{ crm_raise_not_text(path, var_name, file) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#- Spark's `describe query` gives col_name, data_type, comment; types are mapped to DuckDB's names. -#}
{% macro spark__crm_describe_sql(query) %}
    {{ return('describe query ' ~ query) }}
{% endmacro %}


{#-
    Spark's type names as DuckDB's: Spark's TIMESTAMP is an instant (DuckDB's TIMESTAMPTZ; a
    Parquet timestamp adjusted to UTC) and TIMESTAMP_NTZ a wall-clock time (DuckDB's TIMESTAMP).
-#}
{% macro spark__crm_input_type_name(type_name) %}
    {%- set name = type_name | upper -%}
    {%- set names = {
        'STRING': 'VARCHAR',
        'INT': 'INTEGER',
        'TIMESTAMP': 'TIMESTAMP WITH TIME ZONE',
        'TIMESTAMP_NTZ': 'TIMESTAMP',
    } -%}
    {{ return(names.get(name, 'VARCHAR' if name.startswith('VARCHAR') or name.startswith('CHAR') else name)) }}
{% endmacro %}
