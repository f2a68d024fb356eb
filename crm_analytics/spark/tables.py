"""Reading and writing the build's tables as pandas frames, on DuckDB or on Spark.

A Python model sees the same frame on both engines: Spark tables travel as Arrow and are turned
into pandas by DuckDB, exactly as dbt-duckdb's ``dbt.ref(...).df()`` would. Frames going back
to Spark get an explicit schema (``spark_schema``) so that a column's type never depends on its
values (an all-null column, an empty table).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Mapping
from typing import Any, Protocol

import duckdb
import pandas as pd
import pyarrow as pa

from crm_analytics.frames import arrow_to_pandas

Frame = pd.DataFrame | pa.Table
SPARK_INTEGER_TYPES: Mapping[int, str] = {1: "tinyint", 2: "smallint", 4: "int", 8: "bigint"}


class Tables(Protocol):
    """Where the runner reads a model's inputs and writes its result."""

    def read(self, relation: str) -> pd.DataFrame:
        """The table or view named ``relation`` (as dbt renders it) as a pandas frame."""
        ...

    def write(self, relation: str, frame: Frame) -> None:
        """Create or replace the table ``relation`` with the rows of a frame or Arrow table."""
        ...

    def create_schema(self, schema: str) -> None:
        """Create the schema (database, on Spark) unless it exists."""
        ...


def spark_type(column: str, series: pd.Series) -> str:
    """The Spark SQL type of one pandas column (float64 -> double, int64 -> bigint, ...).

    Nullable extension types map like their numpy types; text (object or string dtype) maps to
    string; an object column is typed by its first non-null value. Raises ``TypeError`` naming
    the column for anything else.
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return SPARK_INTEGER_TYPES[dtype.itemsize]
    if pd.api.types.is_float_dtype(dtype):
        return "float" if dtype.itemsize == 4 else "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        values = series.dropna()
        if pd.api.types.is_object_dtype(dtype) and len(values):
            return object_spark_type(column, values.iloc[0])
        return "string"
    raise TypeError(f"column '{column}': no Spark type for pandas dtype {dtype}")


def object_spark_type(column: str, value: object) -> str:
    """The Spark SQL type of an object column, from one of its values."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    raise TypeError(f"column '{column}': no Spark type for values of type {type(value).__name__}")


def quote_spark(name: str) -> str:
    """A Spark identifier in backquotes."""
    return "`" + name.replace("`", "``") + "`"


def arrow_spark_type(field: pa.Field) -> str:
    """The Spark SQL type of one Arrow column (Python models may return an Arrow table)."""
    kind = field.type
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return SPARK_INTEGER_TYPES[kind.bit_width // 8]
    if pa.types.is_floating(kind):
        return "float" if kind.bit_width == 32 else "double"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_decimal(kind):
        return f"decimal({kind.precision},{kind.scale})"
    raise TypeError(f"column '{field.name}': no Spark type for Arrow type {kind}")


def spark_schema(frame: Frame) -> str:
    """The columns of a pandas frame or Arrow table as a Spark DDL schema: "`a` double, ..."."""
    if isinstance(frame, pa.Table):
        types = [(field.name, arrow_spark_type(field)) for field in frame.schema]
    else:
        types = [(str(name), spark_type(str(name), frame[name])) for name in frame.columns]
    return ", ".join(f"{quote_spark(name)} {kind}" for name, kind in types)


def release_dbt_duckdb() -> None:
    """Let go of the database that dbt-duckdb keeps open in this process after a dbt command.

    DuckDB refuses a second connection to a file with another configuration in the same
    process; dbt-duckdb's connection manager holds its own until it is dropped here.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


class DuckDBTables:
    """The tables of a DuckDB database file, through a connection opened per call.

    No connection stays open between calls: dbt-duckdb opens the same file in this process
    between the runner's steps.
    """

    def __init__(self, path: str, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the database file, once dbt-duckdb has let go of it."""
        release_dbt_duckdb()
        return duckdb.connect(self.path, read_only=self.read_only)

    def read(self, relation: str) -> pd.DataFrame:
        """The table or view ``relation`` as pandas, through DuckDB's ``.df()``."""
        with self.connect() as connection:
            return connection.sql(f"select * from {relation}").df()

    def write(self, relation: str, frame: Frame) -> None:
        """Replace the table ``relation`` as dbt-duckdb does: ``create table as`` from the frame."""
        with self.connect() as connection:
            connection.register("python_model_frame", frame)
            connection.execute(f"create or replace table {relation} as from python_model_frame")
            connection.unregister("python_model_frame")

    def create_schema(self, schema: str) -> None:
        """Create the schema unless it exists."""
        with self.connect() as connection:
            connection.execute(f'create schema if not exists "{schema}"')


class SparkTables:
    """The tables of a Spark session's catalog."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def read(self, relation: str) -> pd.DataFrame:
        """The table or view ``relation`` as pandas, by way of Arrow and DuckDB."""
        return arrow_to_pandas(self.session.table(relation).toArrow())

    def write(self, relation: str, frame: Frame) -> None:
        """Overwrite the table ``relation`` with ``frame``, typed by ``spark_schema``."""
        data = self.session.createDataFrame(frame, schema=spark_schema(frame))
        data.write.mode("overwrite").saveAsTable(relation)

    def create_schema(self, schema: str) -> None:
        """Create the schema unless it exists."""
        self.session.sql(f"create schema if not exists {quote_spark(schema)}")
