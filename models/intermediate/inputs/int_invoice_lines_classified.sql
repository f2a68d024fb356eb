{#-
    Gives every staged invoice line its final status: clean (quarantine_reason is null) or
    quarantined with one reason. The one line-level table of the project: the clean lines and
    the quarantined lines are read from it.

    Sheet overlap. The Online Retail II workbook has two yearly sheets that both hold
    2010-12-01..2010-12-09; a file made by stacking them (the .parquet and .csv copies in
    circulation) holds those lines twice. The input is cut into parts: a new part starts at
    each file, each sheet, and wherever a timestamp is earlier than the one on the row before
    it (as at the join of two date-ordered sheets). Parts are ordered by their first timestamp.
    A line in a later part that is an exact copy (all eight columns) of a line in an earlier
    part, within the time span both parts cover, is a `sheet_overlap_duplicate`; when the
    earlier part holds a line n times, at most n copies are set aside. Exact copies inside one
    part are kept, as the course does.

    How it stays cheap on 100 million lines: neighbouring rows are compared without a global
    sort (crm_time_neighbours: in blocks of sheet_overlap_block_rows rows, or on DuckDB with a
    Parquet input in one streaming pass over the file order), and only the rows where the time
    goes back, plus the first and last row of each block, are kept; block boundaries are
    compared on those. Inside a part the time never goes back, so a part's first and last
    row give its time span without reading it again. Only the rows of parts whose spans overlap
    another part's are assigned to their part and fingerprinted; an input without overlap
    (one date-ordered file) fingerprints nothing. The sort and the joins work on the file's
    index and row number, never on names. The input is read four times (the timestamps, the
    file names, the rows in overlapping parts, everything) and never held in memory as a
    whole: each read has its own import CTE, as DuckDB materialises a CTE read more than once.
-#}
{%- set block_rows = var('sheet_overlap_block_rows') | int %}

with

-- the timestamps in file order; rows without a readable timestamp are quarantined anyway
timed_lines as (
    select
        source_file_index,
        source_row_number,
        ordered_at
    from {{ ref('stg_transactions__invoice_lines') }}
    where ordered_at is not null
),

-- which dataset, file and sheet each file index stands for (one row per file)
input_files as (
    select distinct
        source_file_index,
        dataset,
        source_file,
        source_sheet
    from {{ ref('stg_transactions__invoice_lines') }}
),

-- every line, for the fingerprints of the lines in overlapping parts
lines_to_compare as (
    select * from {{ ref('stg_transactions__invoice_lines') }}
),

-- every line, for the result
lines as (
    select * from {{ ref('stg_transactions__invoice_lines') }}
),

-- each line's neighbours in its file, found without a global sort (crm_time_neighbours)
neighbours as (
    {{ crm_time_neighbours('timed_lines', block_rows) }}
),

-- the few rows the check needs: each block's first and last row and every backward step
turning_rows as (
    select
        input_files.dataset,
        input_files.source_file,
        input_files.source_sheet,
        neighbours.source_file_index,
        neighbours.source_row_number,
        neighbours.row_block,
        neighbours.ordered_at,
        neighbours.previous_in_block,
        neighbours.next_in_block
    from neighbours
    inner join input_files
        on neighbours.source_file_index = input_files.source_file_index
    where neighbours.previous_in_block is null
        or neighbours.next_in_block is null
        or neighbours.ordered_at < neighbours.previous_in_block
),

blocks as (
    select
        dataset,
        source_file,
        source_sheet,
        source_file_index,
        row_block,
        min(source_row_number) as first_row_number,
        max(case when previous_in_block is null then ordered_at end) as first_ordered_at,
        max(case when next_in_block is null then ordered_at end) as last_ordered_at
    from turning_rows
    group by dataset, source_file, source_sheet, source_file_index, row_block
),

blocks_chained as (
    select
        *,
        lag(last_ordered_at) over (
            partition by source_file_index order by row_block
        ) as previous_block_last_ordered_at,
        lead(first_ordered_at) over (
            partition by source_file_index order by row_block
        ) as next_block_first_ordered_at
    from blocks
),

-- where a part starts: the first row of a file or sheet, and every row earlier than the one before it
part_starts as (
    select
        dataset,
        source_file,
        source_sheet,
        source_file_index,
        first_row_number as part_first_row_number,
        first_ordered_at as part_starts_at,
        previous_block_last_ordered_at as previous_ordered_at
    from blocks_chained
    where previous_block_last_ordered_at is null
        or first_ordered_at < previous_block_last_ordered_at
    union all
    select
        dataset,
        source_file,
        source_sheet,
        source_file_index,
        source_row_number as part_first_row_number,
        ordered_at as part_starts_at,
        previous_in_block as previous_ordered_at
    from turning_rows
    where ordered_at < previous_in_block
),

file_ends as (
    select
        source_file_index,
        last_ordered_at as file_ends_at
    from blocks_chained
    where next_block_first_ordered_at is null
),

-- a part ends on the row before the next part starts (its time never goes back in between)
parts as (
    select
        part_starts.dataset,
        part_starts.source_file,
        part_starts.source_sheet,
        part_starts.source_file_index,
        part_starts.part_first_row_number,
        part_starts.part_starts_at,
        row_number() over (
            partition by part_starts.source_file_index
            order by part_starts.part_first_row_number
        ) - 1 as part_in_sheet,
        coalesce(
            lead(part_starts.previous_ordered_at) over (
                partition by part_starts.source_file_index
                order by part_starts.part_first_row_number
            ),
            file_ends.file_ends_at
        ) as part_ends_at
    from part_starts
    inner join file_ends
        on part_starts.source_file_index = file_ends.source_file_index
),

parts_numbered as (
    select
        *,
        row_number() over (
            partition by dataset
            order by part_starts_at, source_file, source_sheet, part_in_sheet
        ) as part_number
    from parts
),

-- the time span that the parts before and after each part cover
parts_spanned as (
    select
        *,
        max(part_ends_at) over (
            partition by dataset
            order by part_number
            rows between unbounded preceding and 1 preceding
        ) as earlier_parts_end_at,
        min(part_starts_at) over (
            partition by dataset
            order by part_number
            rows between 1 following and unbounded following
        ) as later_parts_start_at
    from parts_numbered
),

-- only a part whose time span meets another part's can hold copies
overlapping_parts as (
    select *
    from parts_spanned
    where part_starts_at <= earlier_parts_end_at
        or part_ends_at >= later_parts_start_at
),

overlapping_files as (
    select
        source_file_index,
        max(earlier_parts_end_at) as latest_earlier_end_at,
        min(later_parts_start_at) as earliest_later_start_at
    from overlapping_parts
    group by source_file_index
),

-- the rows of those files inside some overlap, with the part starts, in file order
overlap_rows_and_part_starts as (
    select
        lines_to_compare.source_file_index,
        lines_to_compare.source_row_number,
        lines_to_compare.invoice_id,
        lines_to_compare.stock_code,
        lines_to_compare.product_description,
        lines_to_compare.quantity,
        lines_to_compare.ordered_at,
        lines_to_compare.unit_price,
        lines_to_compare.customer_id,
        lines_to_compare.country,
        0 as is_part_start
    from lines_to_compare
    inner join overlapping_files
        on lines_to_compare.source_file_index = overlapping_files.source_file_index
    where lines_to_compare.ordered_at <= overlapping_files.latest_earlier_end_at
        or lines_to_compare.ordered_at >= overlapping_files.earliest_later_start_at
    union all
    select
        parts.source_file_index,
        parts.part_first_row_number as source_row_number,
        null as invoice_id,
        null as stock_code,
        null as product_description,
        null as quantity,
        null as ordered_at,
        null as unit_price,
        null as customer_id,
        null as country,
        1 as is_part_start
    from parts
    inner join overlapping_files
        on parts.source_file_index = overlapping_files.source_file_index
),

rows_in_parts as (
    select
        *,
        sum(is_part_start) over (
            partition by source_file_index
            order by source_row_number asc, is_part_start desc
            rows between unbounded preceding and current row
        ) - 1 as part_in_sheet
    from overlap_rows_and_part_starts
),

-- the lines whose time another part also covers can be copies; everything else skips the check
overlap_candidates as (
    select
        overlapping_parts.dataset,
        rows_in_parts.source_file_index,
        rows_in_parts.source_row_number,
        overlapping_parts.part_number,
        {{ dbt.hash(dbt.concat([
            "coalesce(rows_in_parts.invoice_id, '~')", "'|'",
            "coalesce(rows_in_parts.stock_code, '~')", "'|'",
            "coalesce(rows_in_parts.product_description, '~')", "'|'",
            "coalesce(cast(rows_in_parts.quantity as " ~ dbt.type_string() ~ "), '~')", "'|'",
            "coalesce(cast(rows_in_parts.ordered_at as " ~ dbt.type_string() ~ "), '~')", "'|'",
            "coalesce(cast(rows_in_parts.unit_price as " ~ dbt.type_string() ~ "), '~')", "'|'",
            "coalesce(rows_in_parts.customer_id, '~')", "'|'",
            "coalesce(rows_in_parts.country, '~')",
        ])) }} as line_fingerprint
    from rows_in_parts
    inner join overlapping_parts
        on rows_in_parts.source_file_index = overlapping_parts.source_file_index
        and rows_in_parts.part_in_sheet = overlapping_parts.part_in_sheet
    where rows_in_parts.is_part_start = 0
        and rows_in_parts.ordered_at is not null
        and (
            rows_in_parts.ordered_at <= overlapping_parts.earlier_parts_end_at
            or rows_in_parts.ordered_at >= overlapping_parts.later_parts_start_at
        )
),

copies_per_part as (
    select
        dataset,
        line_fingerprint,
        part_number,
        count(*) as copies
    from overlap_candidates
    group by dataset, line_fingerprint, part_number
),

first_appearance as (
    select
        dataset,
        line_fingerprint,
        part_number as first_part_number,
        copies as copies_in_first_part
    from (
        select
            *,
            row_number() over (
                partition by dataset, line_fingerprint order by part_number
            ) as appearance_order
        from copies_per_part
    ) as ranked_parts
    where appearance_order = 1
),

overlap_duplicates as (
    select
        numbered.source_file_index,
        numbered.source_row_number
    from (
        select
            *,
            row_number() over (
                partition by dataset, line_fingerprint, part_number
                order by source_row_number
            ) as copy_number
        from overlap_candidates
    ) as numbered
    inner join first_appearance
        on numbered.dataset = first_appearance.dataset
        and numbered.line_fingerprint = first_appearance.line_fingerprint
    where numbered.part_number > first_appearance.first_part_number
        and numbered.copy_number <= first_appearance.copies_in_first_part
),

classified as (
    select
        lines.*,
        case
            when lines.invalid_reason is not null then lines.invalid_reason
            when overlap_duplicates.source_row_number is not null then 'sheet_overlap_duplicate'
            else lines.exclusion_reason
        end as quarantine_reason,
        case
            when lines.invalid_reason is not null then lines.invalid_detail
            when overlap_duplicates.source_row_number is not null
                then 'exact copy of a line in an earlier sheet or part of the input'
        end as quarantine_detail
    from lines
    left join overlap_duplicates
        on lines.source_file_index = overlap_duplicates.source_file_index
        and lines.source_row_number = overlap_duplicates.source_row_number
),

final as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
        source_file_index,
        invoice_id,
        stock_code,
        product_description,
        quantity,
        ordered_at,
        unit_price,
        line_revenue,
        customer_id,
        country,
        quarantine_reason,
        quarantine_detail
    from classified
)

select * from final
