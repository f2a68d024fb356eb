{#-
    The BG/NBD fit's input: distinct (frequency, recency, T) rows per dataset with the number of
    customers on each (the fit's weights). A weighted fit on these rows gives the same
    estimates as one row per customer (tested in tests/python/btyd/).
-#}
with

customer_lifetime as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

final as (
    select
        dataset,
        frequency,
        recency,
        customer_age,
        count(*) as customers
    from customer_lifetime
    group by dataset, frequency, recency, customer_age
)

select * from final
