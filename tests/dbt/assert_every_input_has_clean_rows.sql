{#- Every configured input yields at least one clean row; returns the inputs that do not. -#}
with

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

configured as (
    {%- set inputs = [] -%}
    {%- if (var('transactions_path') or '') | trim != '' -%}
        {%- do inputs.append(var('transactions_dataset')) -%}
    {%- endif -%}
    {%- if (var('customer_summaries_path') or '') | trim != '' -%}
        {%- do inputs.append(var('customer_summaries_dataset')) -%}
    {%- endif %}
    {%- for dataset in inputs %}
        select {{ crm_sql_string(dataset) }} as dataset
        {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- if inputs | length == 0 %}
        select cast(null as {{ dbt.type_string() }}) as dataset
        where 1 = 0
    {%- endif %}
),

final as (
    select configured.dataset
    from configured
    left join dated_datasets on configured.dataset = dated_datasets.dataset
    where dated_datasets.dataset is null
)

select * from final
