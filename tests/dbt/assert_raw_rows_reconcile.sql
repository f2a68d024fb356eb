{#-
    Nothing lost: for every dataset, the rows read from the input file equal the clean rows
    plus the quarantined rows. Returns the datasets where they do not.
-#}
with

raw_lines as (
    select
        dataset,
        count(*) as raw_rows
    from {{ ref('base_transactions__raw_lines') }}
    group by dataset
),

raw_summaries as (
    select
        dataset,
        count(*) as raw_rows
    from {{ ref('base_customer_summaries__raw_rows') }}
    group by dataset
),

clean_lines as (
    select
        dataset,
        count(*) as clean_rows
    from {{ ref('int_invoice_lines_cleaned') }}
    group by dataset
),

clean_summaries as (
    select
        dataset,
        count(*) as clean_rows
    from {{ ref('int_customer_summaries_cleaned') }}
    group by dataset
),

quarantined_lines as (
    select
        dataset,
        count(*) as quarantined_rows
    from {{ ref('quarantined_invoice_lines') }}
    group by dataset
),

quarantined_summaries as (
    select
        dataset,
        count(*) as quarantined_rows
    from {{ ref('quarantined_customer_summaries') }}
    group by dataset
),

raw_rows as (
    select * from raw_lines
    union all
    select * from raw_summaries
),

clean_rows as (
    select * from clean_lines
    union all
    select * from clean_summaries
),

quarantined_rows as (
    select * from quarantined_lines
    union all
    select * from quarantined_summaries
),

final as (
    select
        raw_rows.dataset,
        raw_rows.raw_rows,
        coalesce(clean_rows.clean_rows, 0) as clean_rows,
        coalesce(quarantined_rows.quarantined_rows, 0) as quarantined_rows
    from raw_rows
    left join clean_rows on raw_rows.dataset = clean_rows.dataset
    left join quarantined_rows on raw_rows.dataset = quarantined_rows.dataset
    where raw_rows.raw_rows
        != coalesce(clean_rows.clean_rows, 0) + coalesce(quarantined_rows.quarantined_rows, 0)
)

select * from final
