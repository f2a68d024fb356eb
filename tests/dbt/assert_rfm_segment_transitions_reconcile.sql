{#-
    rfm_segment_transitions reconciles with rfm_monthly and kpi_monthly, for every dataset and
    pair of consecutive snapshots: its customers by to_segment add up to the later snapshot's
    segment sizes, those by from_segment (the segments proper, not the not-yet states) to the
    earlier snapshot's, and its revenue to the month's revenue in kpi_monthly (every order of
    the month between, within 1e-9 relative). Returns each segment or month that does not.
-#}
with

transitions as (
    select * from {{ ref('rfm_segment_transitions') }}
),

rfm_monthly as (
    select * from {{ ref('rfm_monthly') }}
),

kpi_monthly as (
    select * from {{ ref('kpi_monthly') }}
),

snapshots as (
    select * from {{ ref('int_rfm_snapshots_spined') }}
),

snapshot_pairs as (
    select
        dataset,
        previous_snapshot_date as from_snapshot_date,
        snapshot_date as to_snapshot_date
    from snapshots
    where previous_snapshot_date is not null
),

segment_sizes as (
    select
        dataset,
        snapshot_date,
        segment,
        count(*) as customers
    from rfm_monthly
    group by dataset, snapshot_date, segment
),

to_side_expected as (
    select segment_sizes.*
    from segment_sizes
    inner join snapshot_pairs
        on segment_sizes.dataset = snapshot_pairs.dataset
        and segment_sizes.snapshot_date = snapshot_pairs.to_snapshot_date
),

from_side_expected as (
    select segment_sizes.*
    from segment_sizes
    inner join snapshot_pairs
        on segment_sizes.dataset = snapshot_pairs.dataset
        and segment_sizes.snapshot_date = snapshot_pairs.from_snapshot_date
),

to_side as (
    select
        dataset,
        to_snapshot_date as snapshot_date,
        to_segment as segment,
        sum(customers) as customers
    from transitions
    group by dataset, to_snapshot_date, to_segment
),

from_side as (
    select
        dataset,
        from_snapshot_date as snapshot_date,
        from_segment as segment,
        sum(customers) as customers
    from transitions
    where from_segment not in ('not_yet_customer', 'not_yet_scored')
    group by dataset, from_snapshot_date, from_segment
),

to_side_mismatches as (
    select
        'to_segment' as side,
        coalesce(to_side.dataset, to_side_expected.dataset) as dataset,
        coalesce(to_side.snapshot_date, to_side_expected.snapshot_date) as snapshot_date,
        coalesce(to_side.segment, to_side_expected.segment) as segment,
        cast(to_side.customers as {{ dbt.type_float() }}) as in_transitions,
        cast(to_side_expected.customers as {{ dbt.type_float() }}) as expected
    from to_side
    full outer join to_side_expected
        on to_side.dataset = to_side_expected.dataset
        and to_side.snapshot_date = to_side_expected.snapshot_date
        and to_side.segment = to_side_expected.segment
    where to_side.customers is null
        or to_side_expected.customers is null
        or to_side.customers != to_side_expected.customers
),

from_side_mismatches as (
    select
        'from_segment' as side,
        coalesce(from_side.dataset, from_side_expected.dataset) as dataset,
        coalesce(from_side.snapshot_date, from_side_expected.snapshot_date) as snapshot_date,
        coalesce(from_side.segment, from_side_expected.segment) as segment,
        cast(from_side.customers as {{ dbt.type_float() }}) as in_transitions,
        cast(from_side_expected.customers as {{ dbt.type_float() }}) as expected
    from from_side
    full outer join from_side_expected
        on from_side.dataset = from_side_expected.dataset
        and from_side.snapshot_date = from_side_expected.snapshot_date
        and from_side.segment = from_side_expected.segment
    where from_side.customers is null
        or from_side_expected.customers is null
        or from_side.customers != from_side_expected.customers
),

transition_revenue as (
    select
        dataset,
        from_snapshot_date,
        sum(revenue) as revenue
    from transitions
    group by dataset, from_snapshot_date
),

revenue_mismatches as (
    select
        'revenue' as side,
        snapshot_pairs.dataset,
        snapshot_pairs.from_snapshot_date as snapshot_date,
        cast(null as {{ dbt.type_string() }}) as segment,
        transition_revenue.revenue as in_transitions,
        coalesce(kpi_monthly.revenue, 0) as expected
    from snapshot_pairs
    left join transition_revenue
        on snapshot_pairs.dataset = transition_revenue.dataset
        and snapshot_pairs.from_snapshot_date = transition_revenue.from_snapshot_date
    left join kpi_monthly
        on snapshot_pairs.dataset = kpi_monthly.dataset
        and snapshot_pairs.from_snapshot_date = kpi_monthly.calendar_month
    where abs(coalesce(transition_revenue.revenue, 0) - coalesce(kpi_monthly.revenue, 0))
        > 1e-9 * greatest(abs(coalesce(kpi_monthly.revenue, 0)), 1)
),

final as (
    select * from to_side_mismatches
    union all
    select * from from_side_mismatches
    union all
    select * from revenue_mismatches
)

select * from final
