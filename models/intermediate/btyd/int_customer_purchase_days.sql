{#-
    One row per transactions dataset, customer and calendar day with a purchase on or before
    the analysis date, with the day's revenue from capped lines. The purchase-day grain is the
    lifetimes convention (summary_data_from_transaction_data with freq='D'): several orders on
    one day are one purchase.

    Capping, for the BTYD model inputs only, as the course does before fitting: per dataset
    and column, quantity and unit price above q_high + multiplier x (q_high - q_low) (defaults
    q99 + 1.5 x (q99 - q01), linear quantiles as pandas) are set to that limit; with
    cap_outliers false the values pass unchanged. RFM and the course CLTV read the uncapped
    lines. The capped lines are not stored: they feed this one aggregation. The quantiles are
    computed from the count of each distinct value (a few thousand prices, a few hundred
    quantities) with quantile_cont's interpolation, to the last bit: quantile_cont over 100
    million lines holds every value in memory that cannot spill.
-#}
with

quantity_lines as (
    select
        dataset,
        quantity
    from {{ ref('int_invoice_lines_cleaned') }}
),

price_lines as (
    select
        dataset,
        unit_price
    from {{ ref('int_invoice_lines_cleaned') }}
),

invoice_lines as (
    select
        dataset,
        customer_id,
        ordered_at,
        quantity,
        unit_price
    from {{ ref('int_invoice_lines_cleaned') }}
),

dated_datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

-- the quantiles come from how often each value occurs, not from holding and sorting every line
value_counts as (
    select
        dataset,
        'quantity' as measure,
        cast(quantity as {{ dbt.type_float() }}) as measured_value,
        count(*) as value_rows
    from quantity_lines
    group by dataset, quantity
    union all
    select
        dataset,
        'unit_price' as measure,
        unit_price as measured_value,
        count(*) as value_rows
    from price_lines
    group by dataset, unit_price
),

value_positions as (
    select
        dataset,
        measure,
        measured_value,
        -- 0-based positions of the value's first and last line in sorted order
        sum(value_rows) over (
            partition by dataset, measure
            order by measured_value
            rows between unbounded preceding and current row
        ) - value_rows as first_position,
        sum(value_rows) over (
            partition by dataset, measure
            order by measured_value
            rows between unbounded preceding and current row
        ) - 1 as last_position,
        sum(value_rows) over (partition by dataset, measure) as measure_rows
    from value_counts
),

fractions as (
    select
        'lower' as bound,
        cast({{ var('outlier_lower_quantile') }} as {{ dbt.type_float() }}) as fraction
    union all
    select
        'upper' as bound,
        cast({{ var('outlier_upper_quantile') }} as {{ dbt.type_float() }}) as fraction
),

-- linear interpolation as quantile_cont (and numpy) define it, at rank (n - 1) x fraction
quantile_ranks as (
    select distinct
        value_positions.dataset,
        value_positions.measure,
        fractions.bound,
        cast(value_positions.measure_rows - 1 as {{ dbt.type_float() }}) * fractions.fraction as quantile_rank
    from value_positions
    cross join fractions
),

quantile_neighbours as (
    select
        quantile_ranks.dataset,
        quantile_ranks.measure,
        quantile_ranks.bound,
        below.measured_value as value_below,
        above.measured_value as value_above,
        quantile_ranks.quantile_rank - floor(quantile_ranks.quantile_rank) as weight
    from quantile_ranks
    inner join value_positions as below
        on quantile_ranks.dataset = below.dataset
        and quantile_ranks.measure = below.measure
        and floor(quantile_ranks.quantile_rank) between below.first_position and below.last_position
    inner join value_positions as above
        on quantile_ranks.dataset = above.dataset
        and quantile_ranks.measure = above.measure
        and ceil(quantile_ranks.quantile_rank) between above.first_position and above.last_position
),

quantiles as (
    select
        dataset,
        measure,
        bound,
        -- quantile_cont's own operation order, so the value is the same to the last bit
        case
            when weight = 0 then value_below
            else value_below * (1 - weight) + value_above * weight
        end as quantile_value
    from quantile_neighbours
),

limits as (
    select
        dataset,
        max(case when measure = 'quantity' and bound = 'upper' then quantile_value end)
        + {{ var('outlier_range_multiplier') }} * (
            max(case when measure = 'quantity' and bound = 'upper' then quantile_value end)
            - max(case when measure = 'quantity' and bound = 'lower' then quantile_value end)
        ) as quantity_limit,
        max(case when measure = 'unit_price' and bound = 'upper' then quantile_value end)
        + {{ var('outlier_range_multiplier') }} * (
            max(case when measure = 'unit_price' and bound = 'upper' then quantile_value end)
            - max(case when measure = 'unit_price' and bound = 'lower' then quantile_value end)
        ) as unit_price_limit
    from quantiles
    group by dataset
),

capped_lines as (
    select
        invoice_lines.dataset,
        invoice_lines.customer_id,
        cast(invoice_lines.ordered_at as date) as purchase_date,
        case
            when {{ 'true' if var('cap_outliers') else 'false' }}
                and invoice_lines.quantity > limits.quantity_limit
                then limits.quantity_limit
            else cast(invoice_lines.quantity as {{ dbt.type_float() }})
        end
        * case
            when {{ 'true' if var('cap_outliers') else 'false' }}
                and invoice_lines.unit_price > limits.unit_price_limit
                then limits.unit_price_limit
            else invoice_lines.unit_price
        end as line_revenue
    from invoice_lines
    inner join limits
        on invoice_lines.dataset = limits.dataset
    inner join dated_datasets
        on invoice_lines.dataset = dated_datasets.dataset
    where cast(invoice_lines.ordered_at as date) <= dated_datasets.analysis_date
),

final as (
    select
        dataset,
        customer_id,
        purchase_date,
        {{ crm_sum_precise('line_revenue') }} as day_revenue
    from capped_lines
    group by dataset, customer_id, purchase_date
)

select * from final
