"""Row-level problems: each bad row ends in quarantine with its reason and detail, and nothing
is lost (raw rows = clean rows + quarantined rows, per dataset).

One build reads both quarantine fixtures (tests/fixtures/inputs/transactions_quarantine.csv and
flo_quarantine.csv, one problem per row); a second reads the older Online Retail column names
with the customer-summaries input disabled; a third reads customer summaries only. Each build
runs once per module and every case below queries its result.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES_DIR, DbtResult, dbt_build

pytestmark = pytest.mark.dbt

INPUTS = FIXTURES_DIR / "inputs"
TRANSACTIONS = INPUTS / "transactions_quarantine.csv"
SUMMARIES = INPUTS / "flo_quarantine.csv"
OLD_NAMES = INPUTS / "transactions_old_names.csv"
VALID_SUMMARIES = INPUTS / "flo_valid.csv"
SELECT_MARTS = "+datasets +quarantine_summary"


def successful_build(
    factory: pytest.TempPathFactory, name: str, project_vars: dict[str, object]
) -> DbtResult:
    """`dbt build` of the marts into a fresh module-scoped folder (no unit tests); it must pass."""
    result = dbt_build(
        factory.mktemp(name),
        project_vars,
        select=SELECT_MARTS,
        extra=["--exclude-resource-type", "unit_test"],
    )
    if result.returncode != 0:
        pytest.fail(f"dbt build failed for {project_vars}:\n{result.output}")
    return result


@pytest.fixture(scope="module")
def quarantine_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    # 4 of the 13 transaction rows are unreadable: raise the gate so the build completes
    # (test_input_errors.py checks the gate itself).
    return successful_build(
        tmp_path_factory,
        "quarantine",
        {
            "transactions_path": str(TRANSACTIONS),
            "customer_summaries_path": str(SUMMARIES),
            "max_unparseable_share": 0.5,
        },
    )


@pytest.fixture(scope="module")
def old_names_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return successful_build(
        tmp_path_factory,
        "old_names",
        {
            "transactions_path": str(OLD_NAMES),
            "transactions_dataset": "online_retail_v1",
            "customer_summaries_path": "",
        },
    )


@pytest.fixture(scope="module")
def summaries_only_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    return successful_build(
        tmp_path_factory,
        "summaries_only",
        {"transactions_path": "", "customer_summaries_path": str(VALID_SUMMARIES)},
    )


def data_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


QuarantineLookup = Callable[[int], tuple[str, str, str | None]]


def lookup(result: DbtResult, table: str, dataset: str) -> QuarantineLookup:
    def quarantined(row_number: int) -> tuple[str, str, str | None]:
        rows = result.query(
            f"select source_file, quarantine_reason, quarantine_detail from {table} "
            f"where dataset = '{dataset}' and source_row_number = {row_number}"
        )
        assert len(rows) == 1, f"row {row_number} is not quarantined exactly once: {rows}"
        return rows[0]

    return quarantined


# --- transactions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row_number", "reason", "detail"),
    [
        pytest.param(2, "unparseable_value", "Quantity='abc'", id="non_numeric_quantity"),
        pytest.param(3, "unparseable_value", "Quantity='2.5'", id="fractional_quantity"),
        pytest.param(
            4, "unparseable_value", "InvoiceDate='2009-13-45 07:46:00'", id="bad_invoice_date"
        ),
        pytest.param(5, "unparseable_value", "Price='n/a'", id="non_numeric_price"),
        pytest.param(6, "missing_value", "Invoice is empty", id="empty_invoice"),
        pytest.param(7, "missing_customer", None, id="missing_customer"),
        pytest.param(8, "cancellation", None, id="cancellation"),
        pytest.param(9, "non_positive_quantity", None, id="zero_quantity"),
        pytest.param(10, "negative_price", None, id="negative_price"),
    ],
)
def test_bad_invoice_line_is_quarantined(
    quarantine_build: DbtResult, row_number: int, reason: str, detail: str | None
):
    quarantined = lookup(quarantine_build, "quarantined_invoice_lines", "online_retail")

    assert quarantined(row_number) == (str(TRANSACTIONS), reason, detail)


def test_only_the_good_invoice_lines_are_clean(quarantine_build: DbtResult):
    clean = quarantine_build.query(
        "select source_row_number from int_invoice_lines_cleaned "
        "where dataset = 'online_retail' order by source_row_number"
    )
    assert [row for (row,) in clean] == [1, 11, 12, 13]


def test_zero_price_line_is_kept_as_clean(quarantine_build: DbtResult):
    rows = quarantine_build.query(
        "select invoice_id, quantity, unit_price, line_revenue from int_invoice_lines_cleaned "
        "where dataset = 'online_retail' and source_row_number = 11"
    )
    assert rows == [("489451", 1, 0.0, 0.0)]


def test_customer_id_written_as_float_is_read_as_integer_text(quarantine_build: DbtResult):
    rows = quarantine_build.query(
        "select source_row_number, customer_id from int_invoice_lines_cleaned "
        "where dataset = 'online_retail' and source_row_number in (11, 12) "
        "order by source_row_number"
    )
    # row 11 says 12346, row 12 says 12346.0: one customer
    assert rows == [(11, "12346"), (12, "12346")]
    customers = quarantine_build.query(
        "select customers from datasets where dataset = 'online_retail'"
    )
    assert customers == [(3,)]  # 13085, 12346, 12347


# --- customer summaries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row_number", "reason", "detail"),
    [
        pytest.param(
            3,
            "duplicate_customer",
            "master_id='cust-a' appears earlier in the input",
            id="duplicate_master_id",
        ),
        pytest.param(4, "negative_value", None, id="negative_offline_value"),
        pytest.param(
            5, "unparseable_value", "first_order_date='2020-02-30'", id="bad_first_order_date"
        ),
        pytest.param(6, "inconsistent_dates", None, id="first_order_after_last_order"),
    ],
)
def test_bad_customer_summary_is_quarantined(
    quarantine_build: DbtResult, row_number: int, reason: str, detail: str | None
):
    quarantined = lookup(quarantine_build, "quarantined_customer_summaries", "flo")

    assert quarantined(row_number) == (str(SUMMARIES), reason, detail)


def test_duplicate_master_id_keeps_the_first_row(quarantine_build: DbtResult):
    rows = quarantine_build.query(
        "select source_row_number, online_orders, offline_orders, total_value "
        "from int_customer_summaries_cleaned where dataset = 'flo' and customer_id = 'cust-a'"
    )
    assert rows == [(1, 4.0, 1.0, pytest.approx(139.99 + 799.38))]


def test_only_the_good_customer_summaries_are_clean(quarantine_build: DbtResult):
    clean = quarantine_build.query(
        "select source_row_number from int_customer_summaries_cleaned "
        "where dataset = 'flo' order by source_row_number"
    )
    assert [row for (row,) in clean] == [1, 2, 7]


# --- nothing lost ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "path", "quarantine_table", "clean_table", "expected"),
    [
        pytest.param(
            "online_retail",
            TRANSACTIONS,
            "quarantined_invoice_lines",
            "int_invoice_lines_cleaned",
            (13, 4, 9),
            id="transactions",
        ),
        pytest.param(
            "flo",
            SUMMARIES,
            "quarantined_customer_summaries",
            "int_customer_summaries_cleaned",
            (7, 3, 4),
            id="customer_summaries",
        ),
    ],
)
def test_raw_rows_equal_clean_plus_quarantined(
    quarantine_build: DbtResult,
    dataset: str,
    path: Path,
    quarantine_table: str,
    clean_table: str,
    expected: tuple[int, int, int],
):
    [(raw, clean, quarantined)] = quarantine_build.query(
        f"select raw_rows, clean_rows, quarantined_rows from datasets where dataset = '{dataset}'"
    )
    [(quarantined_in_mart,)] = quarantine_build.query(
        f"select count(*) from {quarantine_table} where dataset = '{dataset}'"
    )
    [(clean_in_model,)] = quarantine_build.query(
        f"select count(*) from {clean_table} where dataset = '{dataset}'"
    )

    assert raw == data_rows(path)
    assert (raw, clean, quarantined) == expected
    assert raw == clean + quarantined
    assert (clean_in_model, quarantined_in_mart) == (clean, quarantined)


def test_quarantine_summary_counts_every_reason(quarantine_build: DbtResult):
    rows = quarantine_build.query(
        "select dataset, quarantine_reason, quarantined_rows, first_source_row_number "
        "from quarantine_summary order by dataset, quarantine_reason"
    )
    assert rows == [
        ("flo", "duplicate_customer", 1, 3),
        ("flo", "inconsistent_dates", 1, 6),
        ("flo", "negative_value", 1, 4),
        ("flo", "unparseable_value", 1, 5),
        ("online_retail", "cancellation", 1, 8),
        ("online_retail", "missing_customer", 1, 7),
        ("online_retail", "missing_value", 1, 6),
        ("online_retail", "negative_price", 1, 10),
        ("online_retail", "non_positive_quantity", 1, 9),
        ("online_retail", "unparseable_value", 4, 2),
    ]


# --- column names, date formats, disabled inputs ---------------------------------------------


def test_older_online_retail_column_names_are_accepted(old_names_build: DbtResult):
    rows = old_names_build.query(
        "select raw_invoice, raw_price, raw_customer_id from base_transactions__raw_lines "
        "order by source_row_number limit 2"
    )
    assert rows == [("536365", "2.55", "17850"), ("536365", "3.39", "17850")]
    [(raw, clean, quarantined)] = old_names_build.query(
        "select raw_rows, clean_rows, quarantined_rows from datasets "
        "where dataset = 'online_retail_v1'"
    )
    assert (raw, clean, quarantined) == (data_rows(OLD_NAMES), 5, 1)
    assert old_names_build.query("select quarantine_reason from quarantined_invoice_lines") == [
        ("cancellation",)
    ]


def test_us_date_format_is_parsed(old_names_build: DbtResult):
    rows = old_names_build.query(
        "select source_row_number, ordered_at from int_invoice_lines_cleaned "
        "order by source_row_number"
    )
    assert rows == [
        (1, dt.datetime(2010, 12, 1, 8, 26)),
        (2, dt.datetime(2010, 12, 1, 8, 26)),
        (3, dt.datetime(2010, 12, 1, 8, 28)),
        (4, dt.datetime(2010, 12, 1, 8, 45)),
        (6, dt.datetime(2010, 12, 1, 9, 41)),
    ]


def test_disabled_customer_summaries_build_transactions_only(old_names_build: DbtResult):
    datasets = old_names_build.query("select dataset, input_shape from datasets")
    assert datasets == [("online_retail_v1", "transactions")]
    assert old_names_build.query("select count(*) from base_customer_summaries__raw_rows") == [(0,)]


def test_disabled_transactions_build_customer_summaries_only(summaries_only_build: DbtResult):
    datasets = summaries_only_build.query(
        "select dataset, input_shape, raw_rows, clean_rows from datasets"
    )
    assert datasets == [("flo", "customer_summaries", 3, 3)]
    assert summaries_only_build.query("select count(*) from base_transactions__raw_lines") == [(0,)]
