"""The tables a dbt Python model reads, as the same pandas frames on every adapter.

``dbt.ref(...)`` gives a DuckDB relation under dbt-duckdb (``.df()``), a Spark DataFrame under
dbt-databricks (``.toPandas()``, no ``.df()``) and a relation with both under the project's
Spark runner (``crm_analytics.spark``). ``to_pandas`` accepts each, and turns a Spark table into
the frame DuckDB would give for it (same dtypes: decimals as float64, naive timestamps), so that
the fitting code sees one thing.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def naive_timestamps(table: pa.Table) -> pa.Table:
    """Time-zone-aware timestamp columns as wall-clock time in their zone, without the zone.

    Spark's ``timestamp`` arrives in Arrow with the session's time zone; DuckDB's tables hold
    naive timestamps, which is what the Python models see there.
    """
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            column = pc.local_timestamp(table.column(index))
            table = table.set_column(index, pa.field(field.name, column.type), column)
    return table


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as the pandas frame DuckDB's ``.df()`` gives for the same table."""
    table = naive_timestamps(table)
    connection = duckdb.connect()
    try:
        return connection.from_arrow(table).df()
    finally:
        connection.close()


def to_pandas(relation: Any) -> pd.DataFrame:
    """What ``dbt.ref(...)`` or ``dbt.source(...)`` returned, as a pandas frame.

    ``.df()`` where the relation has it (dbt-duckdb, the Spark runner); a Spark DataFrame by
    way of Arrow (``toArrow``, pyspark 4) or, on older pyspark, ``toPandas()``.
    """
    if hasattr(relation, "df"):
        return relation.df()
    if hasattr(relation, "toArrow"):
        return arrow_to_pandas(relation.toArrow())
    if hasattr(relation, "toPandas"):
        return relation.toPandas()
    raise TypeError(f"cannot read a {type(relation).__name__} as a pandas frame")
