{#-
    Gives every staged invoice line its final status: clean (quarantine_reason is null) or
    quarantined with one reason.

    Sheet overlap. The Online Retail II workbook has two yearly sheets that both hold
    2010-12-01..2010-12-09; a file made by stacking them (the .parquet and .csv copies in
    circulation) holds those lines twice. The input is cut into parts: a new part starts at
    each file, each sheet, and wherever a timestamp is earlier than the one on the row before
    it (as at the join of two date-ordered sheets). Parts are ordered by their first timestamp.
    A line in a later part that is an exact copy (all eight columns) of a line in an earlier
    part, within the time span both parts cover, is a `sheet_overlap_duplicate`; when the
    earlier part holds a line n times, at most n copies are set aside. Exact copies inside one
    part are kept, as the course does. Only lines inside another part's time span are compared,
    so the check costs little on inputs without overlap.
-#}
with

lines as (
    select * from {{ ref('stg_transactions__invoice_lines') }}
),

-- rows without a readable timestamp are quarantined anyway and take no part in the check
timed_lines as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
        ordered_at,
        lag(ordered_at) over (
            partition by dataset, source_file, source_sheet
            order by source_row_number
        ) as previous_ordered_at
    from lines
    where ordered_at is not null
),

parted as (
    select
        *,
        sum(case when ordered_at < previous_ordered_at then 1 else 0 end) over (
            partition by dataset, source_file, source_sheet
            order by source_row_number
            rows between unbounded preceding and current row
        ) as part_in_sheet
    from timed_lines
),

parts as (
    select
        dataset,
        source_file,
        source_sheet,
        part_in_sheet,
        min(ordered_at) as part_starts_at,
        max(ordered_at) as part_ends_at
    from parted
    group by dataset, source_file, source_sheet, part_in_sheet
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

lines_in_parts as (
    select
        lines.*,
        parts_spanned.part_number,
        parts_spanned.earlier_parts_end_at,
        parts_spanned.later_parts_start_at
    from parted
    inner join parts_spanned
        on parted.dataset = parts_spanned.dataset
        and parted.source_file = parts_spanned.source_file
        and parted.source_sheet = parts_spanned.source_sheet
        and parted.part_in_sheet = parts_spanned.part_in_sheet
    inner join lines
        on parted.dataset = lines.dataset
        and parted.source_file = lines.source_file
        and parted.source_sheet = lines.source_sheet
        and parted.source_row_number = lines.source_row_number
),

-- only lines whose time another part also covers can be copies; everything else skips the check
overlap_candidates as (
    select
        lines_in_parts.dataset,
        lines_in_parts.source_file,
        lines_in_parts.source_sheet,
        lines_in_parts.source_row_number,
        lines_in_parts.part_number,
        {{ dbt.hash(dbt.concat([
            "coalesce(lines_in_parts.invoice_id, '~')", "'|'",
            "coalesce(lines_in_parts.stock_code, '~')", "'|'",
            "coalesce(lines_in_parts.product_description, '~')", "'|'",
            "coalesce(cast(lines_in_parts.quantity as " ~ dbt.type_string() ~ "), '~')", "'|'",
            "coalesce(cast(lines_in_parts.ordered_at as " ~ dbt.type_string() ~ "), '~')", "'|'",
            "coalesce(cast(lines_in_parts.unit_price as " ~ dbt.type_string() ~ "), '~')", "'|'",
            "coalesce(lines_in_parts.customer_id, '~')", "'|'",
            "coalesce(lines_in_parts.country, '~')",
        ])) }} as line_fingerprint
    from lines_in_parts
    where lines_in_parts.ordered_at <= lines_in_parts.earlier_parts_end_at
        or lines_in_parts.ordered_at >= lines_in_parts.later_parts_start_at
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
        numbered.dataset,
        numbered.source_file,
        numbered.source_sheet,
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
        on lines.dataset = overlap_duplicates.dataset
        and lines.source_file = overlap_duplicates.source_file
        and lines.source_sheet = overlap_duplicates.source_sheet
        and lines.source_row_number = overlap_duplicates.source_row_number
),

final as (
    select
        dataset,
        source_file,
        source_sheet,
        source_row_number,
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
