{#-
    The tracking plot's data, per transactions dataset, model and week of the whole period
    (week 1 starts on the dataset's first purchase day; the last week ends at the analysis
    date): actual repeat purchases (purchase days after each customer's first), and the
    expected repeat purchases of the model fitted on the calibration period, summed over every
    customer acquired by then; incremental and cumulative. Weeks after the calibration end are
    the holdout.
-#}
with

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

birth_inputs as (
    select * from {{ ref('int_validation_birth_inputs_counted') }}
),

expectations as (
    select * from {{ ref('int_validation_tracking_predicted') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

-- the period's first purchase day, the start of week 1
period_starts as (
    select
        dataset,
        min(purchase_date) as period_start_date
    from purchase_days
    group by dataset
),

dated_purchase_days as (
    select
        purchase_days.dataset,
        {{ dbt.datediff('period_starts.period_start_date', 'purchase_days.purchase_date', 'day') }}
            as day_of_period
    from purchase_days
    inner join period_starts
        on purchase_days.dataset = period_starts.dataset
),

purchase_day_weeks as (
    select
        dataset,
        cast(floor(day_of_period / 7.0) as {{ dbt.type_bigint() }}) + 1 as week  -- noqa: RF04
    from dated_purchase_days
),

purchase_weeks as (
    select
        dataset,
        week,  -- noqa: RF04
        count(*) as purchase_days
    from purchase_day_weeks
    group by dataset, week
),

-- each customer's first purchase day, by week, from the birth inputs (same period start)
birth_weeks as (
    select
        dataset,
        cast(floor(birth_offset_days / 7.0) as {{ dbt.type_bigint() }}) + 1 as week,  -- noqa: RF04
        customers
    from birth_inputs
),

first_purchase_weeks as (
    select
        dataset,
        week,  -- noqa: RF04
        sum(customers) as first_purchase_days
    from birth_weeks
    group by dataset, week
),

-- repeat purchase days = all purchase days - each customer's first: two aggregations instead
-- of numbering every customer's days (a sort of every purchase day, 44 s at 100 M lines)
actual_weekly as (
    select
        purchase_weeks.dataset,
        purchase_weeks.week,
        purchase_weeks.purchase_days
        - coalesce(first_purchase_weeks.first_purchase_days, 0) as actual_repeat_purchases
    from purchase_weeks
    left join first_purchase_weeks
        on purchase_weeks.dataset = first_purchase_weeks.dataset
        and purchase_weeks.week = first_purchase_weeks.week
),

expected_weekly as (
    select
        cast(expectations.dataset as {{ dbt.type_string() }}) as dataset,
        cast(expectations.model as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        expectations.week,  -- noqa: RF04
        sum(expectations.expected_cumulative_repeat_purchases * birth_inputs.customers)
            as expected_cumulative_repeat_purchases
    from expectations
    inner join birth_inputs
        on expectations.dataset = birth_inputs.dataset
        and expectations.birth_offset_days = birth_inputs.birth_offset_days
    group by
        cast(expectations.dataset as {{ dbt.type_string() }}),
        cast(expectations.model as {{ dbt.type_string() }}),
        expectations.week
),

combined as (
    select
        expected_weekly.dataset,
        expected_weekly.model,
        expected_weekly.week,
        cast({{ dbt.dateadd('day', '7 * (expected_weekly.week - 1)', 'period_starts.period_start_date') }} as date)
            as week_start_date,
        dated_datasets.calibration_end_date,
        coalesce(actual_weekly.actual_repeat_purchases, 0) as actual_repeat_purchases,
        expected_weekly.expected_cumulative_repeat_purchases
    from expected_weekly
    inner join period_starts
        on expected_weekly.dataset = period_starts.dataset
    inner join dated_datasets
        on expected_weekly.dataset = dated_datasets.dataset
    left join actual_weekly
        on expected_weekly.dataset = actual_weekly.dataset
        and expected_weekly.week = actual_weekly.week
),

final as (
    select
        dataset,
        model,
        cast(week as {{ dbt.type_int() }}) as week,  -- noqa: RF04
        week_start_date,
        week_start_date > calibration_end_date as is_holdout,
        cast(actual_repeat_purchases as {{ dbt.type_bigint() }}) as actual_repeat_purchases,
        cast(
            expected_cumulative_repeat_purchases
            - coalesce(
                lag(expected_cumulative_repeat_purchases) over (partition by dataset, model order by week),
                0
            ) as {{ dbt.type_float() }}
        ) as expected_repeat_purchases,
        cast(
            sum(actual_repeat_purchases) over (
                partition by dataset, model order by week rows between unbounded preceding and current row
            ) as {{ dbt.type_bigint() }}
        ) as actual_cumulative_repeat_purchases,
        cast(expected_cumulative_repeat_purchases as {{ dbt.type_float() }}) as expected_cumulative_repeat_purchases
    from combined
)

select * from final
