"""Section "Overview": what the database holds, one row per dataset (the mart datasets)."""

from __future__ import annotations

import pandas as pd

from crm_analytics.report.formatting import fmt_int, fmt_pct
from crm_analytics.report.page import SECTION_TITLES, Block, Section, html_table


def overview_section(datasets: pd.DataFrame) -> Section:
    """One table row per dataset (from the mart datasets) and a one-line reading."""
    rows = []
    for record in datasets.itertuples(index=False):
        quarantined_share = record.quarantined_rows / record.raw_rows if record.raw_rows else 0
        rows.append(
            (
                record.dataset,
                str(record.input_shape).replace("_", " "),
                fmt_int(record.raw_rows),
                fmt_int(record.clean_rows),
                f"{fmt_int(record.quarantined_rows)} ({fmt_pct(quarantined_share, 1)})",
                fmt_int(record.customers),
                f"{record.first_order_date:%Y-%m-%d} to {record.last_order_date:%Y-%m-%d}",
                f"{record.analysis_date:%Y-%m-%d}",
            )
        )
    table = html_table(
        (
            "Dataset",
            "Input",
            "Raw rows",
            "Clean rows",
            "Quarantined rows",
            "Customers",
            "Orders from - to",
            "Analysis date",
        ),
        rows,
        row_attributes=({"dataset": name} for name in datasets["dataset"]),
        numeric=(False, False, True, True, True, True, False, False),
    )
    descriptions = []
    for record in datasets.itertuples(index=False):
        share = record.quarantined_rows / record.raw_rows if record.raw_rows else 0
        descriptions.append(
            f"{record.dataset} ({fmt_int(record.customers)} customers, "
            f"{fmt_pct(share, 1)} of raw rows quarantined, as of {record.analysis_date:%Y-%m-%d})"
        )
    reading = (
        f"{len(datasets)} dataset{'s' if len(datasets) != 1 else ''}: "
        + "; ".join(descriptions)
        + "."
    )
    return Section(
        "overview",
        SECTION_TITLES["overview"],
        "What the database holds: each dataset's rows (raw = clean + quarantined), customers and "
        "the date every analysis is made as of.",
        [Block("overview-datasets", "Datasets", reading=reading, table_html=table)],
    )
