{#-
    The course's descriptive CLTV, per dataset (DESIGN.md section 4):
    avg_order_value = total_price / total_transaction; purchase_frequency = total_transaction /
    customers; repeat_rate = share of customers with more than one transaction; churn_rate =
    1 - repeat_rate; profit_margin = total_price x cltv_profit_margin; customer_value =
    avg_order_value x purchase_frequency; cltv = customer_value / churn_rate x profit_margin.
    cltv_segment: quartiles of cltv, pandas-qcut-exact, D (lowest) .. A (highest).
    Every customer with an order counts, zero-revenue customers included, as in the course.
    cltv is null when churn_rate is 0 (every customer bought more than once).
-#}
with

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

dataset_rates as (
    select
        dataset,
        count(*) as dataset_customers,
        cast(sum(case when orders > 1 then 1 else 0 end) as {{ dbt.type_float() }}) / count(*) as repeat_rate
    from customers
    group by dataset
),

valued as (
    select
        customers.dataset,
        customers.customer_id,
        customers.orders as total_transaction,
        customers.units as total_unit,
        customers.revenue as total_price,
        customers.revenue / customers.orders as avg_order_value,
        cast(customers.orders as {{ dbt.type_float() }}) / dataset_rates.dataset_customers as purchase_frequency,
        dataset_rates.repeat_rate,
        1 - dataset_rates.repeat_rate as churn_rate,
        customers.revenue * {{ var('cltv_profit_margin') }} as profit_margin
    from customers
    inner join dataset_rates
        on customers.dataset = dataset_rates.dataset
),

with_cltv as (
    select
        *,
        avg_order_value * purchase_frequency as customer_value,
        case
            when churn_rate > 0 then avg_order_value * purchase_frequency / churn_rate * profit_margin
        end as cltv
    from valued
),

edges as (
    select
        dataset,
        {{ crm_qcut_edges('cltv', 4, 'cltv_edge') }}
    from with_cltv
    group by dataset
),

final as (
    select
        with_cltv.dataset,
        with_cltv.customer_id,
        cast(with_cltv.total_transaction as {{ dbt.type_bigint() }}) as total_transaction,
        cast(with_cltv.total_unit as {{ dbt.type_bigint() }}) as total_unit,
        cast(with_cltv.total_price as {{ dbt.type_float() }}) as total_price,
        cast(with_cltv.avg_order_value as {{ dbt.type_float() }}) as avg_order_value,
        cast(with_cltv.purchase_frequency as {{ dbt.type_float() }}) as purchase_frequency,
        cast(with_cltv.repeat_rate as {{ dbt.type_float() }}) as repeat_rate,
        cast(with_cltv.churn_rate as {{ dbt.type_float() }}) as churn_rate,
        cast(with_cltv.profit_margin as {{ dbt.type_float() }}) as profit_margin,
        cast(with_cltv.customer_value as {{ dbt.type_float() }}) as customer_value,
        cast(with_cltv.cltv as {{ dbt.type_float() }}) as cltv,
        {{ crm_quartile_segment('with_cltv.cltv', 'edges.cltv_edge') }} as cltv_segment
    from with_cltv
    inner join edges
        on with_cltv.dataset = edges.dataset
)

select * from final
