with

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

customer_summaries as (
    select * from {{ ref('int_customer_summaries_cleaned') }}
),

-- the country of each customer's latest order (latest timestamp, then highest invoice id)
latest_countries as (
    select
        dataset,
        customer_id,
        {{ crm_value_at_max('country', ['ordered_at', 'invoice_id']) }} as country
    from orders
    group by dataset, customer_id
),

interests as (
    select
        dataset,
        customer_id,
        order_channel,
        last_order_channel,
        interested_in_categories,
        case
            when interested_in_categories is not null
                then {{ crm_category_tokens('interested_in_categories') }}
        end as category_tokens
    from customer_summaries
),

final as (
    select
        customers.dataset,
        customers.customer_id,
        customers.input_shape,
        customers.first_order_at,
        customers.last_order_at,
        cast(customers.first_order_at as date) as first_order_date,
        cast(customers.last_order_at as date) as last_order_date,
        cast({{ dbt.date_trunc('month', 'customers.first_order_at') }} as date) as acquisition_month,
        cast(customers.orders as {{ dbt.type_bigint() }}) as orders,
        cast(customers.units as {{ dbt.type_bigint() }}) as units,
        cast(customers.revenue as {{ dbt.type_float() }}) as revenue,
        customers.revenue > 0 as is_rfm_scored,
        case when customers.revenue > 0 then null else 'zero_revenue' end as rfm_exclusion_reason,
        latest_countries.country,
        interests.order_channel,
        interests.last_order_channel,
        interests.category_tokens like '%,KADIN,%' as is_interested_in_kadin,
        interests.category_tokens like '%,ERKEK,%' as is_interested_in_erkek,
        interests.category_tokens like '%,COCUK,%' as is_interested_in_cocuk,
        interests.category_tokens like '%,AKTIFSPOR,%' as is_interested_in_aktifspor,
        interests.category_tokens like '%,AKTIFCOCUK,%' as is_interested_in_aktifcocuk,
        interests.interested_in_categories
    from customers
    left join latest_countries
        on customers.dataset = latest_countries.dataset
        and customers.customer_id = latest_countries.customer_id
    left join interests
        on customers.dataset = interests.dataset
        and customers.customer_id = interests.customer_id
)

select * from final
