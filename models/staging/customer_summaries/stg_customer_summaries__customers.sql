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
            when first_order_date is null then 'unparseable_value'
            when last_order_date is null then 'unparseable_value'
            when raw_last_order_date_online is not null and last_order_date_online is null
                then 'unparseable_value'
            when raw_last_order_date_offline is not null and last_order_date_offline is null
                then 'unparseable_value'
            when online_orders is null then 'unparseable_value'
            when offline_orders is null then 'unparseable_value'
            when online_value is null then 'unparseable_value'
            when offline_value is null then 'unparseable_value'
        end as invalid_reason,
        case
            when raw_first_order_date is null then 'first_order_date is empty'
            when raw_last_order_date is null then 'last_order_date is empty'
            when raw_online_orders is null then 'order_num_total_ever_online is empty'
            when raw_offline_orders is null then 'order_num_total_ever_offline is empty'
            when raw_online_value is null then 'customer_value_total_ever_online is empty'
            when raw_offline_value is null then 'customer_value_total_ever_offline is empty'
            when first_order_date is null
                then {{ dbt.concat(["'first_order_date='''", 'raw_first_order_date', "''''"]) }}
            when last_order_date is null
                then {{ dbt.concat(["'last_order_date='''", 'raw_last_order_date', "''''"]) }}
            when raw_last_order_date_online is not null and last_order_date_online is null
                then {{ dbt.concat(["'last_order_date_online='''", 'raw_last_order_date_online', "''''"]) }}
            when raw_last_order_date_offline is not null and last_order_date_offline is null
                then {{ dbt.concat(["'last_order_date_offline='''", 'raw_last_order_date_offline', "''''"]) }}
            when online_orders is null
                then {{ dbt.concat(["'order_num_total_ever_online='''", 'raw_online_orders', "''''"]) }}
            when offline_orders is null
                then {{ dbt.concat(["'order_num_total_ever_offline='''", 'raw_offline_orders', "''''"]) }}
            when online_value is null
                then {{ dbt.concat(["'customer_value_total_ever_online='''", 'raw_online_value', "''''"]) }}
            when offline_value is null
                then {{ dbt.concat(["'customer_value_total_ever_offline='''", 'raw_offline_value', "''''"]) }}
        end as invalid_detail,
        case
            when customer_id is null then 'missing_customer'
            when online_orders < 0 or offline_orders < 0 then 'negative_value'
            when online_value < 0 or offline_value < 0 then 'negative_value'
            when online_orders + offline_orders < 1 then 'non_positive_orders'
            when first_order_date > last_order_date then 'inconsistent_dates'
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
