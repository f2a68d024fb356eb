"""The local Spark session every Spark build uses (dbt-spark `method: session`).

dbt-spark's session method calls `SparkSession.builder.getOrCreate()`, so whatever session exists
in the process when dbt starts is the one it builds into. `spark_session` creates that session
with the project's settings; `crm_analytics.spark.build` calls it and then runs dbt in the same
process. Settings, each from an environment variable:

  CRM_SPARK_MASTER     Spark master (default local[2])
  CRM_SPARK_DIR        warehouse and Derby metastore directory (default target/spark)
  CRM_SPARK_ANSI       spark.sql.ansi.enabled, true or false (default true, Spark 4's default and
                       Databricks SQL's: the project must build either way)
  CRM_SPARK_SHUFFLE_PARTITIONS  spark.sql.shuffle.partitions (default 4: the sample is small)
  CRM_SPARK_DRIVER_MEMORY       spark.driver.memory (default: half the machine's memory, at
                                least 1g and at most 8g; see `default_driver_memory`)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


# the settings a running session takes again (the others are fixed when the JVM starts)
SQL_SETTINGS = (
    "spark.sql.ansi.enabled",
    "spark.sql.shuffle.partitions",
    "spark.sql.session.timeZone",
)


def _flag(value: str) -> str:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return "true"
    if lowered in {"0", "false", "no", "off"}:
        return "false"
    raise ValueError(f"CRM_SPARK_ANSI={value!r}: expected true or false")


def default_driver_memory(physical_bytes: int | None = None) -> str:
    """The default ``spark.driver.memory``: half of ``physical_bytes`` (the machine's memory),
    at least 1 GiB and at most 8 GiB, in whole GiB (e.g. ``'8g'``).

    In local mode the driver JVM is also the executor, so its heap holds every sort, window and
    broadcast of the build. Spark's own default (1g) and the 2g used before were too small for
    the full Online Retail II file: `int_invoice_lines_classified` stopped with
    ``notEnoughMemoryToBuildAndBroadcastTable``; 8g built it. The heap is a ceiling, not an
    allocation, so a large default costs nothing on small inputs.
    """
    if physical_bytes is None:
        try:
            physical_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, OSError, ValueError):  # not POSIX: Spark's minimum that works
            return "2g"
    gib = physical_bytes // 2**30
    return f"{min(8, max(1, gib // 2))}g"


def spark_settings(
    directory: str | os.PathLike[str] | None = None,
    ansi: bool | None = None,
    master: str | None = None,
) -> dict[str, str]:
    """The Spark configuration of a project build, arguments first, then environment variables."""
    base = Path(directory or os.environ.get("CRM_SPARK_DIR", "target/spark")).resolve()
    metastore = f"jdbc:derby:;databaseName={base / 'metastore_db'};create=true"
    ansi_value = (
        _flag(os.environ.get("CRM_SPARK_ANSI", "true"))
        if ansi is None
        else ("true" if ansi else "false")
    )
    return {
        "spark.master": master or os.environ.get("CRM_SPARK_MASTER", "local[2]"),
        "spark.app.name": "crm_analytics",
        "spark.sql.warehouse.dir": str(base / "warehouse"),
        # an embedded Derby metastore beside the warehouse: tables survive between builds, as a
        # DuckDB file does; a cluster uses its own metastore (profiles.yml, thrift settings)
        "javax.jdo.option.ConnectionURL": metastore,
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore,
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={base}",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.ansi.enabled": ansi_value,
        "spark.sql.shuffle.partitions": os.environ.get("CRM_SPARK_SHUFFLE_PARTITIONS", "4"),
        # one rule on every machine, as the DuckDB build: the JVM's zone never counts
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": os.environ.get("CRM_SPARK_DRIVER_MEMORY") or default_driver_memory(),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.legacy.createHiveTableByDefault": "false",
    }


def spark_session(
    directory: str | os.PathLike[str] | None = None,
    ansi: bool | None = None,
    master: str | None = None,
) -> SparkSession:
    """Creates (or returns the running) local Spark session with the project's settings.

    A session that is already running keeps its static settings (master, warehouse, metastore);
    the SQL settings (ANSI mode, shuffle partitions, time zone) are set on it again.
    """
    from pyspark.sql import SparkSession

    settings = spark_settings(directory, ansi, master)
    Path(settings["spark.sql.warehouse.dir"]).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    for key in SQL_SETTINGS:
        session.conf.set(key, settings[key])
    return session
