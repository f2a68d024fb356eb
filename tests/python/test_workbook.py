"""The Online Retail II workbook: reading it (crm_analytics.workbook) and building from it.

The workbook is written here with openpyxl, shaped like the real one: two yearly sheets, the
second starting with an exact copy of the first sheet's last days, and exact duplicate lines
inside a sheet (which the course keeps, so the project keeps them too).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from conftest import DbtResult, dbt_build

from crm_analytics.schemas import ONLINE_RETAIL_II_COLUMNS
from crm_analytics.workbook import (
    META_COLUMNS,
    WorkbookError,
    cell_to_text,
    concat_sheets,
    empty_workbook_lines,
    read_workbook_lines,
    sheet_to_table,
)

HEADER = list(ONLINE_RETAIL_II_COLUMNS)
FIRST_SHEET = "Year 2009-2010"
SECOND_SHEET = "Year 2010-2011"


def line(
    invoice: int | str,
    stock_code: str,
    description: str,
    quantity: int,
    at: dt.datetime,
    price: float,
    customer: int | None,
    country: str,
) -> list[object]:
    """One invoice line as a sheet row, numbers as Excel stores them."""
    return [invoice, stock_code, description, quantity, at, price, customer, country]


# Sheet 1 ends with 2010-12-01..2010-12-09 (rows 4-10); sheet 2 repeats exactly those rows.
FIRST_SHEET_ROWS = [
    line(489434, "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", 12,
         dt.datetime(2009, 12, 1, 7, 45), 6.95, 13085, "United Kingdom"),
    line(489435, "22350", "CAT BOWL", 12, dt.datetime(2009, 12, 1, 7, 46), 2.55, 13085,
         "United Kingdom"),
    # exact duplicate of the line above, inside the sheet: kept
    line(489435, "22350", "CAT BOWL", 12, dt.datetime(2009, 12, 1, 7, 46), 2.55, 13085,
         "United Kingdom"),
    line(536365, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6,
         dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850, "United Kingdom"),
    line(536365, "71053", "WHITE METAL LANTERN", 6, dt.datetime(2010, 12, 1, 8, 26), 3.39,
         17850, "United Kingdom"),
    line("C536379", "D", "Discount", -1, dt.datetime(2010, 12, 1, 9, 41), 27.5, 14527,
         "United Kingdom"),
    line(536380, "22961", "JAM MAKING SET PRINTED", 24, dt.datetime(2010, 12, 1, 9, 41), 1.45,
         None, "United Kingdom"),
    line(536409, "22866", "HAND WARMER SCOTTY DOG DESIGN", 1, dt.datetime(2010, 12, 1, 11, 45),
         2.1, 17908, "United Kingdom"),
    # exact duplicate inside the overlap days: sheet 1 keeps both, sheet 2's two copies go
    line(536409, "22866", "HAND WARMER SCOTTY DOG DESIGN", 1, dt.datetime(2010, 12, 1, 11, 45),
         2.1, 17908, "United Kingdom"),
    line(538171, "22748", "POPPY'S PLAYHOUSE KITCHEN", 2, dt.datetime(2010, 12, 9, 20, 1), 2.1,
         17530, "United Kingdom"),
]  # fmt: skip
OVERLAP_ROWS = FIRST_SHEET_ROWS[3:]
SECOND_SHEET_ROWS = [
    *OVERLAP_ROWS,
    line(538174, "22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 12, dt.datetime(2010, 12, 10, 9, 35),
         2.95, 12748, "United Kingdom"),
    line(538175, "21232", "STRAWBERRY CERAMIC TRINKET BOX", 2, dt.datetime(2011, 1, 5, 10, 0),
         1.25, 12346, "United Kingdom"),
    # exact duplicate inside sheet 2, outside the overlap: kept
    line(538175, "21232", "STRAWBERRY CERAMIC TRINKET BOX", 2, dt.datetime(2011, 1, 5, 10, 0),
         1.25, 12346, "United Kingdom"),
    line(581587, "POST", "POSTAGE", 1, dt.datetime(2011, 12, 9, 12, 50), 18.0, 12680, "France"),
]  # fmt: skip


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def online_retail_workbook(path: Path) -> Path:
    return write_workbook(
        path,
        {FIRST_SHEET: [HEADER, *FIRST_SHEET_ROWS], SECOND_SHEET: [HEADER, *SECOND_SHEET_ROWS]},
    )


# --- cell_to_text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        pytest.param(None, None, id="empty_cell"),
        pytest.param("", None, id="empty_string"),
        pytest.param("  WHITE METAL LANTERN ", "  WHITE METAL LANTERN ", id="text_kept_as_is"),
        pytest.param("C536379", "C536379", id="cancellation_invoice"),
        pytest.param(12346.0, "12346", id="whole_float_loses_point_zero"),
        pytest.param(-1.0, "-1", id="negative_whole_float"),
        pytest.param(2.55, "2.55", id="fractional_float"),
        pytest.param(1e16, "1e+16", id="huge_float_not_made_integer"),
        pytest.param(math.nan, None, id="nan_is_empty"),
        pytest.param(7, "7", id="int"),
        pytest.param(True, "true", id="bool"),
        pytest.param(dt.datetime(2010, 12, 1, 8, 26), "2010-12-01 08:26:00", id="datetime"),
        pytest.param(dt.date(2010, 12, 1), "2010-12-01", id="date"),
        pytest.param(dt.time(8, 26), "08:26:00", id="time"),
        pytest.param(dt.timedelta(hours=1, minutes=30), "1:30:00", id="timedelta"),
    ],
)
def test_cell_to_text(cell: object, text: str | None):
    assert cell_to_text(cell) == text


# --- sheet_to_table --------------------------------------------------------------------------


def test_sheet_to_table_returns_text_columns_with_source_columns():
    rows = [
        HEADER,
        [489434.0, "85048", "LIGHTS", 12.0, dt.datetime(2009, 12, 1, 7, 45), 6.95, 13085.0, "UK"],
        [489435.0, "22350", None, 6.0, dt.datetime(2009, 12, 1, 7, 46), 2.55, None, "UK"],
    ]

    table = sheet_to_table(rows, "retail.xlsx", FIRST_SHEET)

    assert table.column_names == [*HEADER, *META_COLUMNS]
    assert all(table.schema.field(name).type == pa.string() for name in HEADER)
    assert table.schema.field("source_row_number").type == pa.int64()
    assert table.to_pylist()[1] == {
        "Invoice": "489435",
        "StockCode": "22350",
        "Description": None,
        "Quantity": "6",
        "InvoiceDate": "2009-12-01 07:46:00",
        "Price": "2.55",
        "Customer ID": None,
        "Country": "UK",
        "source_file": "retail.xlsx",
        "source_sheet": FIRST_SHEET,
        "source_row_number": 2,
    }


def test_sheet_to_table_skips_blank_rows_and_pads_short_rows():
    rows = [["Invoice", "Quantity", None], ["1", 2.0], [None, "", None], ["3", 4.0, "x"]]

    table = sheet_to_table(rows, "f.xlsx", "s")

    assert table.column_names == ["Invoice", "Quantity", "column_3", *META_COLUMNS]
    assert table.column("Invoice").to_pylist() == ["1", "3"]
    assert table.column("column_3").to_pylist() == [None, "x"]
    assert table.column("source_row_number").to_pylist() == [1, 2]


@pytest.mark.parametrize(
    "rows",
    [pytest.param([], id="no_rows"), pytest.param([[None, ""], ["1", "2"]], id="blank_header")],
)
def test_sheet_to_table_without_header_fails_naming_file_and_sheet(rows: list[list[object]]):
    with pytest.raises(WorkbookError, match=r"^retail\.xlsx, sheet 'Year 2009-2010': .*header"):
        sheet_to_table(rows, "retail.xlsx", FIRST_SHEET)


def test_sheet_to_table_with_repeated_column_fails_naming_it():
    rows = [["Invoice", "Price", "Price"], ["1", 2.0, 3.0]]

    with pytest.raises(WorkbookError) as error:
        sheet_to_table(rows, "retail.xlsx", FIRST_SHEET)

    assert str(error.value) == (
        "retail.xlsx, sheet 'Year 2009-2010': column(s) Price appear more than once in the header."
    )


def test_concat_sheets_fills_missing_columns_with_nulls():
    first = sheet_to_table([["Invoice", "Price"], ["1", 2.0]], "f.xlsx", "a")
    second = sheet_to_table([["Invoice"], ["2"]], "f.xlsx", "b")

    table = concat_sheets([first, second])

    assert table.column("Price").to_pylist() == ["2", None]
    assert table.column("source_sheet").to_pylist() == ["a", "b"]


def test_empty_workbook_lines_has_the_workbook_schema():
    table = empty_workbook_lines()

    assert table.num_rows == 0
    assert table.column_names == [*HEADER, *META_COLUMNS]


# --- read_workbook_lines ---------------------------------------------------------------------


def test_read_workbook_lines_reads_every_sheet_in_order(tmp_path: Path):
    path = online_retail_workbook(tmp_path / "online_retail_II.xlsx")

    table = read_workbook_lines(path)

    assert table.column_names == [*HEADER, *META_COLUMNS]
    assert table.num_rows == len(FIRST_SHEET_ROWS) + len(SECOND_SHEET_ROWS)
    frame = table.to_pandas()
    assert frame.groupby("source_sheet", sort=False).size().to_dict() == {
        FIRST_SHEET: len(FIRST_SHEET_ROWS),
        SECOND_SHEET: len(SECOND_SHEET_ROWS),
    }
    second = frame[frame.source_sheet == SECOND_SHEET]
    assert second.source_row_number.tolist() == list(range(1, len(SECOND_SHEET_ROWS) + 1))
    assert set(frame.source_file) == {str(path)}
    # numbers come back as a CSV export would write them
    assert frame.iloc[0][HEADER].tolist() == [
        "489434",
        "85048",
        "15CM CHRISTMAS GLASS BALL 20 LIGHTS",
        "12",
        "2009-12-01 07:45:00",
        "6.95",
        "13085",
        "United Kingdom",
    ]
    assert pd.isna(frame.iloc[6]["Customer ID"])


def test_read_workbook_lines_missing_file_fails_naming_it(tmp_path: Path):
    missing = tmp_path / "nowhere.xlsx"

    with pytest.raises(WorkbookError, match="no such workbook file") as error:
        read_workbook_lines(missing)

    assert str(missing) in str(error.value)


def test_read_workbook_lines_corrupt_file_fails_naming_it(tmp_path: Path):
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip archive")

    with pytest.raises(WorkbookError, match=r"cannot be read as an \.xlsx workbook") as error:
        read_workbook_lines(corrupt)

    assert str(corrupt) in str(error.value)


def test_read_workbook_lines_truncated_file_fails_naming_it(tmp_path: Path):
    path = online_retail_workbook(tmp_path / "truncated.xlsx")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(WorkbookError) as error:
        read_workbook_lines(path)

    assert str(path) in str(error.value)


def test_read_workbook_lines_header_only_fails_saying_no_data_rows(tmp_path: Path):
    path = write_workbook(tmp_path / "header_only.xlsx", {FIRST_SHEET: [HEADER]})

    with pytest.raises(WorkbookError, match="the workbook has no data rows") as error:
        read_workbook_lines(path)

    assert str(path) in str(error.value)


# --- dbt build on the workbook ---------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtResult]:
    """One `dbt build` reading the two-sheet workbook through transactions_path."""
    work_dir = tmp_path_factory.mktemp("workbook")
    path = online_retail_workbook(work_dir / "online_retail_II.xlsx")
    project_vars = {"transactions_path": str(path), "customer_summaries_path": ""}
    result = dbt_build(
        work_dir,
        project_vars,
        select="+datasets +quarantine_summary",
        extra=["--exclude-resource-type", "unit_test"],
    )
    if result.returncode != 0:
        pytest.fail(f"dbt build on the workbook failed:\n{result.output}")
    return path, result


def sheet_frame(rows: list[list[object]], sheet: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=HEADER)
    frame["sheet"] = sheet
    frame["row_number"] = range(1, len(rows) + 1)
    return frame


@pytest.mark.dbt
def test_workbook_overlap_copies_are_quarantined(workbook_build: tuple[Path, DbtResult]):
    path, result = workbook_build

    rows = result.query(
        "select source_file, source_sheet, source_row_number, quarantine_detail "
        "from quarantined_invoice_lines where quarantine_reason = 'sheet_overlap_duplicate' "
        "order by source_sheet, source_row_number"
    )

    detail = "exact copy of a line in an earlier sheet or part of the input"
    assert rows == [
        (str(path), SECOND_SHEET, number, detail) for number in range(1, len(OVERLAP_ROWS) + 1)
    ]


@pytest.mark.dbt
def test_workbook_duplicates_inside_a_sheet_are_kept(workbook_build: tuple[Path, DbtResult]):
    _, result = workbook_build

    clean = result.query(
        "select source_sheet, source_row_number from int_invoice_lines_cleaned "
        "order by source_sheet, source_row_number"
    )

    for kept in [(FIRST_SHEET, 2), (FIRST_SHEET, 3), (FIRST_SHEET, 8), (FIRST_SHEET, 9)]:
        assert kept in clean
    assert (SECOND_SHEET, 9) in clean and (SECOND_SHEET, 10) in clean


@pytest.mark.dbt
def test_workbook_other_reasons_apply_to_first_sheet_rows(workbook_build: tuple[Path, DbtResult]):
    _, result = workbook_build

    rows = result.query(
        "select source_sheet, source_row_number, quarantine_reason from quarantined_invoice_lines "
        "where quarantine_reason != 'sheet_overlap_duplicate' order by source_row_number"
    )

    assert rows == [(FIRST_SHEET, 6, "cancellation"), (FIRST_SHEET, 7, "missing_customer")]


@pytest.mark.dbt
def test_workbook_clean_revenue_matches_pandas_on_deoverlapped_data(
    workbook_build: tuple[Path, DbtResult],
):
    _, result = workbook_build
    first = sheet_frame(FIRST_SHEET_ROWS, FIRST_SHEET)
    second = sheet_frame(SECOND_SHEET_ROWS, SECOND_SHEET)
    deoverlapped = pd.concat(
        [first, second[second.InvoiceDate > first.InvoiceDate.max()]], ignore_index=True
    )
    clean = deoverlapped[
        deoverlapped["Customer ID"].notna()
        & ~deoverlapped.Invoice.astype(str).str.upper().str.startswith("C")
        & (deoverlapped.Quantity > 0)
        & (deoverlapped.Price >= 0)
    ]
    expected_revenue = float((clean.Quantity * clean.Price).sum())

    [(lines, revenue)] = result.query(
        "select count(*), sum(line_revenue) from int_invoice_lines_cleaned"
    )
    [(raw, clean_rows, quarantined)] = result.query(
        "select raw_rows, clean_rows, quarantined_rows from datasets"
    )

    assert lines == len(clean)
    assert revenue == pytest.approx(expected_revenue, rel=1e-9)
    assert raw == len(FIRST_SHEET_ROWS) + len(SECOND_SHEET_ROWS)
    assert (clean_rows, quarantined) == (len(clean), raw - len(clean))
