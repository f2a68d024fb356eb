"""What makes the build scale must not change a result.

- A Parquet file is read with its own types (no cast to text and back): the lines it gives equal,
  column for column, those of the same values written as CSV text and parsed, edge values
  included (a quantity of 1e15, 2.5 or NaN, an infinite price, a missing value).
- The sheet-overlap check finds neighbouring rows without a global sort: in one streaming pass
  over a Parquet input, in blocks of rows otherwise. Both ways (Parquet; the same rows as CSV
  with blocks of 4 rows, so that part starts, missing timestamps and copies fall on block
  edges) set aside exactly the lines that a direct pandas reading of the rule (README, "The
  Online Retail II sheet overlap") sets aside.
- `scripts/bench.py` measures a process tree: CPU seconds of grandchildren count, and the peak
  memory is the sum over the tree's processes, not the largest one.
- The bench's two pandas baselines (`scripts/course_pipeline_pandas.py`, fast and as the course
  writes it) are the same pipeline: per customer, the same values, but for the order of sums,
  which can move a customer tied at a quantile edge to the next score or segment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import math
import subprocess
import sys
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import PROJECT_DIR, DbtResult, dbt_build

LINE_COLUMNS = [
    "invoice_id",
    "stock_code",
    "product_description",
    "quantity",
    "ordered_at",
    "unit_price",
    "line_revenue",
    "customer_id",
    "country",
    "quarantine_reason",
    "quarantine_detail",
]
SCHEMA = pa.schema(
    [
        ("Invoice", pa.string()),
        ("StockCode", pa.string()),
        ("Description", pa.string()),
        ("Quantity", pa.int64()),
        ("InvoiceDate", pa.timestamp("us")),
        ("Price", pa.float64()),
        ("Customer ID", pa.int64()),
        ("Country", pa.string()),
    ]
)


def build_lines(work_dir: Path, path: Path | str, **project_vars: object) -> DbtResult:
    """Builds the input up to the classified lines; fails the test when the build fails."""
    result = dbt_build(
        work_dir,
        {"transactions_path": str(path), "customer_summaries_path": "", **project_vars},
        select="+int_invoice_lines_classified",
        extra=["--exclude-resource-type", "unit_test"],
    )
    assert result.returncode == 0, result.output[-5000:]
    return result


def classified(result: DbtResult) -> list[tuple]:
    return result.query(
        f"select source_row_number, {', '.join(LINE_COLUMNS)} "
        "from int_invoice_lines_classified order by source_row_number"
    )


# --- typed Parquet reads as its text would ----------------------------------------------------


def at(day: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2010, 12, 1, 8, 0) + dt.timedelta(days=day, minutes=minute)


EDGE_LINES = [
    ("536365", "85123A", "WHITE HANGING HEART", 6, at(0), 2.55, 17850, "United Kingdom"),
    ("536365", "71053", " WHITE METAL LANTERN ", 6, at(0), 3.39, 17850, "United Kingdom"),
    ("536366", "22633", "HAND WARMER", 10**15, at(1), 1.85, 17850, "United Kingdom"),
    ("536367", "84879", "BIRD ORNAMENT", 999_999_999_999_999, at(1), 1.69, 13047, "France"),
    ("536368", "22960", "JAM MAKING SET", 3, at(2), math.nan, 13047, "France"),
    ("536369", "22913", "RED COAT RACK", 3, at(2), math.inf, 13047, "France"),
    ("536370", "22728", "ALARM CLOCK", 24, at(3), 0.0, 12583, "France"),
    ("C536371", "22727", "ALARM CLOCK", -24, at(3), 3.75, 12583, "France"),
    ("536372", "22726", "ALARM CLOCK", 0, at(3), 3.75, 12583, "France"),
    ("536373", "22725", "ALARM CLOCK", 5, at(4), -1.5, 12583, "France"),
    ("536374", None, None, 2, at(4), 4.25, None, None),
    ("536375", "21730", "GLASS STAR", None, at(5), 4.25, 17850, "United Kingdom"),
    ("536376", "21730", "GLASS STAR", 2, None, 4.25, 17850, "United Kingdom"),
    ("536377", "21730", "GLASS STAR", 2, at(5), None, 17850, "United Kingdom"),
    (None, "21730", "GLASS STAR", 2, at(5), 4.25, 17850, "United Kingdom"),
    ("536378", "22752", "SET 7 BABUSHKA", -(10**16), at(6, 30), 7.65, 0, "Norway"),
    ("536379", "22752", "SET 7 BABUSHKA", 1, at(6, 31), 1e-7, -5, "Norway"),
]


@pytest.mark.dbt
def test_typed_parquet_gives_the_lines_its_text_gives(tmp_path: Path) -> None:
    parquet = tmp_path / "lines.parquet"
    pq.write_table(pa.Table.from_pylist(
        [dict(zip(SCHEMA.names, line, strict=True)) for line in EDGE_LINES], schema=SCHEMA
    ), parquet)  # fmt: skip
    # the same values as text, as DuckDB writes them (nan, inf, 2010-12-01 08:00:00)
    text = tmp_path / "lines.csv"
    duckdb.sql(f"copy (select * from read_parquet('{parquet}')) to '{text}' (header)")

    typed = classified(build_lines(tmp_path / "parquet", parquet))
    parsed = classified(build_lines(tmp_path / "csv", text))

    assert len(typed) == len(EDGE_LINES)
    assert typed == parsed
    reasons = {row[0]: row[LINE_COLUMNS.index("quarantine_reason") + 1] for row in typed}
    assert [reasons[number] for number in (3, 4, 5, 6, 12, 13, 16)] == [
        "unparseable_value",  # quantity 1e15
        # 999,999,999,999,999 is still a whole number below 1e15, but x 1.69 is revenue >= 1e15
        "value_out_of_range",
        "non_finite_value",  # NaN price
        "non_finite_value",  # infinite price
        "missing_value",
        "missing_value",
        "unparseable_value",  # quantity -1e16
    ]


# --- the sheet-overlap check against a direct reading of its rule --------------------------


def reference_overlap_copies(lines: pd.DataFrame) -> set[tuple[str, int]]:
    """(file, row) of every line the sheet-overlap rule sets aside, computed row by row.

    Parts: a new part at each file and wherever a timestamp is earlier than the previous
    timestamp of the file (rows without one take no part). Parts are numbered by first
    timestamp (then file, then place in the file). A line is a candidate when its time is not
    after the end of some earlier part or not before the start of some later part; among the
    candidates with the same eight values, each later part loses at most as many copies (the
    first ones) as the first part holding that line has.
    """
    timed = lines[lines["InvoiceDate"].notna()].sort_values(["file", "row"]).copy()
    previous = timed.groupby("file")["InvoiceDate"].shift()
    timed["part_in_file"] = (timed["InvoiceDate"] < previous).groupby(timed["file"]).cumsum()
    parts = (
        timed.groupby(["file", "part_in_file"])["InvoiceDate"]
        .agg(starts="min", ends="max")
        .reset_index()
        .sort_values(["starts", "file", "part_in_file"])
        .reset_index(drop=True)
    )
    parts["part_number"] = range(1, len(parts) + 1)
    parts["earlier_end"] = parts["ends"].cummax().shift(1)
    parts["later_start"] = parts["starts"][::-1].cummin()[::-1].shift(-1)
    timed = timed.merge(parts, on=["file", "part_in_file"])
    candidates = timed[
        (timed["InvoiceDate"] <= timed["earlier_end"])
        | (timed["InvoiceDate"] >= timed["later_start"])
    ]
    copies: set[tuple[str, int]] = set()
    for _, same_line in candidates.groupby(SCHEMA.names, dropna=False):
        by_part = same_line.sort_values(["part_number", "row"]).groupby("part_number")
        first_part, *later_parts = [group for _, group in by_part]
        for group in later_parts:
            kept = group.head(len(first_part))
            copies |= set(zip(kept["file"], kept["row"], strict=True))
    return copies


def line(invoice: int, day: int, minute: int = 0, quantity: int = 1) -> dict[str, object]:
    return {
        "Invoice": str(invoice),
        "StockCode": f"S{invoice % 7}",
        "Description": "THING",
        "Quantity": quantity,
        "InvoiceDate": at(day, minute),
        "Price": 1.25,
        "Customer ID": 12000 + invoice % 5,
        "Country": "United Kingdom",
    }


def overlapping_files(folder: Path) -> list[Path]:
    """Two files whose rows fall into parts that overlap in time, with copies across them."""
    first_part = [line(100 + day, day) for day in range(12)]
    first_part.insert(5, line(104, 4))  # the first part holds invoice 104 twice
    first_part.insert(9, {**line(999, 7), "InvoiceDate": None})  # no timestamp
    # rows 15-16: with blocks of 4 rows the next part starts a block (row 17) right after a
    # row without timestamp, and so does the third part (row 25)
    first_part += [line(130, 11, 30), {**line(997, 11), "InvoiceDate": None}]
    # goes back in time at row 17: repeats days 8..11 (a copy of 104 three times would lose
    # only two), adds its own lines inside the overlap and runs on to day 14
    second_part = [line(108, 8), line(500, 8, 5), line(109, 9), line(110, 10), line(111, 11)]
    second_part += [line(112, 12), line(113, 13), line(114, 14)]
    # goes back again: days 3..5, with invoice 104 three times and a quantity that differs
    third_part = [line(103, 3), line(104, 4), line(104, 4), line(104, 4), line(105, 5, 0, 2)]
    third_part += [{**line(998, 5), "InvoiceDate": None}, line(106, 6)]
    # a later part that overlaps nothing
    fourth_part = [line(700 + day, 20 + day) for day in range(6)]
    rows_one = first_part + second_part + third_part + fourth_part
    # another file: its single part overlaps the first file's days 10..13
    rows_two = [line(110, 10), line(111, 11), line(111, 11), line(600, 12), line(113, 13)]
    paths = []
    for name, rows in (("a", rows_one), ("b", rows_two)):
        path = folder / f"{name}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
        duckdb.sql(f"copy (select * from read_parquet('{path}')) to '{folder / name}.csv' (header)")
        paths.append(path)
    return paths


@pytest.mark.dbt
def test_sheet_overlap_check_in_blocks_matches_the_rule(tmp_path: Path) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    paths = overlapping_files(folder)
    frames = []
    for path in paths:
        frame = pq.read_table(path).to_pandas()
        frame["file"] = str(path)
        frame["row"] = range(1, len(frame) + 1)
        frames.append(frame)
    expected = reference_overlap_copies(pd.concat(frames, ignore_index=True))
    assert len(expected) >= 8  # the input does exercise the rule

    for suffix, block_rows in (("parquet", 131072), ("csv", 4), ("csv", 131072)):
        result = build_lines(
            tmp_path / f"{suffix}_{block_rows}",
            folder / f"*.{suffix}",
            sheet_overlap_block_rows=block_rows,
        )
        flagged = set(
            result.query(
                "select replace(source_file, '.csv', '.parquet'), source_row_number "
                "from int_invoice_lines_classified "
                "where quarantine_reason = 'sheet_overlap_duplicate'"
            )
        )
        assert flagged == expected, f"{suffix}, blocks of {block_rows} rows"


# --- the line key test ---------------------------------------------------------------------


@pytest.mark.dbt
def test_line_key_test_finds_repeats_nulls_and_ambiguous_files(tmp_path: Path) -> None:
    """primary_key_line_numbers (bitstrings per block of row numbers) on doctored line tables."""
    folder = tmp_path / "input"
    folder.mkdir()
    overlapping_files(folder)
    result = build_lines(tmp_path / "build", folder / "*.parquet")
    compiled_dir = tmp_path / "build" / "target" / "compiled"
    [compiled] = compiled_dir.rglob("primary_key_line_numbers_*.sql")
    relation = '"crm"."main"."int_invoice_lines_classified"'
    test_sql = compiled.read_text()
    assert relation in test_sql

    with duckdb.connect(str(result.database)) as connection:
        columns = "dataset, source_file, source_sheet, source_row_number, source_file_index"
        connection.execute(f"create table doctored as select {columns} from {relation}")

        def problems() -> dict[str, int]:
            rows = connection.sql(test_sql.replace(relation, "doctored")).fetchall()
            return {problem: count for problem, count in rows}

        assert problems() == {}
        # a row number again, far from the first (another block of 65,536) and right after it
        connection.execute(
            f"insert into doctored select {columns} from doctored where source_row_number = 3"
        )
        connection.execute(
            "insert into doctored select dataset, source_file, source_sheet, "
            "source_row_number + 65536, source_file_index from doctored "
            "where source_row_number = 5 and source_file_index = 0"
        )
        connection.execute(
            "insert into doctored select dataset, source_file, source_sheet, "
            "source_row_number + 65536, source_file_index from doctored "
            "where source_row_number = 5 and source_file_index = 0"
        )
        assert problems() == {"row number repeated in a file": 3}
        connection.execute("delete from doctored")
        connection.execute(f"insert into doctored select {columns} from {relation}")
        connection.execute(
            "update doctored set source_file_index = 0 where source_row_number = 2 "
            "and source_file_index = 1"
        )
        connection.execute(
            "update doctored set source_sheet = null where source_row_number = 4 "
            "and source_file_index = 0"
        )
        assert problems() == {
            # (0, a), (1, b), the moved row's (0, b) and the null sheet's (0, null)
            "file index and names not one to one": 4,
            "null key column": 1,
            "row number repeated in a file": 1,
        }


# --- the bench's process-tree measurement ------------------------------------------------------


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", PROJECT_DIR / "scripts" / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module
    spec.loader.exec_module(module)
    return module


HOLD_MEMORY = """
import subprocess, sys, time
block = b"x" * ({megabytes} * 2**20)  # written, so every page is resident
if {children}:
    leaf = [sys.executable, "-c", sys.argv[1], sys.argv[1]]
    procs = [subprocess.Popen(leaf) for _ in range({children})]
    [proc.wait() for proc in procs]
else:
    deadline = time.process_time() + 0.6
    while time.process_time() < deadline:
        pass
    time.sleep(0.6)
"""


def test_bench_measures_the_whole_process_tree() -> None:
    bench = load_bench()
    leaf = HOLD_MEMORY.format(megabytes=150, children=0)
    parent = HOLD_MEMORY.format(megabytes=10, children=2)

    measured = bench.measure([sys.executable, "-c", parent, leaf])

    assert measured.returncode == 0, measured.output
    # two grandchildren hold 150 MiB each at the same time: the tree's peak is their sum
    assert measured.peak_rss_bytes >= 300 * 2**20
    # each grandchild spins 0.6 s of CPU; its parent waits for it, so it is counted
    assert measured.cpu_seconds >= 1.1
    assert measured.wall_seconds >= 0.6


# measure() in a fresh interpreter: Linux starts a child's ru_maxrss from its parent's resident
# memory at the fork, and a pytest worker that has run other tests may hold more than the spike
PEAK_DRIVER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
sys.modules["bench"] = bench
spec.loader.exec_module(bench)
bench.SAMPLE_SECONDS = 600.0  # one sample at the start, then none until the command ends
spike = f"import time; time.sleep(0.3); block = b'x' * ({sys.argv[2]} * 2**20); del block"
parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spike!r}], check=True)"
measured = bench.measure([sys.executable, "-c", parent])
assert measured.returncode == 0, measured.output
print(measured.peak_rss_bytes)
"""


def test_bench_peak_catches_a_spike_between_samples() -> None:
    def peak_with_spike(megabytes: int) -> int:
        completed = subprocess.run(
            [sys.executable, "-c", PEAK_DRIVER, str(PROJECT_DIR / "scripts" / "bench.py"),
             str(megabytes)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return int(completed.stdout.strip())

    # a grandchild holds 300 MiB for a moment between two samples; its parent waits for it,
    # so only the kernel's high-water mark (wait4) can see it
    spiked = peak_with_spike(300)
    assert spiked >= 300 * 2**20
    # and that is the spike, not a floor: the same command without it measures far less
    assert peak_with_spike(0) < spiked - 250 * 2**20


def test_bench_reports_medians_and_ratios(tmp_path: Path) -> None:
    bench = load_bench()
    result = bench.SizeResult(size=1e6, data="x.parquet", lines=1_000_000, customers=63_000)
    gib = 2**30
    result.runs = {
        "dbt": [bench.Measurement(w, w * 1.5, gib, 0) for w in (30.0, 10.0, 20.0)],
        "pandas": [bench.Measurement(w, w, 2 * gib, 0) for w in (40.0, 60.0, 50.0)],
        "course": [bench.Measurement(200.0, 150.0, 2 * gib, 0)],
        "floor": [bench.Measurement(2.0, 3.0, gib // 4, 0)],
    }
    result.slowest = [("model.crm_analytics.orders", 4.5)]

    bench.write_reports([result], tmp_path)

    rows = pd.read_csv(tmp_path / "bench.csv")
    row = rows.iloc[0]
    assert (row["dbt_wall_s"], row["dbt_cpu_s"], row["pandas_wall_s"]) == (20.0, 30.0, 50.0)
    assert (row["dbt_over_pandas_wall"], row["dbt_over_floor_wall"]) == (0.4, 10.0)
    course = (row["course_runs"], row["course_wall_s"], row["dbt_over_course_wall"])
    assert course == (1, 200.0, 0.1)
    assert row["floor_peak_rss_gib"] == 0.25
    markdown = (tmp_path / "bench.md").read_text()
    assert "model.crm_analytics.orders" in markdown
    header, _, size_row = markdown.splitlines()[:3]
    assert header.count("|") == size_row.count("|") == 13
    assert "| 0.40 | 0.10 | 10.00 | 3/3/1/1 |" in size_row
    assert json.loads((tmp_path / "bench_runs.json").read_text())["1e+06"]["dbt"][1]["wall_seconds"]


def assert_same_but_for_edge_ties(
    fast: pd.DataFrame, as_written: pd.DataFrame, value: str, labels: list[str]
) -> None:
    """The ``labels`` (qcut scores, segments) of the two tables agree for every customer but
    those whose ``value`` (the qcut input) ties another customer's to 1e-9: the course's lambda
    sums and pandas' grouped sums add in another order, and the last bit can then tip one of
    two tied customers over a quantile edge (customer 13289 of the 2010-2011 sheet)."""
    differ = (fast[labels] != as_written[labels]).any(axis=1)
    values = fast[value].to_numpy()
    for customer in fast.index[differ]:
        ties = np.isclose(values, fast.loc[customer, value], rtol=1e-9, atol=0.0)
        assert ties.sum() >= 2, (customer, value)
    assert differ.sum() <= 2, fast.index[differ].tolist()


def test_the_course_as_written_and_the_fast_baseline_give_the_same_values(
    tmp_path: Path,
) -> None:
    """The bench's baseline b (pandas' built-in aggregations) and b' (the course's lambdas,
    ``--as-written``) on 2,000 generated customers: the same customers and columns (names,
    order, types), counts and days exactly, sums and model outputs to 1e-9, and the same scores
    and segments but for customers tied at a quantile edge."""
    from crm_analytics.synth import write_transactions

    spec = importlib.util.spec_from_file_location(
        "course_pipeline_pandas", PROJECT_DIR / "scripts" / "course_pipeline_pandas.py"
    )
    assert spec and spec.loader
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    data = tmp_path / "lines.parquet"
    write_transactions(data, 2000, seed=11)
    lines = course.read_lines(data)
    today = lines["InvoiceDate"].max().normalize() + pd.Timedelta(
        days=course.ANALYSIS_DATE_OFFSET_DAYS
    )

    def both(build) -> tuple[pd.DataFrame, pd.DataFrame]:
        return build(as_written=False), build(as_written=True)

    rfm = both(partial(course.rfm_segments, lines, today))
    descriptive = both(partial(course.descriptive_cltv, lines))
    predictive = both(partial(course.predictive_cltv, lines, today))
    for (fast, as_written), labels in (
        (rfm, ["recency_score", "frequency_score", "monetary_score", "RF_SCORE", "segment"]),
        (descriptive, ["segment"]),
        (predictive, ["segment"]),
    ):
        assert len(fast) > 500
        assert list(as_written.columns) == list(fast.columns)
        assert (as_written.dtypes == fast.dtypes).all()
        numbers = [column for column in fast.columns if column not in labels]
        exact = [column for column in numbers if pd.api.types.is_integer_dtype(fast[column])]
        assert exact, numbers
        pd.testing.assert_frame_equal(as_written[exact], fast[exact], check_exact=True)
        pd.testing.assert_frame_equal(
            as_written[numbers], fast[numbers], check_exact=False, rtol=1e-9
        )
    assert_same_but_for_edge_ties(*rfm, "monetary", ["monetary_score"])
    assert (rfm[0]["RF_SCORE"] == rfm[1]["RF_SCORE"]).all()  # from whole days and counts
    assert_same_but_for_edge_ties(*descriptive, "cltv", ["segment"])
    assert_same_but_for_edge_ties(*predictive, "clv", ["segment"])
    # recency counts from each customer's *last* line: the most recent customer's is the days
    # from the file's last line to the analysis date
    assert rfm[1]["recency"].min() == (today - lines["InvoiceDate"].max()).days
    assert set(rfm[1]["segment"]) >= {"champions", "hibernating"}


@pytest.mark.dbt
def test_fits_above_fit_max_customers_use_a_fixed_sample_and_score_everyone(
    tmp_path: Path,
) -> None:
    """fit_max_customers = 1000 on the sample (3000 and 2000 customers): each fit sees about
    1000 customers (binomial, within 4 SD), its estimates lie within 4 of the sample's standard
    errors of lifetimes' fit on every customer, and every customer is still scored."""
    from lifetimes import BetaGeoFitter

    result = dbt_build(
        tmp_path,
        {"fit_max_customers": 1000},
        select="+cltv_model_parameters +cltv_predictions +customer_lifetime",
        extra=["--exclude-resource-type", "unit_test"],
    )
    assert result.returncode == 0, result.output[-5000:]
    with duckdb.connect(str(result.database), read_only=True) as con:
        lifetimes_rows = con.sql(
            "select dataset, customer_id, frequency, recency, customer_age from customer_lifetime"
        ).df()
        fitted = con.sql(
            "select dataset, parameter, estimate, standard_error, n_customers"
            " from cltv_model_parameters where model = 'bgnbd'"
        ).df()
        scored = dict(
            con.sql("select dataset, count(*) from cltv_predictions group by 1").fetchall()
        )
    for dataset, rows in lifetimes_rows.groupby("dataset"):
        customers = len(rows)
        assert customers > 1000
        share = 1000 / customers
        params = fitted[fitted["dataset"] == dataset].set_index("parameter")
        n_fitted = int(params["n_customers"].iloc[0])
        assert abs(n_fitted - 1000) <= 4 * math.sqrt(customers * share * (1 - share)), dataset
        # exactly the customers whose MD5 fraction (computed here with hashlib) is below the share
        fractions = [
            int(hashlib.md5(f"{dataset}|{customer}".encode()).hexdigest()[:13], 16) / 2**52
            for customer in rows["customer_id"]
        ]
        assert n_fitted == sum(fraction < share for fraction in fractions), dataset
        assert scored[dataset] == customers
        full = BetaGeoFitter(penalizer_coef=0.001).fit(
            rows["frequency"], rows["recency"], rows["customer_age"]
        )
        for name in ("r", "alpha", "a", "b"):
            gap = abs(params.loc[name, "estimate"] - full.params_[name])
            assert gap <= 4 * params.loc[name, "standard_error"], (dataset, name, gap)


@pytest.mark.dbt
@pytest.mark.parametrize(
    ("memory_limit", "block_allocator"),
    [("3GB", "2.7 GiB"), ("2500MiB", "2.4 GiB"), ("-1", "0 bytes"), ("none", "0 bytes")],
)
def test_the_memory_limit_sets_the_block_allocator_only_when_it_is_a_size(
    run_dbt, monkeypatch: pytest.MonkeyPatch, memory_limit: str, block_allocator: str
) -> None:
    """profiles.yml: a size is also DuckDB's block_allocator_memory; no limit leaves it unset
    (DuckDB aborts the process when -1 or none reach block_allocator_memory)."""
    monkeypatch.setenv("CRM_DUCKDB_MEMORY_LIMIT", memory_limit)
    query = "select current_setting('block_allocator_memory') as block_allocator"
    result = run_dbt(command="show", extra=["--inline", query])
    assert result.returncode == 0, result.output
    assert f"| {block_allocator} " in result.output
