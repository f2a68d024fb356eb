"""A Python model's frame written to Spark and read back is the frame DuckDB gives (needs
pyspark and Java, which `make spark-setup` installs; `make test-fast` leaves this module out)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from crm_analytics.spark.tables import DuckDBTables, SparkTables

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # a missing prerequisite fails, never skips: `make test` installs both before pytest
    if importlib.util.find_spec("pyspark") is None:
        pytest.fail("pyspark is not installed: run `make spark-setup` (README, Spark)")
    if shutil.which("java") is None:
        pytest.fail("no java on PATH: run `make java` (README, Spark)")
    from crm_analytics.spark.session import spark_session

    spark = spark_session(directory=tmp_path_factory.mktemp("spark"), ansi=True)
    yield spark


def model_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": ["flo", "online_retail", None],
            "customers": pd.Series([3, 5, 8], dtype="int64"),
            "holdout": pd.Series([1, None, 2], dtype="Int64"),
            "alpha": [0.1, float("nan"), 83.4],
            "weakly_identified": [True, False, True],
            "fitted_at": pd.to_datetime(["2011-12-09 12:50", "2021-05-30 00:00", None]),
        }
    )


def test_a_frame_round_trips_through_spark_as_through_duckdb(session: Any, tmp_path: Path):
    spark = SparkTables(session)
    spark.create_schema("crm_test")
    spark.write("`crm_test`.`fitted`", model_frame())
    spark.write("`crm_test`.`fitted`", model_frame())  # overwritten, not appended
    duckdb = DuckDBTables(str(tmp_path / "t.duckdb"))
    duckdb.write('"main"."fitted"', model_frame())
    expected = duckdb.read('"main"."fitted"')
    actual = spark.read("`crm_test`.`fitted`").sort_values("customers", ignore_index=True)
    pd.testing.assert_frame_equal(actual, expected)
    types = dict(session.table("crm_test.fitted").dtypes)
    assert types == {
        "dataset": "string",
        "customers": "bigint",
        "holdout": "bigint",
        "alpha": "double",
        "weakly_identified": "boolean",
        "fitted_at": "timestamp",
    }
    assert actual["fitted_at"].iloc[0] == pd.Timestamp(dt.datetime(2011, 12, 9, 12, 50))


def test_an_empty_frame_keeps_its_column_types(session: Any) -> None:
    spark = SparkTables(session)
    spark.create_schema("crm_test")
    spark.write("`crm_test`.`empty`", model_frame().iloc[:0])
    assert dict(session.table("crm_test.empty").dtypes)["customers"] == "bigint"
    assert spark.read("`crm_test`.`empty`").empty


def _hash_fraction_sql(macro_file: str, macro_name: str) -> str:
    """The SQL of a crm_customer_hash_fraction implementation for columns `dataset` and
    `customer_id`, rendered from its macro file with plain Jinja (dbt's type macros stubbed with
    the types dbt-duckdb and dbt-spark give)."""
    import jinja2

    types = {"type_bigint": lambda: "bigint", "type_float": lambda: "double"}
    text = (Path(__file__).parents[3] / macro_file).read_text()
    module = (
        jinja2.Environment(extensions=["jinja2.ext.do"])
        .from_string(text)
        .make_module({"dbt": types})
    )
    return str(getattr(module, macro_name)("dataset", "customer_id")).strip()


def test_both_engines_draw_the_same_fit_sample_numbers(session: Any) -> None:
    # the fraction is the first 52 bits of an MD5 (hashlib here), identical on DuckDB and Spark,
    # so a dataset above fit_max_customers is fitted on the same customers by both ("108606"
    # of flo hashes to ffff0877...: a fraction just below 1)
    import hashlib

    import duckdb

    ids = pd.DataFrame(
        {
            "dataset": ["online_retail"] * 4 + ["flo"] * 3,
            "customer_id": ["12346", "12347", "17850", "C-1|x", "cc7bd0b8-a1f4", "0", "108606"],
        }
    )
    expected = [
        int(hashlib.md5(f"{d}|{c}".encode()).hexdigest()[:13], 16) / 2**52
        for d, c in zip(ids["dataset"], ids["customer_id"], strict=True)
    ]
    duckdb_sql = _hash_fraction_sql("macros/fit_sample.sql", "default__crm_customer_hash_fraction")
    spark_sql = _hash_fraction_sql(
        "macros/cross_db/spark_overrides.sql", "spark__crm_customer_hash_fraction"
    )
    on_duckdb = duckdb.sql(f"select {duckdb_sql} as fraction from ids").df()["fraction"]
    session.createDataFrame(ids).createOrReplaceTempView("ids")
    on_spark = session.sql(f"select {spark_sql} as fraction from ids").toPandas()["fraction"]
    assert on_duckdb.tolist() == expected
    assert on_spark.tolist() == expected
    assert 0.99998 < expected[-1] < 1
