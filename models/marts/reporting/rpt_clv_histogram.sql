{#-
    The report's histogram of predicted CLV: per dataset, report_clv_histogram_bins (var,
    default 40) equal-width bins from the lowest to the highest value. When rpt_clv_summary
    says the distribution is skewed (is_log_scale), the bins are on log10 of the predicted CLV
    and customers with a CLV <= 0 are left out (rpt_clv_summary counts them); otherwise on the
    predicted CLV itself. The highest value belongs to the last bin. Only bins with customers
    have a row.
-#}
{#- a whole number from 1, checked at parse time with every var (crm_check_vars) -#}
{%- set bins = var('report_clv_histogram_bins') %}

with

cltv_predictions as (
    select * from {{ ref('cltv_predictions') }}
),

clv_summary as (
    select * from {{ ref('rpt_clv_summary') }}
),

axes as (
    select
        dataset,
        is_log_scale,
        case
            when is_log_scale then log10(min_positive_predicted_clv)
            else min_predicted_clv
        end as axis_start,
        case
            when is_log_scale then log10(max_predicted_clv)
            else max_predicted_clv
        end as axis_end
    from clv_summary
),

bin_widths as (
    select
        dataset,
        is_log_scale,
        axis_start,
        -- all values equal: one bin of width 1
        coalesce(nullif((axis_end - axis_start) / {{ bins }}, 0), 1) as bin_width
    from axes
),

scaled as (
    select
        bin_widths.dataset,
        bin_widths.axis_start,
        bin_widths.bin_width,
        case
            when not bin_widths.is_log_scale then cltv_predictions.predicted_clv
            when cltv_predictions.predicted_clv > 0 then log10(cltv_predictions.predicted_clv)
        end as scaled_clv
    from cltv_predictions
    inner join bin_widths
        on cltv_predictions.dataset = bin_widths.dataset
),

binned as (
    select
        dataset,
        cast(
            least(greatest(floor((scaled_clv - axis_start) / bin_width), 0), {{ bins }} - 1)
            as {{ dbt.type_int() }}
        ) as bin_number
    from scaled
    where scaled_clv is not null
),

counted as (
    select
        dataset,
        bin_number,
        count(*) as customers
    from binned
    group by dataset, bin_number
),

bounded as (
    select
        counted.dataset,
        counted.bin_number,
        bin_widths.is_log_scale,
        bin_widths.bin_width,
        counted.customers,
        bin_widths.axis_start + counted.bin_number * bin_widths.bin_width as bin_start,
        bin_widths.axis_start + (counted.bin_number + 1) * bin_widths.bin_width as bin_end
    from counted
    inner join bin_widths
        on counted.dataset = bin_widths.dataset
),

final as (
    select
        dataset,
        bin_number,
        is_log_scale,
        cast(bin_start as {{ dbt.type_float() }}) as bin_start,
        cast(bin_end as {{ dbt.type_float() }}) as bin_end,
        cast(bin_width as {{ dbt.type_float() }}) as bin_width,
        cast(
            case when is_log_scale then power(10, bin_start) else bin_start end
            as {{ dbt.type_float() }}
        ) as lower_predicted_clv,
        cast(
            case when is_log_scale then power(10, bin_end) else bin_end end
            as {{ dbt.type_float() }}
        ) as upper_predicted_clv,
        cast(customers as {{ dbt.type_bigint() }}) as customers
    from bounded
)

select * from final
