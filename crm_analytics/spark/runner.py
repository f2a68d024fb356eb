"""Build the project with dbt for the SQL and this package for the Python models.

dbt-spark runs dbt Python models only on Databricks. ``build`` runs the whole project on any
target instead: it parses the project, plans the waves (``plan.plan_build``), has dbt build each
wave's SQL nodes and tests through its Python API (``dbtRunner``, in this process: dbt-spark's
``method: session`` then reuses this process's SparkSession) and runs each wave's Python models
itself, writing their frames back as tables with the model's name.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from crm_analytics.spark.plan import DbtStep, PythonStep, plan_build, selector
from crm_analytics.spark.shim import DbtShim
from crm_analytics.spark.tables import Frame, Tables

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


class BuildError(RuntimeError):
    """A step of the build failed; the message names the step, or the Python model."""


def dbt_arguments(
    command: str,
    project_dir: str,
    target: str | None = None,
    dbt_vars: str | None = None,
) -> list[str]:
    """Arguments for a dbt command on this project (profiles.yml lives beside it)."""
    arguments = [command, "--project-dir", project_dir, "--profiles-dir", project_dir]
    if target:
        arguments += ["--target", target]
    if dbt_vars:
        arguments += ["--vars", dbt_vars]
    return arguments


def invoke_dbt(arguments: Sequence[str]) -> Any:
    """Run one dbt command in this process; raise ``BuildError`` unless it succeeds."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(list(arguments))
    if not result.success:
        raise BuildError(f"dbt {arguments[0]} failed: {failure_summary(result)}")
    return result


def failure_summary(result: Any) -> str:
    """The nodes that errored or failed in a dbt result, or its exception."""
    if result.exception is not None:
        return str(result.exception)
    failed = [
        f"{outcome.node.name} ({outcome.status})"
        for outcome in getattr(result.result, "results", [])
        if str(outcome.status) in FAILED_STATUSES
    ]
    return ", ".join(failed) or "see dbt's log above"


def read_manifest(project_dir: str) -> dict[str, Any]:
    """The manifest that the last dbt command wrote to the project's target directory."""
    target_path = Path(project_dir, os.environ.get("DBT_TARGET_PATH", "target"))
    return json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))


def load_model_function(path: Path) -> Callable[..., Any]:
    """The ``model(dbt, session)`` function of a dbt Python model file."""
    spec = importlib.util.spec_from_file_location(f"dbt_python_model_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot import the Python model {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


def as_frame(result: Any, name: str) -> Frame:
    """A Python model's result: pandas or Arrow as returned, a Spark DataFrame as pandas."""
    if isinstance(result, pd.DataFrame | pa.Table):
        return result
    if hasattr(result, "toPandas"):
        return result.toPandas()
    raise BuildError(f"Python model {name} returned {type(result).__name__}, not a DataFrame")


def run_python_model(
    node: Mapping[str, Any],
    manifest: Mapping[str, Any],
    tables: Tables,
    project_dir: str,
    session: Any = None,
) -> Frame:
    """Run one Python model as dbt would and write its table; return its result."""
    name = node["name"]
    model = load_model_function(Path(project_dir, node["original_file_path"]))
    try:
        frame = as_frame(model(DbtShim(node, manifest, tables), session), name)
    except BuildError:
        raise
    except Exception as error:
        raise BuildError(f"Python model {name} failed: {type(error).__name__}: {error}") from error
    tables.create_schema(node["schema"])
    tables.write(node["relation_name"], frame)
    return frame


def build(
    project_dir: str,
    tables: Tables,
    target: str | None = None,
    dbt_vars: str | None = None,
    session: Any = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build the whole project: dbt for SQL nodes and tests, this process for Python models.

    ``tables`` reads and writes the target's tables (``DuckDBTables`` or ``SparkTables``);
    ``session`` is passed to the Python models as their second argument. Returns the manifest.
    Raises ``BuildError`` at the first failing dbt step or Python model.
    """
    started = time.perf_counter()
    invoke_dbt(dbt_arguments("parse", project_dir, target, dbt_vars))
    manifest = read_manifest(project_dir)
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    steps = plan_build(manifest)
    log(f"[runner] {len(steps)} steps, parsed in {time.perf_counter() - started:.1f} s")
    for step in steps:
        step_started = time.perf_counter()
        if isinstance(step, DbtStep):
            log(f"[wave {step.wave}] dbt build: {len(step.unique_ids)} nodes and tests")
            selectors = [selector(nodes[uid]) for uid in step.unique_ids]
            arguments = dbt_arguments("build", project_dir, target, dbt_vars)
            try:
                invoke_dbt([*arguments, "--indirect-selection", "empty", "--select", *selectors])
            except BuildError as error:
                raise BuildError(f"wave {step.wave}: {error}") from error
            log(f"[wave {step.wave}] dbt build done in {time.perf_counter() - step_started:.1f} s")
        elif isinstance(step, PythonStep):
            for uid in step.unique_ids:
                model_started = time.perf_counter()
                node = manifest["nodes"][uid]
                frame = run_python_model(node, manifest, tables, project_dir, session)
                log(
                    f"[wave {step.wave}] python {node['name']}: {frame.shape[0]} rows in "
                    f"{time.perf_counter() - model_started:.1f} s"
                )
    log(f"[runner] build finished in {time.perf_counter() - started:.1f} s")
    return manifest
