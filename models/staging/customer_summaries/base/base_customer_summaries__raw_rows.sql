{#- the input file as a dbt source, for the lineage; the reader macro below reads it -#}
{%- set input_file = source('inputs', 'customer_summaries') -%}
with

raw_rows as (
    {{ crm_read_input(
        path=var('customer_summaries_path'),
        dataset=var('customer_summaries_dataset'),
        spec=crm_customer_summaries_spec(),
        var_name='customer_summaries_path',
    ) }}
)

select * from raw_rows
