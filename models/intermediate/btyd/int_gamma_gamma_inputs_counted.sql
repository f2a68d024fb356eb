{#-
    The Gamma-Gamma fit's input: distinct (frequency, monetary value) rows of the repeat buyers
    (frequency > 0; the model is undefined for one-time buyers) with their customer counts.
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
        monetary_value,
        count(*) as customers
    from fitted_customers
    where frequency > 0
    group by dataset, frequency, monetary_value
)

select * from final
