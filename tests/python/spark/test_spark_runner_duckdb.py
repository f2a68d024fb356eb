"""The runner on DuckDB: building the sample in waves (dbt for SQL, the runner for the Python
models) gives the same tables as one `dbt build`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, DbtResult, dbt_build

from crm_analytics.spark.compare import compare_frames, format_report, primary_key, public_marts
from crm_analytics.spark.plan import is_python_model
from crm_analytics.spark.tables import DuckDBTables

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    result = dbt_build(tmp_path_factory.mktemp("dbt_build"))
    assert result.returncode == 0, result.output[-3000:]
    return result


@pytest.fixture(scope="module")
def runner_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("runner_build")
    env = {
        **os.environ,
        "CRM_DUCKDB_PATH": str(work / "crm.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [sys.executable, "-m", "crm_analytics.spark", "build", "--engine", "duckdb"]
    completed = subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert "[wave 2] python int_lifetime_profiles_scored" in output
    return work


def test_python_models_and_marts_equal_a_dbt_build(reference: DbtResult, runner_build: Path):
    manifest = json.loads((runner_build / "target" / "manifest.json").read_text())
    expected = DuckDBTables(str(reference.database), read_only=True)
    actual = DuckDBTables(str(runner_build / "crm.duckdb"), read_only=True)
    nodes = [node for node in manifest["nodes"].values() if is_python_model(node)]
    assert len(nodes) >= 8
    results = [
        compare_frames(
            node["name"],
            expected.read(f'"main"."{node["name"]}"'),
            actual.read(f'"main"."{node["name"]}"'),
            primary_key(node, manifest),
            rtol=1e-12,
            labels=("dbt", "runner"),
        )
        for node in [*nodes, *public_marts(manifest)]
    ]
    report = format_report(results, labels=("dbt", "runner"))
    print(report)
    assert all(result.equal for result in results), report
