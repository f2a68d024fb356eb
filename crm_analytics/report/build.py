"""Assemble the report: open the marts read-only, read the finished tables, render the page."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from crm_analytics.report import data
from crm_analytics.report.clv import clv_section
from crm_analytics.report.cohorts import cohort_section
from crm_analytics.report.formatting import currency_for
from crm_analytics.report.kpi import kpi_section
from crm_analytics.report.model_checks import model_checks_section
from crm_analytics.report.overview import overview_section
from crm_analytics.report.page import Section, render_html
from crm_analytics.report.rfm import rfm_map_section, segment_summary_section
from crm_analytics.report.rfm_history import rfm_history_section

PUBLISHED_DATABASE = Path("published/crm.duckdb")
DEFAULT_OUT = Path("reports/crm_report.html")

# The tables each section reads; a section is left out (with a note) when one is missing.
SECTION_TABLES: dict[str, tuple[str, ...]] = {
    "kpi-trends": (data.KPI_MONTHLY,),
    "cohort-retention": (data.COHORT_RETENTION, data.COHORT_RETENTION_CURVE),
    "rfm-segment-map": (data.RFM_SEGMENT_MAP,),
    "segment-summary": (data.RFM_SEGMENT_SUMMARY,),
    "rfm-history": (data.RFM_SEGMENT_SIZES_MONTHLY, data.RFM_SEGMENT_TRANSITIONS),
    "clv": (data.CLV_SUMMARY, data.CLV_HISTOGRAM, data.CLV_SEGMENTS),
}


def resolve_source(source: Path | None = None) -> tuple[Path, str | None]:
    """The database to read and, when it is not the one asked for, a note saying so.

    No source given: the published copy `published/crm.duckdb`; when that is absent, the build
    database (`CRM_DUCKDB_PATH`, default `crm.duckdb`).
    """
    if source is not None:
        return source, None
    if PUBLISHED_DATABASE.is_file():
        return PUBLISHED_DATABASE, None
    build = Path(os.environ.get("CRM_DUCKDB_PATH") or "crm.duckdb")
    return build, (
        f"{PUBLISHED_DATABASE} not found: reading the build database {build} instead "
        "(it must not be open in a dbt build while the report reads it)."
    )


def open_read_only(source: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to `source`, with a message that says what to do when it fails."""
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}: run `make run` (or publish) first")
    try:
        return duckdb.connect(str(source), read_only=True)
    except duckdb.IOException as error:
        raise RuntimeError(
            f"cannot open {source} read-only (is a dbt build writing it?): {error}"
        ) from error


def read_sections(
    con: duckdb.DuckDBPyConnection,
    datasets: pd.DataFrame,
    dataset: str | None,
    currencies: Mapping[str, str] | None,
) -> tuple[list[Section], list[tuple[str, str]]]:
    """Every section after the overview whose tables exist, and notes for the missing ones."""
    has = {name: data.table_exists(con, name) for name in data.REPORT_TABLES}
    ready = {
        section_id: all(has[name] for name in tables)
        for section_id, tables in SECTION_TABLES.items()
    }
    sections: list[Section] = []
    notes: list[tuple[str, str]] = []
    if ready["kpi-trends"]:
        sections.append(kpi_section(data.load_kpi_monthly(con, dataset), datasets, currencies))
    if ready["cohort-retention"]:
        sections.append(
            cohort_section(
                data.load_cohort_retention(con, dataset),
                data.load_retention_curve(con, dataset),
                datasets,
            )
        )
    summary = (
        data.load_segment_summary(con, dataset)
        if ready["segment-summary"]
        else pd.DataFrame(columns=["dataset", "segment", "customer_share", "revenue_share"])
    )
    if ready["rfm-segment-map"]:
        sections.append(rfm_map_section(data.load_rfm_segment_map(con, dataset), summary, datasets))
    if ready["segment-summary"]:
        sections.append(segment_summary_section(summary, datasets, currencies))
    if ready["rfm-history"]:
        sections.append(
            rfm_history_section(
                data.load_rfm_segment_sizes_monthly(con, dataset),
                data.load_rfm_segment_transitions(con, dataset),
                datasets,
                currencies,
            )
        )
    if ready["clv"]:
        sections.append(
            clv_section(
                data.load_clv_summary(con, dataset),
                data.load_clv_histogram(con, dataset),
                data.load_clv_segments(con, dataset),
                datasets,
                currencies,
            )
        )
    by_frequency = (
        data.load_validation_by_frequency(con, dataset)
        if has[data.VALIDATION_BY_FREQUENCY]
        else None
    )
    tracking = (
        data.load_validation_tracking(con, dataset) if has[data.VALIDATION_TRACKING] else None
    )
    comparison = (
        data.load_validation_summary(con, dataset) if has[data.VALIDATION_SUMMARY] else None
    )
    parameters = data.load_model_parameters(con, dataset) if has[data.MODEL_PARAMETERS] else None
    if by_frequency is not None or tracking is not None:
        sections.append(
            model_checks_section(by_frequency, tracking, datasets, comparison, parameters)
        )
    else:
        notes.append(
            (
                "model-checks-note",
                f"Model checks are left out: this database has neither "
                f"{data.VALIDATION_BY_FREQUENCY} nor {data.VALIDATION_TRACKING}.",
            )
        )
    section_tables = dict.fromkeys(name for tables in SECTION_TABLES.values() for name in tables)
    notes += [
        (f"missing-{name}", f"{name} is not in this database.")
        for name in section_tables
        if not has[name]
    ]
    return sections, notes


def build_report(
    source: Path,
    out: Path,
    dataset: str | None = None,
    *,
    currencies: Mapping[str, str] | None = None,
    source_note: str | None = None,
) -> Path:
    """Read the marts in `source` (DuckDB, read-only) and write the HTML report to `out`.

    `dataset` limits the report to one dataset; `currencies` maps dataset names to currency
    codes for the labels (default DEFAULT_CURRENCIES; others say 'currency units').
    """
    source = Path(source)
    with open_read_only(source) as con:
        datasets = data.load_datasets(con, dataset)
        if datasets.empty:
            known = data.load_datasets(con)["dataset"].tolist()
            raise ValueError(f"dataset {dataset!r} is not in {source}; it has {known}")
        sections, notes = read_sections(con, datasets, dataset, currencies)
        publication = (
            data.load_publication(con) if data.table_exists(con, data.PUBLICATION) else None
        )
    if source_note:
        notes.insert(0, ("source-note", source_note))
    generated = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    modified = dt.datetime.fromtimestamp(source.stat().st_mtime).astimezone()
    published = (
        f"publication {publication['build_id']} of "
        f"{pd.Timestamp(publication['published_at']):%Y-%m-%d %H:%M}"
        if publication is not None
        else f"modified {modified:%Y-%m-%d %H:%M}"
    )
    subtitle = [
        f"Source: {source} ({published}); generated {generated}.",
        "Datasets: "
        + ", ".join(f"{name} ({currency_for(name, currencies)})" for name in datasets["dataset"])
        + ".",
    ]
    document = render_html(
        "CRM analytics report", subtitle, [overview_section(datasets), *sections], notes
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    return out
