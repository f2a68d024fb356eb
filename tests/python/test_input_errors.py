"""Inputs and vars that must stop the build, each with a message that says what to fix.

Every case runs `dbt build` on a fixture from tests/fixtures/inputs (or a file written under
tmp_path: empty files, a corrupt Parquet file, a workbook) and asserts that the build fails and
that its output names the var, the file and the column or value at fault. Builds are limited
with --select to the models that raise the error, so each case costs one short dbt run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES_DIR, DbtResult, DbtRunner

pytestmark = pytest.mark.dbt

INPUTS = FIXTURES_DIR / "inputs"
VALID_TRANSACTIONS = INPUTS / "transactions_valid.csv"
VALID_SUMMARIES = INPUTS / "flo_valid.csv"

# The models that read the inputs: compile-time checks fail here.
READ_TRANSACTIONS = "base_transactions__raw_lines"
READ_TRANSACTIONS_WITH_WORKBOOK = "+base_transactions__raw_lines"
READ_SUMMARIES = "base_customer_summaries__raw_rows"
# Unit tests are not about inputs (they run in `make test-dbt`); leaving them out keeps these
# builds short and independent of unrelated work in progress.
NO_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


def build(
    run_dbt: DbtRunner,
    select: str,
    transactions_path: str | Path = VALID_TRANSACTIONS,
    customer_summaries_path: str | Path = VALID_SUMMARIES,
    **other_vars: object,
) -> DbtResult:
    """Build the selected models with the two inputs (as text) and any further vars."""
    project_vars = {
        "transactions_path": str(transactions_path),
        "customer_summaries_path": str(customer_summaries_path),
        **other_vars,
    }
    return run_dbt(vars=project_vars, select=select, extra=NO_UNIT_TESTS)


def assert_fails_with(result: DbtResult, *fragments: str) -> None:
    """The build failed and its output holds every fragment (var, file, column, problem)."""
    assert result.returncode != 0, f"build was expected to fail:\n{result.output}"
    missing = [fragment for fragment in fragments if fragment not in result.output]
    assert not missing, f"output lacks {missing}:\n{result.output}"


# --- files that cannot be read -------------------------------------------------------------


def test_path_matching_no_file_fails_naming_var_and_path(run_dbt: DbtRunner, tmp_path: Path):
    missing = tmp_path / "no_such_file.csv"

    result = build(run_dbt, READ_TRANSACTIONS, transactions_path=missing)

    assert_fails_with(result, f"Input transactions_path='{missing}'", "no file matches this path")


def test_glob_matching_no_file_fails_naming_var_and_pattern(run_dbt: DbtRunner, tmp_path: Path):
    pattern = tmp_path / "exports" / "*.parquet"

    result = build(run_dbt, READ_SUMMARIES, customer_summaries_path=pattern)

    assert_fails_with(
        result, f"Input customer_summaries_path='{pattern}'", "no file matches this path"
    )


def test_zero_byte_file_fails_naming_file(run_dbt: DbtRunner, tmp_path: Path):
    empty = tmp_path / "transactions_empty.csv"
    empty.write_bytes(b"")

    result = build(run_dbt, READ_TRANSACTIONS, transactions_path=empty)

    assert_fails_with(
        result, f"Input transactions_path='{empty}'", f"file {empty} is empty (0 bytes)"
    )


def test_zero_byte_file_in_a_glob_fails_naming_that_file(run_dbt: DbtRunner, tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(VALID_SUMMARIES, exports / "flo_part_1.csv")
    empty = exports / "flo_part_2.csv"
    empty.write_bytes(b"")
    pattern = exports / "flo_part_*.csv"

    result = build(run_dbt, READ_SUMMARIES, customer_summaries_path=pattern)

    assert_fails_with(
        result, f"Input customer_summaries_path='{pattern}'", f"file {empty} is empty (0 bytes)"
    )


def test_header_only_file_fails_saying_it_has_no_data_rows(run_dbt: DbtRunner):
    header_only = INPUTS / "transactions_header_only.csv"

    result = build(run_dbt, READ_TRANSACTIONS, transactions_path=header_only)

    assert_fails_with(
        result,
        f"Input transactions_path='{header_only}'",
        "the file has no data rows",
        "Customer ID",
    )


def test_unsupported_extension_fails_naming_file(run_dbt: DbtRunner):
    json_file = INPUTS / "transactions_unsupported.json"

    result = build(run_dbt, READ_TRANSACTIONS, transactions_path=json_file)

    assert_fails_with(
        result, f"Input transactions_path='{json_file}'", "unsupported file type", ".parquet"
    )


def test_corrupt_parquet_fails_naming_file(run_dbt: DbtRunner, tmp_path: Path):
    valid = tmp_path / "valid.parquet"
    pq.write_table(
        pa.table({"master_id": ["cust-a"] * 50, "first_order_date": ["2021-01-01"] * 50}), valid
    )
    corrupt = tmp_path / "flo_corrupt.parquet"
    corrupt.write_bytes(valid.read_bytes()[: valid.stat().st_size // 2])

    result = build(run_dbt, READ_SUMMARIES, customer_summaries_path=corrupt)

    assert_fails_with(result, str(corrupt))


def test_xlsx_for_customer_summaries_fails_naming_var(run_dbt: DbtRunner, tmp_path: Path):
    workbook = tmp_path / "flo.xlsx"
    workbook.write_bytes(b"not used: the check comes first")

    result = build(run_dbt, READ_SUMMARIES, customer_summaries_path=workbook)

    assert_fails_with(
        result, f"Input customer_summaries_path='{workbook}'", ".xlsx is read for transactions only"
    )


def test_missing_workbook_fails_naming_file(run_dbt: DbtRunner, tmp_path: Path):
    missing = tmp_path / "online_retail_II.xlsx"

    result = build(run_dbt, READ_TRANSACTIONS_WITH_WORKBOOK, transactions_path=missing)

    assert_fails_with(result, f"{missing}: no such workbook file")


# --- columns ---------------------------------------------------------------------------------


def test_missing_transactions_column_fails_naming_it(run_dbt: DbtRunner):
    no_price = INPUTS / "transactions_missing_price.csv"

    result = build(run_dbt, READ_TRANSACTIONS, transactions_path=no_price)

    assert_fails_with(
        result,
        f"Input transactions_path='{no_price}'",
        "required column 'Price' (or 'UnitPrice') is missing",
    )


def test_missing_customer_summaries_column_fails_naming_it(run_dbt: DbtRunner):
    no_online_value = INPUTS / "flo_missing_online_value.csv"

    result = build(run_dbt, READ_SUMMARIES, customer_summaries_path=no_online_value)

    assert_fails_with(
        result,
        f"Input customer_summaries_path='{no_online_value}'",
        "required column 'customer_value_total_ever_online' is missing",
    )


def test_two_columns_meaning_the_same_fail_naming_both(run_dbt: DbtRunner):
    both_prices = INPUTS / "transactions_price_and_unitprice.csv"

    result = build(run_dbt, READ_TRANSACTIONS, transactions_path=both_prices)

    assert_fails_with(
        result,
        f"Input transactions_path='{both_prices}'",
        "columns Price and UnitPrice both mean 'price'",
    )


# --- vars ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("analysis_date", "problem"),
    [
        ("2021-13-01", "(text) is not allowed: expected a calendar date 'YYYY-MM-DD', or null."),
        ("yesterday", "(text) is not allowed: expected a calendar date 'YYYY-MM-DD', or null."),
    ],
)
def test_invalid_analysis_date_fails_naming_the_var(
    run_dbt: DbtRunner, analysis_date: str, problem: str
):
    result = build(run_dbt, "int_datasets_dated", analysis_date=analysis_date)

    assert_fails_with(result, f"var analysis_date='{analysis_date}' {problem}")


def test_equal_dataset_names_fail_naming_both_vars(run_dbt: DbtRunner):
    result = build(
        run_dbt,
        "int_datasets_dated",
        transactions_dataset="shop",
        customer_summaries_dataset="shop",
    )

    assert_fails_with(
        result,
        "vars transactions_dataset and customer_summaries_dataset are both 'shop'",
    )


# --- data-quality gate -----------------------------------------------------------------------


def test_too_many_unparseable_rows_fail_the_share_check(run_dbt: DbtRunner):
    """2 of 6 rows have a date nobody expected: above the 1% default, the build stops at the
    datasets mart (before any test) naming the file, the column and the first such value."""
    mostly_bad = INPUTS / "transactions_mostly_unparseable.csv"

    result = run_dbt(
        vars={
            "transactions_path": str(mostly_bad),
            "customer_summaries_path": str(VALID_SUMMARIES),
        },
        select="+datasets +quarantine_summary",
        extra=NO_UNIT_TESTS,
    )

    assert_fails_with(
        result,
        "Failure in model datasets",
        f"Input transactions_path='{mostly_bad}' (dataset 'online_retail') has 2 of 6 rows with "
        "an unparseable value, more than max_unparseable_share=0.01",
        f"file {mostly_bad}, row 3, column InvoiceDate, value '01.12.2009 07:45'",
    )
    # the other dataset has no unreadable rows, so it does not trip the gate
    assert "dataset 'flo'" not in result.output
