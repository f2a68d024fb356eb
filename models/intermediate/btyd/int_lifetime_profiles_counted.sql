{#-
    The distinct transaction profiles (frequency, recency, T) of each dataset with the number of
    customers that share each one. The Python model int_lifetime_profiles_scored scores these
    rows instead of one row per customer, so its work is bounded by the profiles (at most
    frequencies x days x days of the data's span), not by the customers; the monetary value is
    left out on purpose (a continuous value would make every customer a profile): the spend
    has a closed form that cltv_predictions computes in SQL. Grouped on the integer day counts;
    recency and customer_age are those divided by the time unit.
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
        count(*) as customers
    from customer_lifetime
    group by dataset, frequency, recency_days, customer_age_days, recency, customer_age
)

select * from final
