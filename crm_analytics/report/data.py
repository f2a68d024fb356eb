"""Reads of finished tables: the report computes nothing in SQL.

Every aggregation the report shows is a dbt model (the rpt_ marts under
``models/marts/reporting``, documented, contracted and tested there) or a mart of its own; each
function here is one ``select * from <table> where dataset = ...`` with an order, returning a
DataFrame. All take an open read-only DuckDB connection and an optional dataset name (None =
every dataset).
"""

from __future__ import annotations

import duckdb
import pandas as pd

DATASETS = "datasets"
KPI_MONTHLY = "kpi_monthly"
COHORT_RETENTION = "cohort_retention"
COHORT_RETENTION_CURVE = "rpt_cohort_retention_curve"
RFM_SEGMENT_MAP = "rpt_rfm_segment_map"
RFM_SEGMENT_SUMMARY = "rfm_segment_summary"
RFM_SEGMENT_SIZES_MONTHLY = "rpt_rfm_segment_sizes_monthly"
RFM_SEGMENT_TRANSITIONS = "rfm_segment_transitions"
CLV_SUMMARY = "rpt_clv_summary"
CLV_HISTOGRAM = "rpt_clv_histogram"
CLV_SEGMENTS = "rpt_clv_segments"
VALIDATION_BY_FREQUENCY = "cltv_validation_by_frequency"
VALIDATION_TRACKING = "cltv_validation_tracking"
VALIDATION_SUMMARY = "cltv_validation_summary"
MODEL_PARAMETERS = "cltv_model_parameters"
PUBLICATION = "publication"

# Every table the report can read besides `datasets`, which it needs; a section whose tables
# are missing is left out with a note.
REPORT_TABLES: tuple[str, ...] = (
    KPI_MONTHLY,
    COHORT_RETENTION,
    COHORT_RETENTION_CURVE,
    RFM_SEGMENT_MAP,
    RFM_SEGMENT_SUMMARY,
    RFM_SEGMENT_SIZES_MONTHLY,
    RFM_SEGMENT_TRANSITIONS,
    CLV_SUMMARY,
    CLV_HISTOGRAM,
    CLV_SEGMENTS,
    VALIDATION_BY_FREQUENCY,
    VALIDATION_TRACKING,
    VALIDATION_SUMMARY,
    MODEL_PARAMETERS,
)

# The dataset parameter is null for "every dataset".
_DATASET_FILTER = "$dataset::varchar is null or dataset = $dataset"


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """True when the database has a table or view of this name."""
    row = con.execute(
        "select table_name from information_schema.tables where table_name = $table limit 1",
        {"table": table},
    ).fetchone()
    return row is not None


def load_table(
    con: duckdb.DuckDBPyConnection, table: str, order_by: str, dataset: str | None = None
) -> pd.DataFrame:
    """Every row of `table` (of one dataset when `dataset` is given), ordered by `order_by`.

    `table` and `order_by` come from this module, never from a user: they are SQL text.
    """
    sql = f"select * from {table} where {_DATASET_FILTER} order by {order_by}"
    return con.execute(sql, {"dataset": dataset}).df()


def load_publication(con: duckdb.DuckDBPyConnection) -> pd.Series | None:
    """Build id and time of a published copy (its `publication` table), or None."""
    rows = con.execute(
        f"select build_id, published_at from {PUBLICATION} order by published_at desc limit 1"
    ).df()
    return None if rows.empty else rows.iloc[0]


def load_datasets(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """The mart datasets: transactions datasets first, then by name."""
    frame = load_table(con, DATASETS, "input_shape <> 'transactions', dataset", dataset)
    counts = ["raw_rows", "clean_rows", "quarantined_rows", "customers"]
    # clean_rows and quarantined_rows are 128-bit sums, which pandas reads as floats
    return frame.astype({column: "int64" for column in counts if frame[column].notna().all()})


def load_kpi_monthly(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """The mart kpi_monthly (transactions datasets), by month."""
    return load_table(con, KPI_MONTHLY, "dataset, calendar_month", dataset)


def load_cohort_retention(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """The mart cohort_retention: one row per cohort and month since acquisition."""
    return load_table(
        con, COHORT_RETENTION, "dataset, acquisition_month, months_since_acquisition", dataset
    )


def load_retention_curve(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """rpt_cohort_retention_curve: retention after n months, cohorts weighted by size."""
    return load_table(con, COHORT_RETENTION_CURVE, "dataset, months_since_acquisition", dataset)


def load_rfm_segment_map(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """rpt_rfm_segment_map: the 25 score cells per scored dataset, with segment and customers."""
    return load_table(con, RFM_SEGMENT_MAP, "dataset, frequency_score, recency_score", dataset)


def load_segment_summary(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """The mart rfm_segment_summary, largest segment first."""
    return load_table(con, RFM_SEGMENT_SUMMARY, "dataset, customers desc, segment", dataset)


def load_rfm_segment_sizes_monthly(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """rpt_rfm_segment_sizes_monthly: every segment at every monthly snapshot, in stacking order."""
    return load_table(
        con, RFM_SEGMENT_SIZES_MONTHLY, "dataset, snapshot_date, segment_order, segment", dataset
    )


def load_rfm_segment_transitions(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """The mart rfm_segment_transitions: from x to segment counts per pair of snapshots."""
    return load_table(
        con,
        RFM_SEGMENT_TRANSITIONS,
        "dataset, from_snapshot_date, from_segment, to_segment",
        dataset,
    )


def load_clv_summary(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """rpt_clv_summary: one row per dataset (spread, top-decile share, log axis or not)."""
    return load_table(con, CLV_SUMMARY, "dataset", dataset)


def load_clv_histogram(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """rpt_clv_histogram: the bins with customers, in order."""
    return load_table(con, CLV_HISTOGRAM, "dataset, bin_number", dataset)


def load_clv_segments(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> pd.DataFrame:
    """rpt_clv_segments: one row per dataset and segment, A (top quartile) first."""
    return load_table(con, CLV_SEGMENTS, "dataset, predicted_clv_segment", dataset)


def load_validation_by_frequency(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """The mart cltv_validation_by_frequency, buckets in numeric order ('0', '1', ..., '7+')."""
    return load_table(con, VALIDATION_BY_FREQUENCY, "dataset, model, bucket_order", dataset)


def load_validation_tracking(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """The mart cltv_validation_tracking, by model and week (`is_holdout` marks the holdout)."""
    return load_table(con, VALIDATION_TRACKING, "dataset, model, week", dataset)


def load_validation_summary(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """The mart cltv_validation_summary: the model comparison, selected model first."""
    return load_table(con, VALIDATION_SUMMARY, "dataset, selection_rank", dataset)


def load_model_parameters(
    con: duckdb.DuckDBPyConnection, dataset: str | None = None
) -> pd.DataFrame:
    """The mart cltv_model_parameters: the production fits with intervals and the flag."""
    return load_table(con, MODEL_PARAMETERS, "dataset, model, parameter", dataset)
