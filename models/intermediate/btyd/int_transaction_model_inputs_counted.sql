{#-
    The BG/NBD fit's input: distinct (frequency, recency, T) rows per dataset with the number of
    customers on each (the fit's weights). A weighted fit on these rows gives the same
    estimates as one row per customer (tested in tests/python/btyd/).
    Only the customers of the fit sample (var fit_max_customers, macro crm_fit_sample_share):
    every customer when a dataset has no more than that many.
-#}
with

customer_lifetime as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

fit_shares as (
    select
        dataset,
        {{ crm_fit_sample_share('count(*)') }} as fitted_share
    from customer_lifetime
    group by dataset
),

fitted_customers as (
    select customer_lifetime.*
    from customer_lifetime
    inner join fit_shares
        on customer_lifetime.dataset = fit_shares.dataset
    where
        {{ crm_customer_hash_fraction('customer_lifetime.dataset', 'customer_lifetime.customer_id') }}
        < fit_shares.fitted_share
),

final as (
    select
        dataset,
        frequency,
        recency,
        customer_age,
        count(*) as customers
    from fitted_customers
    group by dataset, frequency, recency, customer_age
)

select * from final
