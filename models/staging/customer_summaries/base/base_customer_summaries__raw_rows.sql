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
