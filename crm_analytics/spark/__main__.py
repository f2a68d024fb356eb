"""Command line: build the project with its Python models on Spark (or DuckDB), compare marts.

    python -m crm_analytics.spark build [--engine spark|duckdb] [--vars YAML] [--ansi|--no-ansi]
    python -m crm_analytics.spark compare --duckdb target/test.duckdb [--vars YAML]
    python -m crm_analytics.spark check --duckdb target/test.duckdb [--vars YAML] [--ansi|--no-ansi]

``build`` runs every SQL node and test with dbt and every Python model with this package
(``runner.build``); ``compare`` compares the public marts of the Spark build with those of a
DuckDB database file built from the same inputs and vars; ``check`` does both in one process (one
JVM start) and is what ``make test-spark`` runs. Both exit 1 on a failure or a difference.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crm_analytics.spark.compare import compare_marts, format_report
from crm_analytics.spark.runner import BuildError, build, dbt_arguments, invoke_dbt, read_manifest
from crm_analytics.spark.tables import DuckDBTables, SparkTables, Tables

DEFAULT_TARGETS = {"spark": "spark", "duckdb": "dev"}


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, as documented in the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m crm_analytics.spark", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "compare", "check"):
        command = commands.add_parser(name)
        command.add_argument("--project-dir", default=".", help="the dbt project (default .)")
        command.add_argument("--vars", default=None, help="dbt --vars, as YAML")
        command.add_argument("--target", default=None, help="profile target (default: engine's)")
        command.add_argument(
            "--ansi",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Spark ANSI mode (default: CRM_SPARK_ANSI, else on)",
        )
        if name == "build":
            command.add_argument("--engine", choices=sorted(DEFAULT_TARGETS), default="spark")
            command.add_argument(
                "--duckdb-path",
                default=os.environ.get("CRM_DUCKDB_PATH", "crm.duckdb"),
                help="the DuckDB target's file (engine duckdb; default CRM_DUCKDB_PATH)",
            )
        else:
            command.add_argument("--duckdb", required=True, help="DuckDB file of the reference")
            command.add_argument("--duckdb-schema", default="main")
    return parser.parse_args(argv)


def start_spark(ansi: bool | None) -> Any:
    """The project's local Spark session (crm_analytics.spark.session), created first so that
    dbt-spark's ``method: session`` builds into it."""
    from crm_analytics.spark.session import spark_session

    started = time.perf_counter()
    session = spark_session(ansi=ansi)
    print(f"[spark] session {session.version} up in {time.perf_counter() - started:.1f} s")
    print(f"[spark] spark.sql.ansi.enabled={session.conf.get('spark.sql.ansi.enabled')}")
    return session


def compare_with_duckdb(
    manifest: Mapping[str, Any], spark: Tables, duckdb_path: str, duckdb_schema: str
) -> bool:
    """Compare the public marts of the Spark build with the DuckDB file's; print the report."""
    reference = DuckDBTables(duckdb_path, read_only=True)

    def read_reference(node: Mapping[str, Any]) -> pd.DataFrame:
        name = node.get("alias") or node["name"]
        return reference.read(f'"{duckdb_schema}"."{name}"')

    def read_spark(node: Mapping[str, Any]) -> pd.DataFrame:
        return spark.read(node["relation_name"])

    started = time.perf_counter()
    results = compare_marts(manifest, read_reference, read_spark)
    print(format_report(results))
    print(f"[compare] {time.perf_counter() - started:.1f} s")
    return all(result.equal for result in results)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 when it succeeded (and, comparing, every mart was equal)."""
    arguments = parse_arguments(argv)
    project_dir = arguments.project_dir
    engine = getattr(arguments, "engine", "spark")
    target = arguments.target or DEFAULT_TARGETS[engine]
    try:
        if engine == "duckdb":
            tables: Tables = DuckDBTables(os.path.join(project_dir, arguments.duckdb_path))
            session = None
        else:
            session = start_spark(arguments.ansi)
            tables = SparkTables(session)
        if arguments.command in ("build", "check"):
            manifest = build(project_dir, tables, target, arguments.vars, session)
        else:
            invoke_dbt(dbt_arguments("parse", project_dir, target, arguments.vars))
            manifest = read_manifest(project_dir)
    except BuildError as error:
        print(f"[runner] FAILED: {error}", file=sys.stderr)
        return 1
    if arguments.command == "build":
        return 0
    return (
        0 if compare_with_duckdb(manifest, tables, arguments.duckdb, arguments.duckdb_schema) else 1
    )


if __name__ == "__main__":
    raise SystemExit(main())
