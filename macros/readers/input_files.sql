{#-
    File readers for the raw inputs. This is the only DuckDB-specific layer of the project
    (read_csv / read_parquet / glob); everything downstream is portable SQL.

    Each reader returns one row per raw row under canonical column names, with the file, sheet
    and 1-based row number the row came from, so that nothing is lost and every quarantined row
    can be traced back to its place in the input. Text files (CSV, the workbook) give every value
    as text; a typed reader of a Parquet file keeps the file's own types (staging parses only
    what is text, see macros/parsing), an untyped one casts every value to text.
-#}

{% macro crm_input_kind(path, var_name) %}
    {%- set lowered = path | lower -%}
    {%- if lowered.endswith('.csv') or lowered.endswith('.csv.gz') or lowered.endswith('.tsv') or lowered.endswith('.txt') -%}
        {{ return('csv') }}
    {%- elif lowered.endswith('.parquet') -%}
        {{ return('parquet') }}
    {%- elif lowered.endswith('.xlsx') -%}
        {#- the workbook is read by a Python model (python-calamine), which dbt-spark runs on
            Databricks only: on Spark the sheets have to come as .csv or .parquet files -#}
        {%- if target.type == 'spark' -%}
            {{ exceptions.raise_compiler_error(
                "Input " ~ var_name ~ "='" ~ path ~ "': .xlsx workbooks are read on DuckDB only "
                ~ "(the Python model base_transactions__workbook_lines). On Spark, save each sheet "
                ~ "as a .csv or .parquet file and give their glob, e.g. 'data/online_retail_II_*.parquet'."
            ) }}
        {%- endif -%}
        {{ return('xlsx') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "Input " ~ var_name ~ "='" ~ path ~ "': unsupported file type. "
            ~ "Use a .csv, .csv.gz, .parquet or .xlsx file (or a glob of .csv/.parquet files)."
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro crm_sql_string(value) -%}
    {{ return(adapter.dispatch('crm_sql_string', 'crm_analytics')(value)) }}
{%- endmacro %}

{% macro default__crm_sql_string(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}


{#- The table function that reads a CSV or Parquet input as it is. -#}
{% macro crm_file_sql(path, kind) -%}
    {{ return(adapter.dispatch('crm_file_sql', 'crm_analytics')(path, kind)) }}
{%- endmacro %}

{% macro default__crm_file_sql(path, kind) -%}
    {%- if kind == 'csv' -%}
        read_csv(
            {{ crm_sql_string(path) }},
            all_varchar = true,
            header = true,
            filename = true,
            union_by_name = true
        )
    {%- elif kind == 'parquet' -%}
        read_parquet(
            {{ crm_sql_string(path) }},
            filename = true,
            file_row_number = true,
            union_by_name = true
        )
    {%- endif -%}
{%- endmacro %}


{#-
    The scan used by the reader: for CSV it adds the row's position in the scan (DuckDB keeps
    the file order: the models reading an input keep insertion order, crm_scan_order); Parquet
    has file_row_number.
-#}
{% macro crm_scan_sql(path, kind) -%}
    {{ return(adapter.dispatch('crm_scan_sql', 'crm_analytics')(path, kind)) }}
{%- endmacro %}

{% macro default__crm_scan_sql(path, kind) -%}
    {%- if kind == 'csv' -%}
        (select *, file_index, row_number() over () as _crm_scan_position from {{ crm_file_sql(path, kind) }})
    {%- else -%}
        {{ crm_file_sql(path, kind) }}
    {%- endif -%}
{%- endmacro %}


{#-
    Checks that the input exists, is readable and has at least one data row, and returns its
    column names; when given a dict as column_types, also fills it with each column's DuckDB
    type. Fails the build with a message naming the var, the file and the problem.
-#}
{% macro crm_inspect_input(path, kind, var_name, relation=none, column_types=none) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if kind != 'xlsx' -%}
        {{ crm_check_input_files(path, kind, var_name) }}
        {%- set source_sql = crm_file_sql(path, kind) -%}
    {%- else -%}
        {%- set source_sql = relation -%}
    {%- endif -%}
    {%- set described = run_query(crm_describe_sql("select * from " ~ source_sql)) -%}
    {%- set columns = [] -%}
    {%- set types = described.columns[1].values() -%}
    {%- for name in described.columns[0].values() -%}
        {%- if name not in ('filename', 'file_row_number', 'file_index', '_crm_scan_position', 'source_file', 'source_sheet', 'source_row_number') -%}
            {%- do columns.append(name) -%}
            {%- if column_types is not none -%}
                {%- do column_types.update({name: crm_input_type_name(types[loop.index0])}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set first_row = run_query("select 1 from " ~ source_sql ~ " limit 1") -%}
    {%- if first_row.rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Input " ~ var_name ~ "='" ~ path ~ "': the file has no data rows "
            ~ "(columns found: " ~ (columns | join(', ')) ~ ")."
        ) }}
    {%- endif -%}
    {{ return(columns) }}
{% endmacro %}


{#-
    Stops the build when no file matches the path, when a file is empty (0 bytes) or (CSV) when
    a file does not hold text, naming the var, the file and the problem.
-#}
{% macro crm_check_input_files(path, kind, var_name) %}
    {{ return(adapter.dispatch('crm_check_input_files', 'crm_analytics')(path, kind, var_name)) }}
{% endmacro %}

{% macro default__crm_check_input_files(path, kind, var_name) %}
    {%- set matches = run_query("select count(*) as n from glob(" ~ crm_sql_string(path) ~ ")") -%}
    {%- if matches.columns[0].values()[0] == 0 -%}
        {{ crm_raise_no_file(path, var_name) }}
    {%- endif -%}
    {%- set empty_files = run_query(
        "select filename from read_blob(" ~ crm_sql_string(path) ~ ") where size = 0 limit 1"
    ) -%}
    {%- if empty_files.rows | length > 0 -%}
        {{ crm_raise_empty_file(path, var_name, empty_files.rows[0][0]) }}
    {%- endif -%}
    {%- if kind == 'csv' -%}
        {{ crm_check_text_files(path, var_name) }}
    {%- endif -%}
{% endmacro %}


{#- The messages of crm_check_input_files, the same on every engine. -#}
{% macro crm_raise_no_file(path, var_name) %}
    {{ exceptions.raise_compiler_error(
        "Input " ~ var_name ~ "='" ~ path ~ "': no file matches this path "
        ~ "(relative paths are read from the directory dbt runs in)."
    ) }}
{% endmacro %}

{% macro crm_raise_empty_file(path, var_name, file) %}
    {{ exceptions.raise_compiler_error(
        "Input " ~ var_name ~ "='" ~ path ~ "': file " ~ file ~ " is empty (0 bytes)."
    ) }}
{% endmacro %}

{% macro crm_raise_not_text(path, var_name, file) %}
    {{ exceptions.raise_compiler_error(
        "Input " ~ var_name ~ "='" ~ path ~ "': file " ~ file ~ " does not hold UTF-8 text."
        ~ " If it is gzip-compressed, name it .csv.gz (DuckDB decompresses by the name);"
        ~ " otherwise save it as a UTF-8 CSV."
    ) }}
{% endmacro %}


{#- A column type as DuckDB names it (upper case), whatever engine reported it. -#}
{% macro crm_input_type_name(type_name) %}
    {{ return(adapter.dispatch('crm_input_type_name', 'crm_analytics')(type_name)) }}
{% endmacro %}

{% macro default__crm_input_type_name(type_name) %}
    {{ return(type_name | upper) }}
{% endmacro %}


{#- The statement that gives the column names and types of a query (name first, type second). -#}
{% macro crm_describe_sql(query) %}
    {{ return(adapter.dispatch('crm_describe_sql', 'crm_analytics')(query)) }}
{% endmacro %}

{% macro default__crm_describe_sql(query) %}
    {{ return('describe ' ~ query) }}
{% endmacro %}


{#-
    Refuses a text input whose file does not hold text: gzip content in a file named .csv (DuckDB
    decompresses by the name only, and its CSV sniffer then fails naming no file), or another
    binary or non-UTF-8 file. Each file of the path (not named .gz) is probed for its first line
    read as UTF-8 text, skipping lines that are not; a file that gives none is refused, naming
    the var and the file. A text file answers from its first line, so the probe costs nothing on
    good input.
-#}
{% macro crm_check_text_files(path, var_name) %}
    {%- set files = run_query(
        "select file from glob(" ~ crm_sql_string(path) ~ ") where lower(file) not like '%.gz' order by file"
    ).columns[0].values() -%}
    {%- for file in files -%}
        {%- set probe -%}
            select 1
            from read_csv(
                {{ crm_sql_string(file) }},
                header = false, auto_detect = false, columns = {'line': 'VARCHAR'},
                delim = '\x01', quote = '', escape = '', ignore_errors = true
            )
            limit 1
        {%- endset -%}
        {%- if run_query(probe).rows | length == 0 -%}
            {{ crm_raise_not_text(path, var_name, file) }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{#-
    Maps the file's column names onto canonical names. `spec` is a list of
    [canonical_name, [accepted names...], required]. Names are matched ignoring case, spaces,
    underscores and punctuation, so 'Customer ID', 'CustomerID' and 'customer_id' are the same.
-#}
{% macro crm_map_columns(columns, spec, path, var_name) %}
    {%- set normalized = {} -%}
    {%- for column in columns -%}
        {%- do normalized.update({modules.re.sub('[^a-z0-9]', '', column | lower): column}) -%}
    {%- endfor -%}
    {%- set mapping = {} -%}
    {%- for canonical, accepted, required in spec -%}
        {%- set found = [] -%}
        {%- for name in accepted -%}
            {%- set key = modules.re.sub('[^a-z0-9]', '', name | lower) -%}
            {%- if key in normalized and normalized[key] not in found -%}
                {%- do found.append(normalized[key]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if found | length > 1 -%}
            {{ exceptions.raise_compiler_error(
                "Input " ~ var_name ~ "='" ~ path ~ "': columns " ~ (found | join(' and '))
                ~ " both mean '" ~ canonical ~ "'; keep only one of them."
            ) }}
        {%- elif found | length == 1 -%}
            {%- do mapping.update({canonical: found[0]}) -%}
        {%- elif required -%}
            {{ exceptions.raise_compiler_error(
                "Input " ~ var_name ~ "='" ~ path ~ "': required column '" ~ accepted[0] ~ "'"
                ~ ((" (or '" ~ (accepted[1:] | join("', '")) ~ "')") if accepted | length > 1 else "")
                ~ " is missing. Columns found: " ~ (columns | join(', ')) ~ "."
            ) }}
        {%- else -%}
            {%- do mapping.update({canonical: none}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(mapping) }}
{% endmacro %}


{#-
    Renders the select that reads one input. `spec` as for crm_map_columns; every canonical
    column comes out as raw_<name>: text, or with `typed` the file's own type (Parquet; CSV and
    the workbook are text either way). An empty path renders an empty result with the same
    columns, so a disabled input simply contributes no rows.
-#}
{% macro crm_read_input(path, dataset, spec, var_name, workbook_relation=none, typed=false) %}
    {%- if path is none or (path | trim) == '' -%}
        select
            cast(null as {{ dbt.type_string() }}) as dataset,
            cast(null as {{ dbt.type_string() }}) as source_file,
            '' as source_sheet,
            cast(null as {{ dbt.type_bigint() }}) as source_row_number,
            cast(null as {{ dbt.type_bigint() }}) as source_file_index,
            {%- for canonical, accepted, required in spec %}
            cast(null as {{ dbt.type_string() }}) as raw_{{ canonical }}{{ "," if not loop.last }}
            {%- endfor %}
        where 1 = 0
    {%- else -%}
        {%- set kind = crm_input_kind(path, var_name) -%}
        {%- if kind == 'xlsx' and workbook_relation is none -%}
            {{ exceptions.raise_compiler_error(
                "Input " ~ var_name ~ "='" ~ path ~ "': .xlsx is read for transactions only; "
                ~ "save this input as .csv or .parquet."
            ) }}
        {%- endif -%}
        {%- set columns = crm_inspect_input(path, kind, var_name, workbook_relation) -%}
        {%- set mapping = crm_map_columns(columns, spec, path, var_name) if execute else {} -%}
        select
            {{ crm_sql_string(dataset) }} as dataset,
            {%- if kind == 'csv' %}
            filename as source_file,
            '' as source_sheet,
            _crm_scan_position - min(_crm_scan_position) over (partition by filename) + 1 as source_row_number,
            cast(file_index as {{ dbt.type_bigint() }}) as source_file_index,
            {%- elif kind == 'parquet' %}
            filename as source_file,
            '' as source_sheet,
            file_row_number + 1 as source_row_number,
            cast(file_index as {{ dbt.type_bigint() }}) as source_file_index,
            {%- else %}
            source_file,
            source_sheet,
            source_row_number,
            dense_rank() over (order by source_file, source_sheet) - 1 as source_file_index,
            {%- endif %}
            {%- for canonical, accepted, required in spec %}
            {%- set column = mapping.get(canonical) %}
            {%- if column and typed %}
            {{ adapter.quote(column) }} as raw_{{ canonical }}{{ "," if not loop.last }}
            {%- elif column %}
            cast({{ adapter.quote(column) }} as {{ dbt.type_string() }}) as raw_{{ canonical }}{{ "," if not loop.last }}
            {%- else %}
            cast(null as {{ dbt.type_string() }}) as raw_{{ canonical }}{{ "," if not loop.last }}
            {%- endif %}
            {%- endfor %}
        from {{ crm_scan_sql(path, kind) if kind != 'xlsx' else workbook_relation }}
    {%- endif -%}
{% endmacro %}


{#-
    The DuckDB type of each canonical column of an input, as a typed reader gives it: a dict
    canonical name -> upper-case type name ('VARCHAR', 'BIGINT', 'TIMESTAMP', ...). Text inputs
    (CSV, the workbook) and a disabled input give an empty dict, as does parse time, so the
    parsers fall back to reading text. Runs the same checks as the reader.
-#}
{% macro crm_input_types(path, spec, var_name) %}
    {%- if not execute or path is none or (path | trim) == '' -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set kind = crm_input_kind(path, var_name) -%}
    {%- if kind != 'parquet' -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set column_types = {} -%}
    {%- set columns = crm_inspect_input(path, kind, var_name, column_types=column_types) -%}
    {%- set mapping = crm_map_columns(columns, spec, path, var_name) -%}
    {%- set types = {} -%}
    {%- for canonical, column in mapping.items() if column -%}
        {%- do types.update({canonical: column_types[column]}) -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}


{% macro crm_transactions_spec() %}
    {{ return([
        ['invoice', ['Invoice', 'InvoiceNo'], true],
        ['stock_code', ['StockCode'], false],
        ['description', ['Description'], false],
        ['quantity', ['Quantity'], true],
        ['invoice_date', ['InvoiceDate'], true],
        ['price', ['Price', 'UnitPrice'], true],
        ['customer_id', ['Customer ID', 'CustomerID'], true],
        ['country', ['Country'], false],
    ]) }}
{% endmacro %}


{% macro crm_customer_summaries_spec() %}
    {{ return([
        ['master_id', ['master_id'], true],
        ['order_channel', ['order_channel'], false],
        ['last_order_channel', ['last_order_channel'], false],
        ['first_order_date', ['first_order_date'], true],
        ['last_order_date', ['last_order_date'], true],
        ['last_order_date_online', ['last_order_date_online'], false],
        ['last_order_date_offline', ['last_order_date_offline'], false],
        ['order_num_total_ever_online', ['order_num_total_ever_online'], true],
        ['order_num_total_ever_offline', ['order_num_total_ever_offline'], true],
        ['customer_value_total_ever_offline', ['customer_value_total_ever_offline'], true],
        ['customer_value_total_ever_online', ['customer_value_total_ever_online'], true],
        ['interested_in_categories_12', ['interested_in_categories_12'], false],
    ]) }}
{% endmacro %}
