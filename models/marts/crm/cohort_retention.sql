{#-
    Cohort retention per dataset: customers grouped by the month of their first order, followed
    month by month. Transactions datasets get every month from acquisition to the last month
    with orders. Customer summaries (FLO) hold only first and last order dates, not the months
    in between, so they get the acquisition row (months_since_acquisition = 0) with the cohort
    size only; the activity columns are null there.
-#}
with

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

months as (
    select * from {{ ref('int_dataset_months_spined') }}
),

customers as (
    select * from {{ ref('int_customers_aggregated') }}
),

cohorts as (
    select
        dataset,
        input_shape,
        cast({{ dbt.date_trunc('month', 'first_order_at') }} as date) as acquisition_month,
        count(*) as cohort_size
    from customers
    group by dataset, input_shape, cast({{ dbt.date_trunc('month', 'first_order_at') }} as date)
),

cohort_activity as (
    select
        dataset,
        acquisition_month,
        activity_month,
        count(*) as active_customers,
        sum(revenue) as revenue
    from customer_months
    group by dataset, acquisition_month, activity_month
),

transaction_grid as (
    select
        cohorts.dataset,
        cohorts.acquisition_month,
        cohorts.cohort_size,
        months.calendar_month,
        {{ dbt.datediff('cohorts.acquisition_month', 'months.calendar_month', 'month') }}
            as months_since_acquisition
    from cohorts
    inner join months
        on cohorts.dataset = months.dataset
        and cohorts.acquisition_month <= months.calendar_month
    where cohorts.input_shape = 'transactions'
),

transaction_cohorts as (
    select
        transaction_grid.dataset,
        transaction_grid.acquisition_month,
        transaction_grid.months_since_acquisition,
        transaction_grid.calendar_month,
        transaction_grid.cohort_size,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        coalesce(cohort_activity.revenue, 0) as revenue
    from transaction_grid
    left join cohort_activity
        on transaction_grid.dataset = cohort_activity.dataset
        and transaction_grid.acquisition_month = cohort_activity.acquisition_month
        and transaction_grid.calendar_month = cohort_activity.activity_month
),

transaction_rows as (
    select
        dataset,
        acquisition_month,
        months_since_acquisition,
        calendar_month,
        cohort_size,
        active_customers,
        cast(active_customers as {{ dbt.type_float() }}) / cohort_size as retention_rate,
        revenue,
        sum(revenue) over (
            partition by dataset, acquisition_month
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) / cohort_size as cumulative_revenue_per_customer
    from transaction_cohorts
),

summary_rows as (
    select
        dataset,
        acquisition_month,
        0 as months_since_acquisition,
        acquisition_month as calendar_month,
        cohort_size,
        cast(null as {{ dbt.type_bigint() }}) as active_customers,
        cast(null as {{ dbt.type_float() }}) as retention_rate,
        cast(null as {{ dbt.type_float() }}) as revenue,
        cast(null as {{ dbt.type_float() }}) as cumulative_revenue_per_customer
    from cohorts
    where input_shape = 'customer_summaries'
),

unioned as (
    select * from transaction_rows
    union all
    select * from summary_rows
),

final as (
    select
        dataset,
        acquisition_month,
        cast(months_since_acquisition as {{ dbt.type_int() }}) as months_since_acquisition,
        calendar_month,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(retention_rate as {{ dbt.type_float() }}) as retention_rate,
        cast(revenue as {{ dbt.type_float() }}) as revenue,
        cast(cumulative_revenue_per_customer as {{ dbt.type_float() }}) as cumulative_revenue_per_customer
    from unioned
)

select * from final
