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

numbered_days as (
    select
        dataset,
        customer_id,
        purchase_date,
        row_number() over (partition by dataset, customer_id order by purchase_date) as day_number,
        min(purchase_date) over (partition by dataset) as period_start_date
    from purchase_days
),

repeat_days as (
    select
        dataset,
        {{ dbt.datediff('period_start_date', 'purchase_date', 'day') }}
            as day_of_period
    from numbered_days
    where day_number > 1
),

actual_weekly as (
    select
        dataset,
        cast(floor(day_of_period / 7.0) as {{ dbt.type_bigint() }}) + 1 as week,  -- noqa: RF04
        count(*) as actual_repeat_purchases
    from repeat_days
    group by dataset, cast(floor(day_of_period / 7.0) as {{ dbt.type_bigint() }}) + 1
),

period_starts as (
    select distinct
        dataset,
        period_start_date
    from numbered_days
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
