{#-
    The Gamma-Gamma fit's input: distinct (frequency, monetary value) rows of the repeat buyers
    (frequency > 0; the model is undefined for one-time buyers) with their customer counts.
    Only the customers of the fit sample (var fit_max_customers, macro crm_fit_sample_share):
    every customer when a dataset has no more than that many.

    The rows are grouped on the mean spend rounded to 1e-6 (a millionth of the currency unit),
    not on the exact double: the spend is a sum of line revenues divided by the purchases, and
    engines (DuckDB's fsum, Spark's sum) can differ in its last bit, which would give different
    distinct rows, weights and covariances on the same customers (issue 14: "no grouping on
    exact floating-point values"). The value fitted is the smallest spend in the group, so a
    group only ever joins spends that differ by rounding noise.
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
        min(monetary_value) as monetary_value,
        count(*) as customers
    from fitted_customers
    where frequency > 0
    group by dataset, frequency, round(monetary_value, 6)
)

select * from final
