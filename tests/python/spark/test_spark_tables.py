"""Pandas and Arrow columns to Spark types, and DuckDB's frames (no Spark needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from crm_analytics.frames import arrow_to_pandas, to_pandas
from crm_analytics.spark.tables import DuckDBTables, spark_schema, spark_type


def test_pandas_dtypes_map_to_spark_types() -> None:
    frame = pd.DataFrame(
        {
            "price": [1.5, None],
            "count": pd.Series([1, 2], dtype="int64"),
            "maybe": pd.Series([1, None], dtype="Int64"),
            "small": pd.Series([1, 2], dtype="int32"),
            "flag": [True, False],
            "segment": ["champions", None],
            "text": pd.Series(["a", "b"], dtype="string"),
            "at": pd.to_datetime(["2011-12-09 12:50", None]),
            "day": [dt.date(2011, 12, 9), None],
            "nothing": pd.Series([None, None], dtype=object),
        }
    )
    assert spark_schema(frame) == (
        "`price` double, `count` bigint, `maybe` bigint, `small` int, `flag` boolean, "
        "`segment` string, `text` string, `at` timestamp, `day` date, `nothing` string"
    )


def test_an_empty_frame_keeps_its_types() -> None:
    frame = pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)})
    assert spark_schema(frame) == "`a` double, `b` string"


def test_arrow_tables_map_to_spark_types() -> None:
    table = pa.table({"line": pa.array([1], pa.int64()), "text": pa.array(["x"], pa.string())})
    assert spark_schema(table) == "`line` bigint, `text` string"


def test_an_unsupported_column_is_named() -> None:
    with pytest.raises(TypeError, match="column 'span'"):
        spark_type("span", pd.Series([dt.timedelta(days=1)]))


def test_arrow_comes_back_as_duckdb_gives_it() -> None:
    zoned = pa.array([dt.datetime(2011, 12, 9, 12, 50)], pa.timestamp("us", tz="UTC"))
    frame = arrow_to_pandas(pa.table({"at": zoned, "n": pa.array([None, 2][:1], pa.int64())}))
    assert frame["at"].dt.tz is None
    assert frame["at"].iloc[0] == pd.Timestamp("2011-12-09 12:50")


def test_duckdb_tables_round_trip(tmp_path: Path) -> None:
    tables = DuckDBTables(str(tmp_path / "t.duckdb"))
    frame = pd.DataFrame({"dataset": ["flo", "online_retail"], "value": [0.1, 2.0]})
    tables.write('"main"."fitted"', frame)
    tables.write('"main"."fitted"', frame)  # replaced, not appended
    pd.testing.assert_frame_equal(tables.read('"main"."fitted"'), frame, check_dtype=False)


class SparkLikeFrame:
    """A stand-in for a Spark DataFrame under dbt-databricks: toArrow and toPandas, no df."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def toArrow(self) -> pa.Table:  # noqa: N802 - the Spark DataFrame method's name
        return self.table

    def toPandas(self) -> pd.DataFrame:  # noqa: N802
        return self.table.to_pandas()


def test_to_pandas_reads_a_spark_dataframe_as_duckdb_would(tmp_path: Path) -> None:
    table = pa.table({"spend": pa.array([1, None], pa.decimal128(12, 2))})
    with DuckDBTables(str(tmp_path / "t.duckdb")).connect() as connection:
        expected = connection.from_arrow(table).df()
        relation = connection.from_arrow(table)
        pd.testing.assert_frame_equal(to_pandas(relation), expected)
    frame = to_pandas(SparkLikeFrame(table))
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["spend"].dtype == "float64"
