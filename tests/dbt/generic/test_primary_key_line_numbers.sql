{#-
    A primary key of line-level data, tested without a hash table of every key: the key
    `column_names` is the file's names (e.g. dataset, source_file, source_sheet) followed by the
    row number, and `file_index_column` numbers the files. Returns one row per problem found:
    - a key column (or the file index) is null;
    - a file index stands for more than one name tuple, or a name tuple for more than one file
      index (so that the index may stand in for the names);
    - a row number appears twice within a file index (crm_repeated_row_numbers).
    The generic primary_key groups every key, which at 100 million lines takes minutes and
    gigabytes of spill; this reads the table three times and holds a few megabytes. Each check
    reads the model itself (DuckDB would materialise a CTE read more than once).
-#}
{% test primary_key_line_numbers(model, column_names, file_index_column='source_file_index') %}
    {%- set names = column_names[:-1] -%}
    {%- set row_number_column = column_names[-1] -%}
    {%- set name_parts = [] -%}
    {%- for name in names -%}
        {%- do name_parts.append(name) -%}
        {%- if not loop.last %}{% do name_parts.append("'|'") %}{% endif -%}
    {%- endfor %}

with

null_keys as (
    select
        'null key column' as problem,
        count(*) as rows_with_problem
    from {{ model }}
    where {{ file_index_column }} is null
        {%- for column in column_names %}
        or {{ column }} is null
        {%- endfor %}
    having count(*) > 0
),

files as (
    select distinct
        {{ file_index_column }} as file_index,
        {{ dbt.concat(name_parts) }} as file_names
    from {{ model }}
),

ambiguous_files as (
    select
        'file index and names not one to one' as problem,
        count(*) as rows_with_problem
    from files
    having count(*) != count(distinct file_index)
        or count(*) != count(distinct file_names)
),

repeated_rows as (
    {{ crm_repeated_row_numbers(model, file_index_column, row_number_column) }}
),

final as (
    select * from null_keys
    union all
    select * from ambiguous_files
    union all
    select * from repeated_rows
)

select * from final

{% endtest %}
