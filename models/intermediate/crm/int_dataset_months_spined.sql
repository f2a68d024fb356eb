{#-
    One row per transactions dataset and calendar month from its first to its last month with
    orders (before the analysis date), months without orders included, so that monthly
    tables show gaps as zeros rather than skipping them. Up to 100 years of months.
-#}
with

customer_months as (
    select * from {{ ref('int_customer_months_accumulated') }}
),

month_numbers as (
    {{ dbt.generate_series(1200) }}
),

bounds as (
    select
        dataset,
        min(activity_month) as first_month,
        max(activity_month) as last_month
    from customer_months
    group by dataset
),

final as (
    select
        bounds.dataset,
        cast({{ dbt.dateadd('month', 'month_numbers.generated_number - 1', 'bounds.first_month') }} as date)
            as calendar_month,
        month_numbers.generated_number - 1 as month_index
    from bounds
    cross join month_numbers
    where {{ dbt.dateadd('month', 'month_numbers.generated_number - 1', 'bounds.first_month') }}
        <= bounds.last_month
)

select * from final
