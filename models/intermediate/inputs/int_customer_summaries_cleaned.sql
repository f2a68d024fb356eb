with

classified_summaries as (
    select * from {{ ref('int_customer_summaries_classified') }}
),

final as (
    select
        dataset,
        source_file,
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
        interested_in_categories
    from classified_summaries
    where quarantine_reason is null
)

select * from final
