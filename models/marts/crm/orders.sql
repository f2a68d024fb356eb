with

orders as (
    select * from {{ ref('int_orders_aggregated') }}
),

final as (
    select
        dataset,
        invoice_id,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        cast(revenue as {{ dbt.type_float() }}) as revenue,
        cast(order_lines as {{ dbt.type_bigint() }}) as order_lines,
        cast(units as {{ dbt.type_bigint() }}) as units,
        country
    from orders
)

select * from final
