{#-
    Gives every staged customer-summary row its final status: clean (quarantine_reason is null)
    or quarantined with one reason. A customer id that appears more than once keeps its first
    row (file order); the later rows are `duplicate_customer`.
-#}
with

summaries as (
    select * from {{ ref('stg_customer_summaries__customers') }}
),

numbered as (
    select
        *,
        -- only rows that are usable on their own compete for a customer id
        row_number() over (
            partition by
                dataset,
                customer_id,
                case when invalid_reason is null and exclusion_reason is null then 1 else 0 end
            order by source_file, source_row_number
        ) as appearance_number
    from summaries
),

classified as (
    select
        *,
        case
            when invalid_reason is not null then invalid_reason
            when exclusion_reason is not null then exclusion_reason
            when appearance_number > 1 then 'duplicate_customer'
        end as quarantine_reason,
        case
            when invalid_reason is not null then invalid_detail
            when exclusion_reason is null and appearance_number > 1
                then {{ dbt.concat([
                    "'master_id='", "chr(39)", 'customer_id', "chr(39)", "' appears earlier in the input'"
                ]) }}
        end as quarantine_detail
    from numbered
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
        quarantine_reason,
        quarantine_detail
    from classified
)

select * from final
