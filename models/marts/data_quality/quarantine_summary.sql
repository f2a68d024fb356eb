{#-
    One row per dataset and quarantine reason: the rows set aside and the first of them in file
    order (file, then row number). Aggregations rather than a window over every quarantined
    row, which would sort them all; each import CTE is read once (DuckDB materialises a CTE
    read more than once). When two sheets of one file tie on the first row number, the
    smaller detail is shown.
-#}
with

quarantined_lines_counted as (
    select
        dataset,
        quarantine_reason,
        count(*) as quarantined_rows,
        min(source_file) as first_source_file
    from {{ ref('quarantined_invoice_lines') }}
    group by dataset, quarantine_reason
),

quarantined_lines_in_first_file as (
    select
        dataset,
        quarantine_reason,
        source_file,
        source_row_number,
        quarantine_detail
    from {{ ref('quarantined_invoice_lines') }}
),

quarantined_lines_for_detail as (
    select
        dataset,
        quarantine_reason,
        source_file,
        source_row_number,
        quarantine_detail
    from {{ ref('quarantined_invoice_lines') }}
),

quarantined_summaries as (
    select * from {{ ref('quarantined_customer_summaries') }}
),

-- customer summaries are few: their first rows come straight from a window
summary_reasons as (
    select
        dataset,
        quarantine_reason,
        source_file as first_source_file,
        source_row_number as first_source_row_number,
        quarantine_detail as first_quarantine_detail,
        'customer_summaries' as input_shape,
        count(*) over (partition by dataset, quarantine_reason) as quarantined_rows,
        row_number() over (
            partition by dataset, quarantine_reason
            order by source_file, source_row_number
        ) as row_order
    from quarantined_summaries
),

first_line_numbers as (
    select
        quarantined_lines_in_first_file.dataset,
        quarantined_lines_in_first_file.quarantine_reason,
        quarantined_lines_in_first_file.source_file,
        min(quarantined_lines_in_first_file.source_row_number) as first_source_row_number
    from quarantined_lines_in_first_file
    inner join quarantined_lines_counted
        on quarantined_lines_in_first_file.dataset = quarantined_lines_counted.dataset
        and quarantined_lines_in_first_file.quarantine_reason = quarantined_lines_counted.quarantine_reason
        and quarantined_lines_in_first_file.source_file = quarantined_lines_counted.first_source_file
    group by
        quarantined_lines_in_first_file.dataset,
        quarantined_lines_in_first_file.quarantine_reason,
        quarantined_lines_in_first_file.source_file
),

first_line_details as (
    select
        quarantined_lines_for_detail.dataset,
        quarantined_lines_for_detail.quarantine_reason,
        quarantined_lines_for_detail.source_file,
        quarantined_lines_for_detail.source_row_number,
        min(quarantined_lines_for_detail.quarantine_detail) as quarantine_detail
    from quarantined_lines_for_detail
    inner join first_line_numbers
        on quarantined_lines_for_detail.dataset = first_line_numbers.dataset
        and quarantined_lines_for_detail.quarantine_reason = first_line_numbers.quarantine_reason
        and quarantined_lines_for_detail.source_file = first_line_numbers.source_file
        and quarantined_lines_for_detail.source_row_number = first_line_numbers.first_source_row_number
    group by
        quarantined_lines_for_detail.dataset,
        quarantined_lines_for_detail.quarantine_reason,
        quarantined_lines_for_detail.source_file,
        quarantined_lines_for_detail.source_row_number
),

line_reasons as (
    select
        quarantined_lines_counted.dataset,
        'transactions' as input_shape,
        quarantined_lines_counted.quarantine_reason,
        quarantined_lines_counted.quarantined_rows,
        quarantined_lines_counted.first_source_file,
        first_line_details.source_row_number as first_source_row_number,
        first_line_details.quarantine_detail as first_quarantine_detail
    from quarantined_lines_counted
    inner join first_line_details
        on quarantined_lines_counted.dataset = first_line_details.dataset
        and quarantined_lines_counted.quarantine_reason = first_line_details.quarantine_reason
        and quarantined_lines_counted.first_source_file = first_line_details.source_file
),

final as (
    select * from line_reasons
    union all
    select
        dataset,
        input_shape,
        quarantine_reason,
        quarantined_rows,
        first_source_file,
        first_source_row_number,
        first_quarantine_detail
    from summary_reasons
    where row_order = 1
)

select * from final
