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


{#-
    Put between a CTE's name and its body (`name as {{ crm_cte_inlined() }} (...)`) for a CTE
    that several others read and that is cheap to compute but large: DuckDB keeps a CTE read
    more than once whole (materialized), which for the customers of every RFM snapshot means
    78 M rows written to its spill files at 100 M invoice lines; `not materialized` makes each
    reader compute it again instead. Other databases (Spark) inline CTEs themselves and do not
    know the keyword.
-#}
{% macro crm_cte_inlined() -%}
    {{ return(adapter.dispatch('crm_cte_inlined', 'crm_analytics')()) }}
{%- endmacro %}

{% macro default__crm_cte_inlined() -%}
{%- endmacro %}

{% macro duckdb__crm_cte_inlined() -%}
    not materialized
{%- endmacro %}


{#-
    A sum of doubles that does not depend on the order of the rows: DuckDB's fsum is
    compensated (Kahan-Babuska), so 16 lines adding up to 307.95 give 307.95 and not
    307.95000000000005 depending on how the scan was split. Quantile scores compare values
    with bin edges taken from the same values, so a last-bit difference can move a customer
    across an edge. Other databases fall back to sum. With `window` (the text inside over (...)),
    the same sum as a window function.
-#}
{% macro crm_sum_precise(expression, window=none) -%}
    {{ return(adapter.dispatch('crm_sum_precise', 'crm_analytics')(expression, window)) }}
{%- endmacro %}

{% macro default__crm_sum_precise(expression, window=none) -%}
    sum({{ expression }}){% if window is not none %} over ({{ window }}){% endif %}
{%- endmacro %}

{% macro duckdb__crm_sum_precise(expression, window=none) -%}
    fsum({{ expression }}){% if window is not none %} over ({{ window }}){% endif %}
{%- endmacro %}


{#- True for a finite number (not NaN, not +/-infinity). -#}
{% macro crm_is_finite(expression) -%}
    {{ return(adapter.dispatch('crm_is_finite', 'crm_analytics')(expression)) }}
{%- endmacro %}

{% macro default__crm_is_finite(expression) -%}
    ({{ expression }} = {{ expression }} and abs({{ expression }}) < 1e308)
{%- endmacro %}

{% macro duckdb__crm_is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}


{#-
    The value of `value` on the row where the tuple of `order_columns` is largest, as an
    aggregate (null values are returned as they are): what `row_number() over (partition by
    ... order by <order_columns> desc) = 1` picks, without sorting every row. The order
    columns must identify one row per group.
-#}
{% macro crm_value_at_max(value, order_columns) -%}
    {{ return(adapter.dispatch('crm_value_at_max', 'crm_analytics')(value, order_columns)) }}
{%- endmacro %}

{% macro default__crm_value_at_max(value, order_columns) -%}
    max_by({{ value }}, struct({{ order_columns | join(', ') }}))
{%- endmacro %}

{% macro duckdb__crm_value_at_max(value, order_columns) -%}
    arg_max_null({{ value }}, row({{ order_columns | join(', ') }}))
{%- endmacro %}


{#-
    Each timed line with the timestamps of the timed lines before and after it in its file
    (null at the file's first and last), as columns previous_in_block / next_in_block, plus the
    block it was compared in (row_block). `relation` has source_file_index, source_row_number
    and ordered_at.

    Portable: neighbours are found inside blocks of `block_rows` rows (many small sorts instead
    of one global sort); the sheet-overlap check joins the blocks up on their first and last rows.
    DuckDB on a Parquet input: the rows arrive in file order (file index, then row number; the
    reader keeps it with preserve_insertion_order), so a streaming lag/lead over the scan finds
    the neighbours with no sort and no memory; every row checks that its predecessor is earlier
    in the input and the build stops if the order was not kept. One block per file.
-#}
{% macro crm_time_neighbours(relation, block_rows) -%}
    {{ return(adapter.dispatch('crm_time_neighbours', 'crm_analytics')(relation, block_rows)) }}
{%- endmacro %}

{% macro default__crm_time_neighbours(relation, block_rows) -%}
    select
        source_file_index,
        source_row_number,
        ordered_at,
        row_block,
        lag(ordered_at) over (
            partition by source_file_index, row_block
            order by source_row_number
        ) as previous_in_block,
        lead(ordered_at) over (
            partition by source_file_index, row_block
            order by source_row_number
        ) as next_in_block
    from (
        select
            *,
            cast(floor((source_row_number - 1) / {{ block_rows }}.0) as {{ dbt.type_bigint() }}) as row_block
        from {{ relation }}
    ) as blocked
{%- endmacro %}

{% macro duckdb__crm_time_neighbours(relation, block_rows) -%}
    {%- set path = var('transactions_path') or '' -%}
    {%- if path | trim == '' or crm_input_kind(path, 'transactions_path') != 'parquet' -%}
        {{ default__crm_time_neighbours(relation, block_rows) }}
    {%- else -%}
    select
        source_file_index,
        source_row_number,
        ordered_at,
        0 as row_block,
        case
            when lag(source_file_index) over () = source_file_index
                and lag(source_row_number) over () < source_row_number
                then lag(ordered_at) over ()
            when lag(source_file_index) over () >= source_file_index
                then error('int_invoice_lines_classified: the input was not scanned in file order')
        end as previous_in_block,
        case
            when lead(source_file_index) over () = source_file_index then lead(ordered_at) over ()
        end as next_in_block
    from {{ relation }}
    {%- endif -%}
{%- endmacro %}


{#-
    For the generic test primary_key: every key of `relation` over `column_names` that occurs
    more than once or has a null part, with how often it occurs (rows_with_key). Portable: one
    grouped pass over the key columns (a second pass for the null keys made DuckDB keep the keys
    whole). DuckDB: a first pass groups a 64-bit hash of the key, and only the rows whose hash
    repeats (none while the key holds, or a rare collision) or that have a null part are read
    again and grouped on the key itself, by the portable macro, so the result is exact. On the
    78 M rows of rfm_monthly at 100 M invoice lines: 12.7 s of CPU against 19.6 to 23.6 s; on 16
    to 21 M rows the same within noise (about 4 s).
-#}
{% macro crm_primary_key_failures(relation, column_names) -%}
    {{ return(adapter.dispatch('crm_primary_key_failures', 'crm_analytics')(relation, column_names)) }}
{%- endmacro %}

{% macro default__crm_primary_key_failures(relation, column_names) -%}
with

keys as (
    select
        {{ column_names | join(',\n        ') }}
    from {{ relation }}
),

final as (
    select
        {{ column_names | join(',\n        ') }},
        count(*) as rows_with_key
    from keys
    group by {{ column_names | join(', ') }}
    having
        count(*) > 1
        {%- for column in column_names %}
        or {{ column }} is null
        {%- endfor %}
)

select * from final
{%- endmacro %}

{% macro duckdb__crm_primary_key_failures(relation, column_names) -%}
    {%- set key = column_names | join(', ') -%}
    {#- the rows whose key hash repeats or that have a null part (none while the key holds),
        read from the model a second time, then grouped on the key as everywhere else -#}
    {%- set suspect_rows -%}
(
    select {{ key }}
    from {{ relation }}
    where hash({{ key }}) in (
        select hash({{ key }}) as key_hash
        from {{ relation }}
        group by hash({{ key }})
        having
            count(*) > 1
            or bool_or({% for column in column_names %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %})
    )
) as suspect_rows
    {%- endset -%}
    {{ default__crm_primary_key_failures(suspect_rows, column_names) }}
{%- endmacro %}


{#-
    For the generic test primary_key_line_numbers: the row numbers that appear more than once
    within a file index, as one row (problem, rows_with_problem) when there are any. Portable:
    a grouped count of every (file index, row number). DuckDB: each block of 65,536 row numbers
    of a file becomes one bitstring with a bit per row number (bitstring_agg); a block with fewer
    set bits than rows holds a repeat. Exact, one pass, a few megabytes for 100 million rows.
-#}
{% macro crm_repeated_row_numbers(relation, file_index_column, row_number_column) -%}
    {{ return(adapter.dispatch('crm_repeated_row_numbers', 'crm_analytics')(
        relation, file_index_column, row_number_column
    )) }}
{%- endmacro %}

{% macro default__crm_repeated_row_numbers(relation, file_index_column, row_number_column) -%}
    select
        'row number repeated in a file' as problem,
        count(*) as rows_with_problem
    from (
        select
            {{ file_index_column }},
            {{ row_number_column }}
        from {{ relation }}
        group by {{ file_index_column }}, {{ row_number_column }}
        having count(*) > 1
    ) as repeated
    having count(*) > 0
{%- endmacro %}

{% macro duckdb__crm_repeated_row_numbers(relation, file_index_column, row_number_column) -%}
    select
        'row number repeated in a file' as problem,
        cast(sum(block_rows - distinct_row_numbers) as bigint) as rows_with_problem
    from (
        select
            count(*) as block_rows,
            bit_count(bitstring_agg({{ row_number_column }} % 65536, 0, 65535)) as distinct_row_numbers
        from {{ relation }}
        group by {{ file_index_column }}, {{ row_number_column }} // 65536
    ) as blocks
    having sum(block_rows - distinct_row_numbers) > 0
{%- endmacro %}

{#-
    The readers number CSV rows in scan order (row_number() over ()) and the sheet-overlap check
    reads a Parquet input in file order, so the models that read an input need DuckDB's
    insertion order kept. Everything else runs without it (profiles.yml turns it off): keeping
    it makes DuckDB buffer whole results in order, which ran out of memory at 100 M lines.
    Used as a pre-hook (on) and post-hook (off) of those models; a session setting, so the
    models running beside them on other threads are not affected.
-#}
{% macro crm_scan_order(keep) -%}
    {{ return(adapter.dispatch('crm_scan_order', 'crm_analytics')(keep)) }}
{%- endmacro %}

{% macro default__crm_scan_order(keep) -%}
{%- endmacro %}

{% macro duckdb__crm_scan_order(keep) -%}
    set session preserve_insertion_order = {{ 'true' if keep else 'false' }}
{%- endmacro %}
