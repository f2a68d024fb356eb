"""Builds on the real data sets in ../shared/data and checks the row counts of its README.

One dbt build per file (module-scoped, the other input disabled); the expected numbers are the
README's and are also recomputed here with pyarrow/pandas, independently of the SQL.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import SHARED_DATA_DIR, DbtResult, dbt_build

pytestmark = [pytest.mark.shared_data, pytest.mark.dbt]

ONLINE_RETAIL_II = "online_retail_II.parquet"
ONLINE_RETAIL = "online_retail.parquet"
FLO = "flo_data_20k.csv"


def data_file(name: str) -> Path:
    if not SHARED_DATA_DIR.is_dir():
        pytest.fail(f"real data not found at {SHARED_DATA_DIR}: clone the project beside shared/")
    return SHARED_DATA_DIR / name


def build_project(work_dir: Path, project_vars: dict[str, object]) -> DbtResult:
    """`dbt build` of the marts that count rows, into work_dir (unit tests left out)."""
    result = dbt_build(
        work_dir,
        project_vars,
        select="+datasets +quarantine_summary",
        extra=["--exclude-resource-type", "unit_test"],
    )
    if result.returncode != 0:
        pytest.fail(f"dbt build failed for {project_vars}:\n{result.output}")
    return result


@pytest.fixture(scope="module")
def online_retail_ii_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return build_project(
        tmp_path_factory.mktemp("online_retail_ii"),
        {
            "transactions_path": str(data_file(ONLINE_RETAIL_II)),
            "transactions_dataset": "online_retail_ii",
            "customer_summaries_path": "",
        },
    )


@pytest.fixture(scope="module")
def online_retail_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return build_project(
        tmp_path_factory.mktemp("online_retail"),
        {
            "transactions_path": str(data_file(ONLINE_RETAIL)),
            "transactions_dataset": "online_retail",
            "customer_summaries_path": "",
        },
    )


@pytest.fixture(scope="module")
def flo_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return build_project(
        tmp_path_factory.mktemp("flo"),
        {
            "transactions_path": "",
            "customer_summaries_path": str(data_file(FLO)),
            "customer_summaries_dataset": "flo",
        },
    )


@pytest.fixture(scope="module")
def online_retail_ii_sheets() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two row groups of online_retail_II.parquet: one per workbook sheet (README)."""
    parquet = pq.ParquetFile(data_file(ONLINE_RETAIL_II))
    assert parquet.metadata.num_row_groups == 2
    return parquet.read_row_group(0).to_pandas(), parquet.read_row_group(1).to_pandas()


def row_counts(result: DbtResult, dataset: str) -> tuple[int, int, int]:
    [counts] = result.query(
        f"select raw_rows, clean_rows, quarantined_rows from datasets where dataset = '{dataset}'"
    )
    return counts


def clean_lines(frame: pd.DataFrame, invoice: str, price: str, customer: str) -> pd.DataFrame:
    """DESIGN.md section 4: customer known, not a C invoice, quantity > 0, price >= 0."""
    return frame[
        frame[customer].notna()
        & ~frame[invoice].str.upper().str.startswith("C")
        & (frame["Quantity"] > 0)
        & (frame[price] >= 0)
    ]


def reconciles(result: DbtResult, dataset: str, quarantine_table: str, clean_table: str) -> None:
    raw, clean, quarantined = row_counts(result, dataset)
    [(raw_in_reader,)] = result.query(
        "select count(*) from (select dataset from base_transactions__raw_lines "
        "union all select dataset from base_customer_summaries__raw_rows) as raw_rows "
        f"where dataset = '{dataset}'"
    )
    [(quarantined_in_mart,)] = result.query(
        f"select count(*) from {quarantine_table} where dataset = '{dataset}'"
    )
    [(clean_in_model,)] = result.query(
        f"select count(*) from {clean_table} where dataset = '{dataset}'"
    )
    assert raw_in_reader == raw
    assert raw == clean + quarantined
    assert (clean_in_model, quarantined_in_mart) == (clean, quarantined)


# --- online_retail_II.parquet (both sheets stacked) ------------------------------------------


def test_online_retail_ii_raw_rows(online_retail_ii_build: DbtResult):
    raw, _, _ = row_counts(online_retail_ii_build, "online_retail_ii")

    assert raw == 1_067_371
    assert raw == pq.ParquetFile(data_file(ONLINE_RETAIL_II)).metadata.num_rows


def test_online_retail_ii_reconciles(online_retail_ii_build: DbtResult):
    reconciles(
        online_retail_ii_build,
        "online_retail_ii",
        "quarantined_invoice_lines",
        "int_invoice_lines_cleaned",
    )


def test_online_retail_ii_overlap_copies_are_the_second_sheets_first_days(
    online_retail_ii_build: DbtResult, online_retail_ii_sheets: tuple[pd.DataFrame, pd.DataFrame]
):
    first, second = online_retail_ii_sheets
    in_overlap = second["InvoiceDate"] <= first["InvoiceDate"].max()
    # the row group 1 positions of the overlap, as 1-based row numbers of the whole file
    expected_rows = (second.index[in_overlap] + len(first) + 1).tolist()

    rows = online_retail_ii_build.query(
        "select source_row_number from quarantined_invoice_lines "
        "where quarantine_reason = 'sheet_overlap_duplicate' order by source_row_number"
    )

    assert in_overlap.sum() > 0
    assert len(rows) == in_overlap.sum()
    assert [row for (row,) in rows] == expected_rows


def test_online_retail_ii_clean_lines_match_pandas(
    online_retail_ii_build: DbtResult, online_retail_ii_sheets: tuple[pd.DataFrame, pd.DataFrame]
):
    first, second = online_retail_ii_sheets
    deoverlapped = pd.concat(
        [first, second[second["InvoiceDate"] > first["InvoiceDate"].max()]], ignore_index=True
    )
    expected = clean_lines(deoverlapped, "Invoice", "Price", "Customer ID")
    expected_revenue = float((expected["Quantity"] * expected["Price"]).sum())

    [(lines, revenue)] = online_retail_ii_build.query(
        "select count(*), sum(line_revenue) from int_invoice_lines_cleaned "
        "where dataset = 'online_retail_ii'"
    )

    assert lines == len(expected)
    assert revenue == pytest.approx(expected_revenue, rel=1e-6)


# --- online_retail.parquet (older column names) ----------------------------------------------


def test_online_retail_raw_rows_with_older_column_names(online_retail_build: DbtResult):
    raw, _, _ = row_counts(online_retail_build, "online_retail")
    columns = pq.ParquetFile(data_file(ONLINE_RETAIL)).schema_arrow.names

    assert {"InvoiceNo", "UnitPrice", "CustomerID"} <= set(columns)
    assert raw == 541_909
    assert raw == pq.ParquetFile(data_file(ONLINE_RETAIL)).metadata.num_rows


def test_online_retail_reconciles(online_retail_build: DbtResult):
    reconciles(
        online_retail_build,
        "online_retail",
        "quarantined_invoice_lines",
        "int_invoice_lines_cleaned",
    )


def test_online_retail_clean_lines_match_pandas(online_retail_build: DbtResult):
    """A single sheet: nothing is a sheet-overlap copy, exact duplicate lines are kept."""
    frame = pq.read_table(data_file(ONLINE_RETAIL)).to_pandas()
    expected = clean_lines(frame, "InvoiceNo", "UnitPrice", "CustomerID")
    expected_revenue = float((expected["Quantity"] * expected["UnitPrice"]).sum())

    [(lines, revenue)] = online_retail_build.query(
        "select count(*), sum(line_revenue) from int_invoice_lines_cleaned "
        "where dataset = 'online_retail'"
    )
    overlap = online_retail_build.query(
        "select count(*) from quarantined_invoice_lines "
        "where quarantine_reason = 'sheet_overlap_duplicate'"
    )

    assert overlap == [(0,)]
    assert lines == len(expected)
    assert revenue == pytest.approx(expected_revenue, rel=1e-6)


# --- flo_data_20k.csv ------------------------------------------------------------------------


def test_flo_raw_rows(flo_build: DbtResult):
    raw, _, _ = row_counts(flo_build, "flo")
    frame = pd.read_csv(data_file(FLO), dtype=str)

    assert raw == 19_945
    assert raw == len(frame)


def test_flo_reconciles(flo_build: DbtResult):
    reconciles(flo_build, "flo", "quarantined_customer_summaries", "int_customer_summaries_cleaned")


def test_flo_unique_master_ids_are_not_duplicates(flo_build: DbtResult):
    frame = pd.read_csv(data_file(FLO), dtype=str)
    duplicates = flo_build.query(
        "select count(*) from quarantined_customer_summaries "
        "where quarantine_reason = 'duplicate_customer'"
    )

    assert frame["master_id"].is_unique
    assert duplicates == [(0,)]


def test_invoice_dates_of_the_two_sheets_overlap_as_the_readme_says(
    online_retail_ii_sheets: tuple[pd.DataFrame, pd.DataFrame],
):
    """Guards the premise of the overlap test: sheet 2 starts inside sheet 1's last days."""
    first, second = online_retail_ii_sheets

    assert str(first["InvoiceDate"].max()) == "2010-12-09 20:01:00"
    assert str(second["InvoiceDate"].min()) == "2010-12-01 08:26:00"
