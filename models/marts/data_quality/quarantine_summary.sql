with

quarantined_lines as (
    select * from {{ ref('quarantined_invoice_lines') }}
),

quarantined_summaries as (
    select * from {{ ref('quarantined_customer_summaries') }}
),

quarantined as (
    select
        dataset,
        'transactions' as input_shape,
        quarantine_reason,
        quarantine_detail,
        source_file,
        source_row_number
    from quarantined_lines
    union all
    select
        dataset,
        'customer_summaries' as input_shape,
        quarantine_reason,
        quarantine_detail,
        source_file,
        source_row_number
    from quarantined_summaries
),

ranked as (
    select
        *,
        count(*) over (partition by dataset, quarantine_reason) as quarantined_rows,
        row_number() over (
            partition by dataset, quarantine_reason
            order by source_file, source_row_number
        ) as row_order
    from quarantined
),

final as (
    select
        dataset,
        input_shape,
        quarantine_reason,
        quarantined_rows,
        source_file as first_source_file,
        source_row_number as first_source_row_number,
        quarantine_detail as first_quarantine_detail
    from ranked
    where row_order = 1
)

select * from final
