"""Bad input, round two: non-finite values, time zones, FLO shapes, unreadable and gzip inputs.

Every fixture is generated here from the embedded sample plus a few bad rows, so that one dbt build
answers many cases:

- `nonfinite_build`: the whole project on the sample with NaN / infinite / overflowing values in
  both inputs (CSV); every bad row must land in quarantine with its reason, and no numeric column
  of any public mart (listed from the manifest, typed from the database) may hold NaN or infinity.
- `flo_shapes_build`: customer summaries only, with the analysis_date var, rows dated after it and
  category lists in every common spelling.
- `tz_builds`: typed Parquet inputs with TIMESTAMPTZ columns and NaN / infinite values, built
  twice under two different `TZ` values: the results must be identical and follow input_time_zone.
- the rest are short runs that must stop with a message naming the var, the file, the column and
  a value.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, DbtResult, DbtRunner, dbt_build

pytestmark = pytest.mark.dbt

SAMPLE_LINES = PROJECT_DIR / "data" / "sample" / "online_retail_sample.csv"
SAMPLE_SUMMARIES = PROJECT_DIR / "data" / "sample" / "flo_sample.csv"
NO_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]

LINE_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
SUMMARY_HEADER = (
    "master_id,order_channel,last_order_channel,first_order_date,last_order_date,"
    "last_order_date_online,last_order_date_offline,order_num_total_ever_online,"
    "order_num_total_ever_offline,customer_value_total_ever_offline,"
    "customer_value_total_ever_online,interested_in_categories_12"
)

# invoice -> (Quantity, InvoiceDate, Price, expected reason, expected detail)
BAD_LINES = {
    "X001": ("2", "infinity", "1.5", "non_finite_value", "InvoiceDate='infinity'"),
    "X002": ("2", "-infinity", "1.5", "non_finite_value", "InvoiceDate='-infinity'"),
    "X003": ("2", "2010-06-01 10:00:00", "nan", "non_finite_value", "Price='nan'"),
    "X004": ("2", "2010-06-01 10:00:00", "inf", "non_finite_value", "Price='inf'"),
    "X005": ("Infinity", "2010-06-01 10:00:00", "1.5", "non_finite_value", "Quantity='Infinity'"),
    "X006": ("NaN", "2010-06-01 10:00:00", "1.5", "non_finite_value", "Quantity='NaN'"),
    "X007": (
        "99999999999999",
        "2010-06-01 10:00:00",
        "1e299",
        "value_out_of_range",
        "Quantity x Price=inf (Quantity=99999999999999; Price=1e299) is not below 1e15",
    ),
    "X008": (
        "1000000",
        "2010-06-01 10:00:00",
        "1e12",
        "value_out_of_range",
        "Quantity x Price=1e+18 (Quantity=1000000; Price=1e12) is not below 1e15",
    ),
    "X009": ("2", "2010-06-01 10:00:00", "1e400", "non_finite_value", "Price='1e400'"),
    "X010": ("2", "2010-06-01 10:00:00", "abc", "unparseable_value", "Price='abc'"),
}
# master_id -> (row values after master_id, expected reason, expected detail)
GOOD_SUMMARY = "Android App,Offline,2019-01-01,2021-05-01,2021-05-01,2019-06-01,2.0,1.0,100.0,50.0"
BAD_SUMMARIES = {
    "bad-online-value-nan": (
        "Android App,Offline,2019-01-01,2020-01-01,2020-01-01,2019-06-01,2.0,1.0,100.0,nan",
        "non_finite_value",
        "customer_value_total_ever_online='nan'",
    ),
    "bad-offline-value-inf": (
        "Android App,Offline,2019-01-01,2020-01-01,2020-01-01,2019-06-01,2.0,1.0,inf,50.0",
        "non_finite_value",
        "customer_value_total_ever_offline='inf'",
    ),
    "bad-first-date-infinity": (
        "Android App,Offline,infinity,2020-01-01,2020-01-01,2019-06-01,2.0,1.0,100.0,50.0",
        "non_finite_value",
        "first_order_date='infinity'",
    ),
    "bad-orders-inf": (
        "Android App,Offline,2019-01-01,2020-01-01,2020-01-01,2019-06-01,inf,1.0,100.0,50.0",
        "non_finite_value",
        "order_num_total_ever_online='inf'",
    ),
    "bad-value-huge": (
        "Android App,Offline,2019-01-01,2020-01-01,2020-01-01,2019-06-01,2.0,1.0,100.0,1e200",
        "value_out_of_range",
        "customer_value_total_ever_online='1e200': a value must be below 1e15",
    ),
}
NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "BIGINT", "INTEGER", "HUGEINT")


def write_text(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sample_rows(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def build_or_fail(work_dir: Path, project_vars: dict[str, object], select: str | None) -> DbtResult:
    result = dbt_build(work_dir, project_vars, select=select, extra=NO_UNIT_TESTS)
    if result.returncode != 0:
        pytest.fail(f"dbt build failed for {project_vars}:\n{result.output[-6000:]}")
    return result


def public_marts(result: DbtResult) -> list[str]:
    """Names of the models that dbt's manifest marks `access: public` (the published marts)."""
    manifest = json.loads((result.database.parent / "target" / "manifest.json").read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("access") == "public"
    )


# --- one full build with non-finite and overflowing values --------------------------------------


@pytest.fixture(scope="module")
def nonfinite_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    folder = tmp_path_factory.mktemp("nonfinite")
    lines = sample_rows(SAMPLE_LINES)
    for invoice, (quantity, invoice_date, price, _, _) in BAD_LINES.items():
        lines.append(f"{invoice},85048,BAD,{quantity},{invoice_date},{price},13085,United Kingdom")
    # a zoned ISO text timestamp: converted to input_time_zone (UTC) before the date is taken
    lines.append("X100,85048,ZONED,1,2010-06-01 23:30:00-02:00,2.0,13085,United Kingdom")
    summaries = sample_rows(SAMPLE_SUMMARIES)
    summaries += [
        f"{master_id},{values},[ERKEK]" for master_id, (values, _, _) in BAD_SUMMARIES.items()
    ]
    return build_or_fail(
        folder,
        {
            "transactions_path": str(write_text(folder / "lines.csv", lines)),
            "customer_summaries_path": str(write_text(folder / "summaries.csv", summaries)),
        },
        select=None,
    )


@pytest.mark.parametrize("invoice", sorted(BAD_LINES))
def test_non_finite_or_overflowing_line_is_quarantined_with_its_reason(
    nonfinite_build: DbtResult, invoice: str
):
    *_, reason, detail = BAD_LINES[invoice]
    rows = nonfinite_build.query(
        "select quarantine_reason, quarantine_detail, line_revenue from quarantined_invoice_lines "
        f"where invoice_id = '{invoice}'"
    )
    assert [(row_reason, row_detail) for row_reason, row_detail, _ in rows] == [(reason, detail)]
    # the quarantined line's own revenue is finite or absent, never inf
    assert rows[0][2] is None or math.isfinite(rows[0][2])


@pytest.mark.parametrize("master_id", sorted(BAD_SUMMARIES))
def test_non_finite_or_huge_summary_value_is_quarantined_with_its_reason(
    nonfinite_build: DbtResult, master_id: str
):
    _, reason, detail = BAD_SUMMARIES[master_id]
    rows = nonfinite_build.query(
        "select quarantine_reason, quarantine_detail from quarantined_customer_summaries "
        f"where customer_id = '{master_id}'"
    )
    assert rows == [(reason, detail)]


def test_every_numeric_column_of_every_public_mart_is_finite(nonfinite_build: DbtResult):
    """Lists the public marts from the manifest and their numeric columns from the database."""
    marts = public_marts(nonfinite_build)
    assert {"cltv", "cltv_predictions", "kpi_monthly", "rfm", "rpt_clv_summary"} <= set(marts)
    columns = nonfinite_build.query(
        "select table_name, column_name, data_type from information_schema.columns "
        f"where table_schema = 'main' and table_name in ({', '.join(repr(m) for m in marts)})"
    )
    assert {table for table, _, _ in columns} == set(marts), "a public mart is missing"
    numeric = [
        (table, column)
        for table, column, data_type in columns
        if data_type.upper().startswith(NUMERIC_TYPES)
    ]
    assert len(numeric) > 100
    checks = " union all ".join(
        f"select '{table}.{column}' as name, count(*) as bad from main.{table} "
        f'where not isfinite(cast("{column}" as double))'
        for table, column in numeric
    )
    offenders = nonfinite_build.query(f"select name, bad from ({checks}) where bad > 0")
    assert offenders == []
    # the marts are not empty: the check above looked at real rows
    assert nonfinite_build.query("select count(*) from cltv_predictions")[0][0] > 100


def test_analysis_date_is_not_pushed_to_infinity(nonfinite_build: DbtResult):
    dates = nonfinite_build.query("select dataset, cast(analysis_date as varchar) from datasets")
    assert sorted(dates) == [("flo", "2021-06-01"), ("online_retail", "2011-12-11")]


def test_raw_rows_reconcile_with_the_new_reasons(nonfinite_build: DbtResult):
    rows = nonfinite_build.query(
        "select dataset, raw_rows, clean_rows + quarantined_rows, unparseable_rows from datasets "
        "order by dataset"
    )
    assert [(name, raw == total) for name, raw, total, _ in rows] == [
        ("flo", True),
        ("online_retail", True),
    ]
    assert dict((name, unparseable) for name, _, _, unparseable in rows) == {
        "flo": 0,
        "online_retail": 1,
    }


def test_iso_text_with_an_offset_is_converted_to_the_time_zone_var(nonfinite_build: DbtResult):
    rows = nonfinite_build.query(
        "select cast(ordered_at as varchar), cast(order_date as varchar) from orders "
        "where invoice_id = 'X100'"
    )
    assert rows == [("2010-06-02 01:30:00", "2010-06-02")]


# --- FLO shapes: dates after the analysis date, category spellings ------------------------------

FLO_ANALYSIS_DATE = "2021-06-01"
AFTER_ANALYSIS = {
    "late-first": "2021-07-01,2021-08-01,2021-08-01,2021-07-01",
    "late-last": "2020-01-01,2021-06-02,2021-06-02,2020-01-01",
    "late-online": "2020-01-01,2021-05-01,2021-09-01,2021-05-01",
}
# master_id -> (category text as written in the CSV,
#               expected flags kadin, erkek, cocuk, aktifspor, aktifcocuk)
CATEGORY_SPELLINGS = {
    "cat-brackets": ('"[ERKEK, COCUK]"', (False, True, True, False, False)),
    "cat-json": ('"[""AKTIFSPOR""]"', (False, False, False, True, False)),
    "cat-python": ("\"['KADIN', 'ERKEK']\"", (True, True, False, False, False)),
    "cat-pipes": ("KADIN|COCUK", (True, False, True, False, False)),
    "cat-semicolons": ("AKTIFCOCUK;ERKEK", (False, True, False, False, True)),
    "cat-lowercase": ("[kadin]", (True, False, False, False, False)),
    "cat-empty-list": ("[]", (False, False, False, False, False)),
}
UNPARSEABLE_LISTS = {
    "cat-braces": (
        '"{""a"": 1}"',
        "interested_in_categories_12='{\"a\": 1}': not a list of category names",
    ),
    "cat-empty-item": (
        '"[ERKEK,, COCUK]"',
        "interested_in_categories_12='[ERKEK,, COCUK]': not a list of category names",
    ),
}


@pytest.fixture(scope="module")
def flo_shapes_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    folder = tmp_path_factory.mktemp("flo_shapes")
    rows = [SUMMARY_HEADER]
    rows += [
        f"{master_id},Android App,Offline,{dates},2.0,1.0,100.0,50.0,[ERKEK]"
        for master_id, dates in AFTER_ANALYSIS.items()
    ]
    rows += [
        f"{master_id},{GOOD_SUMMARY},{text}" for master_id, (text, _) in CATEGORY_SPELLINGS.items()
    ]
    rows += [
        f"{master_id},{GOOD_SUMMARY},{text}" for master_id, (text, _) in UNPARSEABLE_LISTS.items()
    ]
    return build_or_fail(
        folder,
        {
            "transactions_path": "",
            "customer_summaries_path": str(write_text(folder / "flo.csv", rows)),
            "analysis_date": FLO_ANALYSIS_DATE,
            "max_unparseable_share": 0.5,
        },
        select="+customers +datasets +quarantine_summary +quarantined_customer_summaries",
    )


@pytest.mark.parametrize("master_id", sorted(AFTER_ANALYSIS))
def test_flo_row_dated_after_the_analysis_date_is_quarantined(
    flo_shapes_build: DbtResult, master_id: str
):
    rows = flo_shapes_build.query(
        "select quarantine_reason from quarantined_customer_summaries "
        f"where customer_id = '{master_id}'"
    )
    assert rows == [("order_after_analysis_date",)]


def test_flo_rows_reconcile_with_dates_after_the_analysis_date(flo_shapes_build: DbtResult):
    raw, clean, quarantined = flo_shapes_build.query(
        "select raw_rows, clean_rows, quarantined_rows from datasets where dataset = 'flo'"
    )[0]
    assert (raw, clean, quarantined) == (
        len(AFTER_ANALYSIS) + len(CATEGORY_SPELLINGS) + len(UNPARSEABLE_LISTS),
        len(CATEGORY_SPELLINGS),
        len(AFTER_ANALYSIS) + len(UNPARSEABLE_LISTS),
    )
    # no clean customer has a negative recency
    assert flo_shapes_build.query(
        f"select count(*) from customers where last_order_date > date '{FLO_ANALYSIS_DATE}'"
    ) == [(0,)]


@pytest.mark.parametrize("master_id", sorted(CATEGORY_SPELLINGS))
def test_category_list_spelling_sets_the_interest_flags(
    flo_shapes_build: DbtResult, master_id: str
):
    rows = flo_shapes_build.query(
        "select is_interested_in_kadin, is_interested_in_erkek, is_interested_in_cocuk, "
        "is_interested_in_aktifspor, is_interested_in_aktifcocuk from customers "
        f"where customer_id = '{master_id}'"
    )
    assert rows == [CATEGORY_SPELLINGS[master_id][1]]


@pytest.mark.parametrize("master_id", sorted(UNPARSEABLE_LISTS))
def test_unparseable_category_list_is_quarantined_with_the_value(
    flo_shapes_build: DbtResult, master_id: str
):
    rows = flo_shapes_build.query(
        "select quarantine_reason, quarantine_detail from quarantined_customer_summaries "
        f"where customer_id = '{master_id}'"
    )
    assert rows == [("unparseable_value", UNPARSEABLE_LISTS[master_id][1])]


# --- typed Parquet with time zones, built under two TZ values ------------------------------------

TZ_VALUES = ("UTC", "Pacific/Kiritimati")  # UTC+14: every date would move under a naive reading
ZONE_VAR = "Europe/Istanbul"


def write_zoned_parquet(folder: Path) -> tuple[Path, Path]:
    """The sample as typed Parquet with TIMESTAMPTZ columns, plus NaN / infinite values."""
    lines, summaries = folder / "lines.parquet", folder / "summaries.parquet"
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(
            f"""
            copy (
                select Invoice, StockCode, Description, cast(Quantity as bigint) as Quantity,
                    cast(InvoiceDate || '+00' as timestamptz) as InvoiceDate,
                    cast(Price as double) as Price, "Customer ID", Country
                from read_csv('{SAMPLE_LINES}', all_varchar = true)
                union all select 'P001', 'A', 'NAN PRICE', 1, timestamptz '2010-06-01 10:00:00+00',
                    cast('nan' as double), '13085', 'United Kingdom'
                union all select 'P002', 'A', 'INF PRICE', 1, timestamptz '2010-06-01 10:00:00+00',
                    cast('inf' as double), '13085', 'United Kingdom'
                union all select 'P003', 'A', 'INF DATE', 1, cast('infinity' as timestamptz),
                    1.0, '13085', 'United Kingdom'
                union all select 'P004', 'A', 'LATE EVENING', 1,
                    timestamptz '2010-06-01 22:30:00+00', 1.0, '13085', 'United Kingdom'
            ) to '{lines}' (format parquet)
            """
        )
        connection.execute(
            f"""
            copy (
                -- first_order_date zoned; last_order_date stays a bare date as text, which
                -- must not pick up the machine's zone either
                select * replace (
                    cast(first_order_date || ' 22:30:00+00' as timestamptz) as first_order_date
                )
                from read_csv('{SAMPLE_SUMMARIES}', all_varchar = true)
            ) to '{summaries}' (format parquet)
            """
        )
    return lines, summaries


@pytest.fixture(scope="module")
def tz_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DbtResult]:
    inputs = tmp_path_factory.mktemp("zoned_inputs")
    lines, summaries = write_zoned_parquet(inputs)
    builds = {}
    for tz in TZ_VALUES:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TZ", tz)
            builds[tz] = build_or_fail(
                tmp_path_factory.mktemp("tz"),
                {
                    "transactions_path": str(lines),
                    "customer_summaries_path": str(summaries),
                    "input_time_zone": ZONE_VAR,
                },
                select="+orders +customers +rfm +datasets +quarantine_summary "
                "+quarantined_invoice_lines",
            )
    return builds


def test_the_two_tz_values_really_differ_for_duckdb():
    """The check below can fail: DuckDB's session zone follows TZ when nothing overrides it."""
    zones = set()
    for tz in TZ_VALUES:
        completed = subprocess.run(
            [
                sys.executable,
                "-c",
                "import duckdb; "
                "print(duckdb.sql(\"select current_setting('TimeZone')\").fetchone()[0])",
            ],
            env={**os.environ, "TZ": tz},
            capture_output=True,
            text=True,
            check=True,
        )
        zones.add(completed.stdout.strip())
    assert len(zones) == 2, zones


@pytest.mark.parametrize(
    "query",
    [
        "select dataset, customer_id, invoice_id, cast(ordered_at as varchar) from orders",
        "select dataset, customer_id, cast(first_order_date as varchar), "
        "cast(last_order_date as varchar) from customers",
        "select dataset, customer_id, recency, frequency, rfm_score, segment from rfm",
        "select dataset, cast(first_order_date as varchar), cast(analysis_date as varchar) "
        "from datasets",
    ],
    ids=["orders", "customers", "rfm", "datasets"],
)
def test_build_under_two_tz_values_gives_identical_results(
    tz_builds: dict[str, DbtResult], query: str
):
    first, second = (sorted(tz_builds[tz].query(query)) for tz in TZ_VALUES)
    assert first and first == second


def test_timestamptz_is_converted_to_the_time_zone_var(tz_builds: dict[str, DbtResult]):
    for tz in TZ_VALUES:
        rows = tz_builds[tz].query(
            "select cast(ordered_at as varchar), cast(order_date as varchar) from orders "
            "where invoice_id = 'P004'"
        )
        # 22:30 UTC is 01:30 the next day in Istanbul (UTC+3 from 2016, UTC+3 in summer 2010)
        assert rows == [("2010-06-02 01:30:00", "2010-06-02")], tz


def test_flo_timestamptz_dates_are_taken_in_the_time_zone_var(tz_builds: dict[str, DbtResult]):
    for tz in TZ_VALUES:
        rows = tz_builds[tz].query(
            "select cast(first_order_date as varchar) from customers "
            "where customer_id = '99d8bc74-936f-4efc-a49f-34f1d6424900'"
        )
        # the sample's 2020-02-11, written as 22:30 UTC: 2020-02-12 01:30 in Istanbul
        assert rows == [("2020-02-12",)], tz


@pytest.mark.parametrize(
    ("invoice", "detail"),
    [("P001", "Price='nan'"), ("P002", "Price='inf'"), ("P003", "InvoiceDate='infinity'")],
)
def test_typed_parquet_non_finite_value_is_quarantined(
    tz_builds: dict[str, DbtResult], invoice: str, detail: str
):
    rows = tz_builds[TZ_VALUES[0]].query(
        "select quarantine_reason, quarantine_detail from quarantined_invoice_lines "
        f"where invoice_id = '{invoice}'"
    )
    assert rows == [("non_finite_value", detail)]


# --- whole inputs that cannot be read: the message names file, column and value -----------------


def assert_fails_with(result: DbtResult, *fragments: str) -> None:
    assert result.returncode != 0, f"build was expected to fail:\n{result.output}"
    missing = [fragment for fragment in fragments if fragment not in result.output]
    assert not missing, f"output lacks {missing}:\n{result.output}"


def test_semicolon_csv_with_decimal_commas_names_file_column_and_value(
    run_dbt: DbtRunner, tmp_path: Path
):
    path = write_text(
        tmp_path / "semicolons.csv",
        [
            LINE_HEADER.replace(",", ";"),
            "489434;85048;LIGHT;12;2009-12-01 07:45:00;6,95;13085;United Kingdom",
            "489435;85049;CANDLE;2;2009-12-01 08:00:00;2,10;13086;United Kingdom",
        ],
    )
    result = run_dbt(
        vars={"transactions_path": str(path), "customer_summaries_path": ""},
        select="+int_datasets_dated",
        extra=NO_UNIT_TESTS,
    )
    assert_fails_with(
        result,
        f"Input transactions_path='{path}' (dataset 'online_retail') has no usable row",
        "2 unparseable_value",
        f"file {path}, row 1, column Price, value '6,95'",
    )
    assert "Failure in test assert_every_input_has_clean_rows" not in result.output


def test_epoch_millisecond_dates_name_file_column_and_value(run_dbt: DbtRunner, tmp_path: Path):
    path = write_text(
        tmp_path / "epoch.csv",
        [LINE_HEADER, "489434,85048,LIGHT,12,1259653500000,6.95,13085,United Kingdom"],
    )
    result = run_dbt(
        vars={"transactions_path": str(path), "customer_summaries_path": ""},
        select="+int_datasets_dated",
        extra=NO_UNIT_TESTS,
    )
    assert_fails_with(
        result,
        f"Input transactions_path='{path}'",
        f"file {path}, row 1, column InvoiceDate, value '1259653500000' (unparseable_value)",
    )


def test_unreadable_customer_summaries_name_file_column_and_value(
    run_dbt: DbtRunner, tmp_path: Path
):
    path = write_text(
        tmp_path / "flo_epoch.csv",
        [
            SUMMARY_HEADER,
            "a,Android App,Offline,1546300800000,1577836800000,,,2,1,100.0,50.0,[ERKEK]",
        ],
    )
    result = run_dbt(
        vars={"transactions_path": "", "customer_summaries_path": str(path)},
        select="+int_datasets_dated",
        extra=NO_UNIT_TESTS,
    )
    assert_fails_with(
        result,
        f"Input customer_summaries_path='{path}' (dataset 'flo') has no usable row",
        f"file {path}, row 1, column first_order_date, value '1546300800000'",
    )


def test_mostly_unparseable_input_names_file_column_and_value_before_any_test(
    run_dbt: DbtRunner, tmp_path: Path
):
    rows = [LINE_HEADER, "489434,85048,LIGHT,12,2009-12-01 07:45:00,6.95,13085,United Kingdom"]
    rows += ["489435,85049,CANDLE,2,01.12.2009 08:00,2.10,13086,United Kingdom"] * 3
    path = write_text(tmp_path / "dotted_dates.csv", rows)
    result = run_dbt(
        vars={"transactions_path": str(path), "customer_summaries_path": ""},
        select="+datasets",
        extra=NO_UNIT_TESTS,
    )
    assert_fails_with(
        result,
        f"Input transactions_path='{path}' (dataset 'online_retail') has 3 of 4 rows with an "
        "unparseable value, more than max_unparseable_share=0.01",
        f"file {path}, row 2, column InvoiceDate, value '01.12.2009 08:00'",
    )


# --- compressed inputs ---------------------------------------------------------------------------


def gzip_csv(path: Path, rows: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    return path


@pytest.mark.parametrize("var_name", ["transactions_path", "customer_summaries_path"])
def test_gzip_content_named_csv_is_refused_naming_var_and_file(
    run_dbt: DbtRunner, tmp_path: Path, var_name: str
):
    header = LINE_HEADER if var_name == "transactions_path" else SUMMARY_HEADER
    path = gzip_csv(tmp_path / "compressed.csv", [header, "1,2,3"])
    other = "customer_summaries_path" if var_name == "transactions_path" else "transactions_path"
    model = (
        "base_transactions__raw_lines"
        if var_name == "transactions_path"
        else "base_customer_summaries__raw_rows"
    )
    result = run_dbt(vars={var_name: str(path), other: ""}, select=model, extra=NO_UNIT_TESTS)
    assert_fails_with(
        result,
        f"Input {var_name}='{path}': file {path} does not hold UTF-8 text",
        "name it .csv.gz",
    )


def test_gzip_csv_named_csv_gz_is_read(run_dbt: DbtRunner, tmp_path: Path):
    path = gzip_csv(
        tmp_path / "lines.csv.gz",
        [LINE_HEADER, "489434,85048,LIGHT,12,2009-12-01 07:45:00,6.95,13085,United Kingdom"],
    )
    result = run_dbt(
        vars={"transactions_path": str(path), "customer_summaries_path": ""},
        select="+stg_transactions__invoice_lines",
        extra=NO_UNIT_TESTS,
    )
    assert result.returncode == 0, result.output
    assert result.query(
        "select invoice_id, quantity, unit_price from stg_transactions__invoice_lines"
    ) == [("489434", 12, 6.95)]


# --- the time-zone var is checked with the others ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Mars/Olympus", "'Mars/Olympus' (text)"), (3, "3")],
)
def test_bad_input_time_zone_var_is_refused_naming_it(
    run_dbt: DbtRunner, value: object, shown: str
):
    result = run_dbt(vars={"input_time_zone": value}, command="parse")
    assert_fails_with(
        result,
        f"var input_time_zone={shown} is not allowed: expected an IANA time-zone name",
    )
