"""crm_analytics.frames.with_arrow_text: a Python model's result with Arrow text must become the
same table, on DuckDB and in the Spark runner's schema, as the frame itself."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from crm_analytics.frames import with_arrow_text
from crm_analytics.spark.tables import spark_schema


def result_frame() -> pd.DataFrame:
    """The kinds of columns the Python models return: text as DuckDB's .df() gives it (pandas'
    string dtype), text in an object column, missing text, numbers with NaN, a timestamp."""
    text = duckdb.sql("select * from (values ('online_retail'), (null), ('cdnow')) as t(d)").df()
    return pd.DataFrame(
        {
            "dataset": text["d"],
            "model": pd.Series(["bgnbd", np.nan, "pareto_nbd"], dtype=object),
            "frequency": [0, 3, 12],
            "estimate": [0.5, np.nan, 2.25],
            "scored_at": pd.to_datetime(["2011-12-11 00:00", None, "2011-12-11 10:00"]),
        }
    )


def table_of(frame: pd.DataFrame) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]]:
    connection = duckdb.connect()
    connection.register("frame", frame)
    connection.execute("create table result as select * from frame")
    types = connection.execute("select column_name, column_type from (describe result)").fetchall()
    rows = connection.execute("select * from result order by frequency").fetchall()
    return types, rows


def test_the_table_is_the_same_with_arrow_text() -> None:
    frame = result_frame()
    before = frame.copy()
    arrow_text = with_arrow_text(frame)

    assert isinstance(arrow_text["dataset"].dtype, pd.ArrowDtype)
    assert isinstance(arrow_text["model"].dtype, pd.ArrowDtype)
    for name in ("frequency", "estimate", "scored_at"):
        assert arrow_text[name].dtype == frame[name].dtype
    pd.testing.assert_frame_equal(frame, before)  # the model's own frame is left alone

    types, rows = table_of(arrow_text)
    assert (types, rows) == table_of(frame)
    assert dict(types)["dataset"] == "VARCHAR" and dict(types)["model"] == "VARCHAR"
    assert [row[:2] for row in rows] == [
        ("online_retail", "bgnbd"),
        (None, None),
        ("cdnow", "pareto_nbd"),
    ]
    assert spark_schema(arrow_text) == spark_schema(frame)


def test_frames_without_text_or_rows() -> None:
    numbers = pd.DataFrame({"frequency": [1, 2], "estimate": [0.5, 1.5]})
    assert with_arrow_text(numbers) is numbers
    already = pd.DataFrame({"dataset": pd.array(["a"], dtype=pd.ArrowDtype(pa.large_string()))})
    assert with_arrow_text(already) is already
    # no rows: an object column becomes VARCHAR, where DuckDB would guess INTEGER from nothing
    empty = result_frame().iloc[:0]
    types = dict(table_of(with_arrow_text(empty))[0])
    assert dict(table_of(empty)[0])["model"] == "INTEGER"
    assert types == {
        "dataset": "VARCHAR",
        "model": "VARCHAR",
        "frequency": "BIGINT",
        "estimate": "DOUBLE",
        "scored_at": dict(table_of(empty)[0])["scored_at"],
    }
