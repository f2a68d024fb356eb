{#-
    The calibration fits' input: one row per dataset and distinct calibration (frequency,
    recency, T) with its customer count (the weights).
    Only the customers of the fit sample (var fit_max_customers, macro crm_fit_sample_share):
    every customer when a dataset has no more than that many.
-#}
with

validation_customers as (
    select * from {{ ref('int_validation_customers') }}
),

fit_shares as (
    select
        dataset,
        {{ crm_fit_sample_share('count(*)') }} as fitted_share
    from validation_customers
    group by dataset
),

fitted_customers as (
    select validation_customers.*
    from validation_customers
    inner join fit_shares
        on validation_customers.dataset = fit_shares.dataset
    where
        {{ crm_customer_hash_fraction('validation_customers.dataset', 'validation_customers.customer_id') }}
        < fit_shares.fitted_share
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
    from fitted_customers
    group by dataset, frequency, recency_days, customer_age_days, recency, customer_age
)

select * from final
