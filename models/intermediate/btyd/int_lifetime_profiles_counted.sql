{#-
    The distinct lifetime profiles (frequency, recency, T, monetary value) of each dataset with
    the number of customers that share each one. The Python models score these rows instead of
    one row per customer; cltv_predictions joins the scores back in SQL.
-#}
with

customer_lifetime as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

final as (
    select
        dataset,
        frequency,
        recency_days,
        customer_age_days,
        recency,
        customer_age,
        monetary_value,
        count(*) as customers
    from customer_lifetime
    group by dataset, frequency, recency_days, customer_age_days, recency, customer_age, monetary_value
)

select * from final
