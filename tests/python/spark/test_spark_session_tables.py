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
