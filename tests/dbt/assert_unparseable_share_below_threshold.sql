{#-
    Rows with an unreadable value are set aside one by one; but when more than
    max_unparseable_share of a dataset's rows are unreadable, the input itself is wrong
    (a shifted column, a date format nobody expected) and the build stops. Returns, per
    dataset, the share and the first such row's file, row number and value.
-#}
with

quarantined as (
    select * from {{ ref('quarantine_summary') }}
),

datasets as (
    select * from {{ ref('datasets') }}
),

final as (
    select
        quarantined.dataset,
        quarantined.quarantined_rows,
        datasets.raw_rows,
        quarantined.first_source_file,
        quarantined.first_source_row_number,
        quarantined.first_quarantine_detail,
        1.0 * quarantined.quarantined_rows / datasets.raw_rows as unparseable_share
    from quarantined
    inner join datasets on quarantined.dataset = datasets.dataset
    where quarantined.quarantine_reason = 'unparseable_value'
        and 1.0 * quarantined.quarantined_rows / datasets.raw_rows > {{ var('max_unparseable_share') }}
)

select * from final
