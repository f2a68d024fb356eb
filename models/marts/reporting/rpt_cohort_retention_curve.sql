{#-
    The report's retention curve: per transactions dataset and month since acquisition
    (1, 2, ...), the share of customers active again, over every cohort that has reached that
    month, each cohort weighted by its size (sum of active customers / sum of cohort sizes).
    Month 0 is left out (always 100%), and so are customer-summary datasets (FLO), whose
    cohort_retention rows have no activity.
-#}
with

cohort_retention as (
    select * from {{ ref('cohort_retention') }}
),

followed_months as (
    select
        dataset,
        months_since_acquisition,
        cohort_size,
        active_customers
    from cohort_retention
    where
        active_customers is not null
        and months_since_acquisition >= 1
),

final as (
    select
        dataset,
        months_since_acquisition,
        cast(count(*) as {{ dbt.type_bigint() }}) as cohorts,
        cast(sum(cohort_size) as {{ dbt.type_bigint() }}) as customers,
        cast(sum(active_customers) as {{ dbt.type_bigint() }}) as active_customers,
        cast(sum(active_customers) as {{ dbt.type_float() }}) / sum(cohort_size) as retention_rate
    from followed_months
    group by dataset, months_since_acquisition
)

select * from final
