"""The dbt object the runner hands to a Python model, and running a model file (no dbt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from crm_analytics.spark.runner import BuildError, run_python_model
from crm_analytics.spark.shim import DbtShim


class MemoryTables:
    """Tables in a dict, keyed by relation name."""

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self.tables = tables

    def read(self, relation: str) -> pd.DataFrame:
        return self.tables[relation].copy()

    def write(self, relation: str, frame: pd.DataFrame) -> None:
        self.tables[relation] = frame

    def create_schema(self, schema: str) -> None:
        pass


def manifest(path: str = "models/fit.py") -> dict[str, Any]:
    inputs = {
        "unique_id": "model.p.inputs",
        "name": "inputs",
        "package_name": "p",
        "relation_name": '"db"."main"."inputs"',
    }
    fit = {
        "unique_id": "model.p.fit",
        "name": "fit",
        "package_name": "p",
        "original_file_path": path,
        "schema": "main",
        "relation_name": '"db"."main"."fit"',
        "config": {"materialized": "table", "penalizer": 0.001, "models": ["bgnbd"]},
        "depends_on": {"nodes": ["model.p.inputs", "source.p.raw.lines"]},
    }
    source = {
        "unique_id": "source.p.raw.lines",
        "source_name": "raw",
        "name": "lines",
        "relation_name": '"db"."raw"."lines"',
    }
    return {
        "nodes": {"model.p.inputs": inputs, "model.p.fit": fit},
        "sources": {"source.p.raw.lines": source},
    }


def shim(tables: MemoryTables) -> DbtShim:
    data = manifest()
    return DbtShim(data["nodes"]["model.p.fit"], data, tables)


def test_ref_reads_a_parent_as_pandas_either_way() -> None:
    frame = pd.DataFrame({"frequency": [1, 2]})
    dbt = shim(MemoryTables({'"db"."main"."inputs"': frame}))
    pd.testing.assert_frame_equal(dbt.ref("inputs").df(), frame)
    pd.testing.assert_frame_equal(dbt.ref("p", "inputs").toPandas(), frame)
    assert str(dbt.source("raw", "lines")) == '"db"."raw"."lines"'


def test_config_get_reads_the_manifest_and_config_calls_do_nothing() -> None:
    dbt = shim(MemoryTables({}))
    assert dbt.config(materialized="table") is None
    assert dbt.config.get("penalizer") == 0.001
    assert dbt.config.get("models") == ["bgnbd"]
    assert dbt.config.get("missing", "default") == "default"
    assert dbt.this == '"db"."main"."fit"' and dbt.is_incremental is False


def test_a_ref_outside_the_parents_is_refused() -> None:
    with pytest.raises(KeyError, match="ref\\('elsewhere'\\)"):
        shim(MemoryTables({})).ref("elsewhere")


def write_model(directory: Path, body: str) -> None:
    (directory / "models").mkdir()
    (directory / "models" / "fit.py").write_text(body, encoding="utf-8")


def test_a_model_runs_and_its_frame_becomes_its_table(tmp_path: Path) -> None:
    write_model(
        tmp_path,
        "def model(dbt, session):\n"
        "    dbt.config(materialized='table')\n"
        "    rows = dbt.ref('inputs').df()\n"
        "    return rows.assign(penalizer=dbt.config.get('penalizer'))\n",
    )
    tables = MemoryTables({'"db"."main"."inputs"': pd.DataFrame({"frequency": [1, 2]})})
    data = manifest()
    run_python_model(data["nodes"]["model.p.fit"], data, tables, str(tmp_path))
    assert tables.tables['"db"."main"."fit"']["penalizer"].tolist() == [0.001, 0.001]


def test_a_failing_model_is_named(tmp_path: Path) -> None:
    write_model(tmp_path, "def model(dbt, session):\n    raise ValueError('no fit for flo')\n")
    data = manifest()
    with pytest.raises(BuildError, match="Python model fit failed: ValueError: no fit for flo"):
        run_python_model(data["nodes"]["model.p.fit"], data, MemoryTables({}), str(tmp_path))
