{#- the input file as a dbt source, for the lineage; the reader macro below reads it -#}
{%- set input_file = source('inputs', 'transactions') -%}
-- depends_on: {{ ref('base_transactions__workbook_lines') }}
with

raw_lines as (
    {{ crm_read_input(
        path=var('transactions_path'),
        dataset=var('transactions_dataset'),
        spec=crm_transactions_spec(),
        var_name='transactions_path',
        workbook_relation=ref('base_transactions__workbook_lines'),
        typed=true,
    ) }}
)

select * from raw_lines
