{#-
    Types every customer-summary row and gives it its row-level verdicts (the reader gives every
    value as text; a Parquet TIMESTAMPTZ arrives with its offset and is converted to
    input_time_zone by crm_parse_date). NaN and infinite values are non_finite_value, values at
    or beyond crm_revenue_limit() value_out_of_range, a category list that is not a list of
    names unparseable_value; with the analysis_date var set, a row with an order date after it
    is order_after_analysis_date (it would give a negative recency).
-#}
{%- set value_limit = crm_revenue_limit() %}
{#- the values read one by one: the column's input name, its raw text, its parsed value, its kind -#}
{%- set checked_values = [
    ['first_order_date', 'raw_first_order_date', 'first_order_date', 'date'],
    ['last_order_date', 'raw_last_order_date', 'last_order_date', 'date'],
    ['last_order_date_online', 'raw_last_order_date_online', 'last_order_date_online', 'date'],
    ['last_order_date_offline', 'raw_last_order_date_offline', 'last_order_date_offline', 'date'],
    ['order_num_total_ever_online', 'raw_online_orders', 'online_orders', 'number'],
    ['order_num_total_ever_offline', 'raw_offline_orders', 'offline_orders', 'number'],
    ['customer_value_total_ever_online', 'raw_online_value', 'online_value', 'number'],
    ['customer_value_total_ever_offline', 'raw_offline_value', 'offline_value', 'number'],
] %}
with

raw_rows as (
    select * from {{ ref('base_customer_summaries__raw_rows') }}
),

typed as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
        {{ crm_normalize_id('raw_master_id') }} as customer_id,
        {{ crm_blank_to_null('raw_order_channel') }} as order_channel,
        {{ crm_blank_to_null('raw_last_order_channel') }} as last_order_channel,
        {{ crm_parse_date('raw_first_order_date') }} as first_order_date,
        {{ crm_parse_date('raw_last_order_date') }} as last_order_date,
        {{ crm_parse_date('raw_last_order_date_online') }} as last_order_date_online,
        {{ crm_parse_date('raw_last_order_date_offline') }} as last_order_date_offline,
        {{ crm_parse_integer('raw_order_num_total_ever_online') }} as online_orders,
        {{ crm_parse_integer('raw_order_num_total_ever_offline') }} as offline_orders,
        {{ crm_parse_number('raw_customer_value_total_ever_online') }} as online_value,
        {{ crm_parse_number('raw_customer_value_total_ever_offline') }} as offline_value,
        {{ crm_blank_to_null('raw_interested_in_categories_12') }} as interested_in_categories,
        {{ crm_blank_to_null('raw_first_order_date') }} as raw_first_order_date,
        {{ crm_blank_to_null('raw_last_order_date') }} as raw_last_order_date,
        {{ crm_blank_to_null('raw_last_order_date_online') }} as raw_last_order_date_online,
        {{ crm_blank_to_null('raw_last_order_date_offline') }} as raw_last_order_date_offline,
        {{ crm_blank_to_null('raw_order_num_total_ever_online') }} as raw_online_orders,
        {{ crm_blank_to_null('raw_order_num_total_ever_offline') }} as raw_offline_orders,
        {{ crm_blank_to_null('raw_customer_value_total_ever_online') }} as raw_online_value,
        {{ crm_blank_to_null('raw_customer_value_total_ever_offline') }} as raw_offline_value
    from raw_rows
),

checked as (
    select
        *,
        online_orders + offline_orders as total_orders,
        online_value + offline_value as total_value,
        case
            when raw_first_order_date is null then 'missing_value'
            when raw_last_order_date is null then 'missing_value'
            when raw_online_orders is null then 'missing_value'
            when raw_offline_orders is null then 'missing_value'
            when raw_online_value is null then 'missing_value'
            when raw_offline_value is null then 'missing_value'
            {% for column, raw, parsed, kind in checked_values -%}
                when {{ parsed }} is null and {{ raw }} is not null
                    and {{ crm_is_non_finite_timestamp(raw) if kind == 'date' else crm_is_non_finite_number(raw) }}
                    then 'non_finite_value'
                when {{ parsed }} is null and {{ raw }} is not null then 'unparseable_value'
            {% endfor -%}
            when not abs(online_value) < {{ value_limit }} then 'value_out_of_range'
            when not abs(offline_value) < {{ value_limit }} then 'value_out_of_range'
            when interested_in_categories is not null
                and {{ crm_is_unparseable_category_list('interested_in_categories') }}
                then 'unparseable_value'
        end as invalid_reason,
        case
            when raw_first_order_date is null then 'first_order_date is empty'
            when raw_last_order_date is null then 'last_order_date is empty'
            when raw_online_orders is null then 'order_num_total_ever_online is empty'
            when raw_offline_orders is null then 'order_num_total_ever_offline is empty'
            when raw_online_value is null then 'customer_value_total_ever_online is empty'
            when raw_offline_value is null then 'customer_value_total_ever_offline is empty'
            {% for column, raw, parsed, kind in checked_values -%}
                when {{ parsed }} is null and {{ raw }} is not null
                    then {{ dbt.concat(["'" ~ column ~ "='", "chr(39)", raw, "chr(39)"]) }}
            {% endfor -%}
            when not abs(online_value) < {{ value_limit }}
                then {{ dbt.concat([
                    "'customer_value_total_ever_online='", "chr(39)", 'raw_online_value',
                    "chr(39)", "': a value must be below " ~ value_limit ~ "'",
                ]) }}
            when not abs(offline_value) < {{ value_limit }}
                then {{ dbt.concat([
                    "'customer_value_total_ever_offline='", "chr(39)", 'raw_offline_value',
                    "chr(39)", "': a value must be below " ~ value_limit ~ "'",
                ]) }}
            when interested_in_categories is not null
                and {{ crm_is_unparseable_category_list('interested_in_categories') }}
                then {{ dbt.concat([
                    "'interested_in_categories_12='", "chr(39)", 'interested_in_categories',
                    "chr(39)", "': not a list of category names'",
                ]) }}
        end as invalid_detail,
        case
            when customer_id is null then 'missing_customer'
            when online_orders < 0 or offline_orders < 0 then 'negative_value'
            when online_value < 0 or offline_value < 0 then 'negative_value'
            when online_orders + offline_orders < 1 then 'non_positive_orders'
            when first_order_date > last_order_date then 'inconsistent_dates'
            when first_order_date > {{ crm_analysis_date_literal() }}
                or last_order_date > {{ crm_analysis_date_literal() }}
                or last_order_date_online > {{ crm_analysis_date_literal() }}
                or last_order_date_offline > {{ crm_analysis_date_literal() }}
                then 'order_after_analysis_date'
        end as exclusion_reason
    from typed
),

final as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
        customer_id,
        order_channel,
        last_order_channel,
        first_order_date,
        last_order_date,
        last_order_date_online,
        last_order_date_offline,
        online_orders,
        offline_orders,
        total_orders,
        online_value,
        offline_value,
        total_value,
        interested_in_categories,
        invalid_reason,
        invalid_detail,
        exclusion_reason
    from checked
)

select * from final
