"""scripts/check_docs.py on the real project (it must pass) and on doctored artifacts (it must fail
naming exactly what was taken out)."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, dbt_build

pytestmark = pytest.mark.dbt

SCRIPT = PROJECT_DIR / "scripts" / "check_docs.py"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The manifest `dbt parse` writes for the project as it is."""
    folder = tmp_path_factory.mktemp("docs_check")
    result = dbt_build(folder, command="parse")
    assert result.returncode == 0, result.output
    return json.loads((folder / "target" / "manifest.json").read_text(encoding="utf-8"))


def run_check(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--target-path", str(target)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def write_target(folder: Path, manifest: dict, catalog: dict | None = None) -> Path:
    target = folder / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if catalog is not None:
        (target / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    return target


def problem_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ")]


def test_the_project_is_documented_and_keyed(manifest: dict, tmp_path: Path) -> None:
    completed = run_check(write_target(tmp_path, manifest))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    summary = completed.stdout.strip()
    assert summary.startswith("check_docs: OK"), summary
    assert len(summary.splitlines()) == 1
    models = sum(
        node["resource_type"] == "model" and node["package_name"] == "crm_analytics"
        for node in manifest["nodes"].values()
    )
    assert f"{models} models with a primary-key test" in summary


def test_a_missing_column_description_and_primary_key_test_are_named(
    manifest: dict, tmp_path: Path
) -> None:
    doctored = copy.deepcopy(manifest)
    doctored["nodes"]["model.crm_analytics.rfm"]["columns"]["segment"]["description"] = ""
    key_tests = [
        unique_id
        for unique_id, node in doctored["nodes"].items()
        if node["resource_type"] == "test"
        and node.get("attached_node") == "model.crm_analytics.cltv_predictions"
        and (node.get("test_metadata") or {}).get("name") == "primary_key"
    ]
    assert len(key_tests) == 1
    del doctored["nodes"][key_tests[0]]

    completed = run_check(write_target(tmp_path, doctored))

    assert completed.returncode == 1, completed.stdout
    assert sorted(problem_lines(completed.stdout)) == [
        "models/marts/cltv/cltv_predictions.sql (documented in models/marts/cltv/_cltv__models.yml)"
        ": model cltv_predictions: no primary-key test (add `primary_key` with its column_names,"
        " or unique + not_null on one column)",
        "models/marts/crm/rfm.sql (documented in models/marts/crm/_crm__models.yml)"
        ": public model rfm: column 'segment' has no description",
    ]
    assert "2 problem(s)" in completed.stdout


def test_unique_and_not_null_on_one_column_count_as_a_primary_key(
    manifest: dict, tmp_path: Path
) -> None:
    doctored = copy.deepcopy(manifest)
    nodes = doctored["nodes"]
    key_test_id = next(
        unique_id
        for unique_id, node in nodes.items()
        if node["resource_type"] == "test"
        and node.get("attached_node") == "model.crm_analytics.datasets"
        and (node.get("test_metadata") or {}).get("name") == "primary_key"
    )
    key_test = nodes.pop(key_test_id)
    for name in ("unique", "not_null"):
        replacement = copy.deepcopy(key_test)
        replacement["unique_id"] = f"test.crm_analytics.{name}_datasets_dataset.x"
        replacement["test_metadata"] = {"name": name, "kwargs": {"column_name": "dataset"}}
        replacement["column_name"] = "dataset"
        nodes[replacement["unique_id"]] = replacement
    assert run_check(write_target(tmp_path / "both", doctored)).returncode == 0

    del nodes["test.crm_analytics.not_null_datasets_dataset.x"]
    completed = run_check(write_target(tmp_path / "unique_only", doctored))
    assert completed.returncode == 1
    assert len(problem_lines(completed.stdout)) == 1
    assert "model datasets: no primary-key test" in completed.stdout


def test_macros_exposures_overview_and_catalog_columns_are_checked(
    manifest: dict, tmp_path: Path
) -> None:
    doctored = copy.deepcopy(manifest)
    doctored["macros"]["macro.crm_analytics.crm_qcut_bin"]["description"] = " "
    doctored["macros"]["macro.crm_analytics.test_finite"]["arguments"] = [
        argument
        for argument in doctored["macros"]["macro.crm_analytics.test_finite"]["arguments"]
        if argument["name"] != "column_name"
    ]
    doctored["exposures"]["exposure.crm_analytics.bi_dashboard"]["description"] = ""
    overview = doctored["docs"]["doc.crm_analytics.__overview__"]
    overview["block_contents"] = overview["block_contents"].replace("cltv_profit_margin", "margin")
    # a catalog from the same run: the uncontracted mart `datasets` gained a column and lost one
    datasets = doctored["nodes"]["model.crm_analytics.datasets"]
    columns = [name for name in datasets["columns"] if name != "customers"] + ["surprise"]
    catalog = {
        "metadata": {"invocation_id": doctored["metadata"]["invocation_id"]},
        "nodes": {
            "model.crm_analytics.datasets": {
                "columns": {
                    name.upper(): {"name": name.upper(), "type": "VARCHAR", "index": index}
                    for index, name in enumerate(columns, start=1)
                }
            }
        },
        "sources": {},
    }

    completed = run_check(write_target(tmp_path, doctored, catalog))

    assert completed.returncode == 1, completed.stdout
    problems = problem_lines(completed.stdout)
    expected = [
        "macros/scoring/qcut.sql (documented in macros/_macros.yml): macro crm_qcut_bin:"
        " no description",
        "tests/dbt/generic/test_finite.sql (documented in macros/_macros.yml): macro test_finite:"
        " argument 'column_name' is not documented",
        "models/exposures.yml: exposure bi_dashboard: no description",
        "models/overview.md: __overview__: var 'cltv_profit_margin' of dbt_project.yml is not"
        " explained",
        "models/marts/core/datasets.sql (documented in models/marts/core/_core__models.yml):"
        " public model datasets: column 'surprise' is not documented",
        "models/marts/core/datasets.sql (documented in models/marts/core/_core__models.yml):"
        " public model datasets: documented column 'customers' does not exist",
    ]
    assert sorted(problems) == sorted(expected)


def test_a_catalog_of_another_run_is_ignored(manifest: dict, tmp_path: Path) -> None:
    catalog = {"metadata": {"invocation_id": "another-run"}, "nodes": {}, "sources": {}}
    completed = run_check(write_target(tmp_path, manifest, catalog))
    assert completed.returncode == 0, completed.stdout
    assert "catalog.json ignored" in completed.stdout


def test_macro_parameters_are_read_from_the_signature() -> None:
    spec = importlib.util.spec_from_file_location("check_docs", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    assert module.macro_parameters(
        "{% test accepted_range(model, column_name, min_value=none, max_value=none) %}"
    ) == ["model", "column_name", "min_value", "max_value"]
    assert module.macro_parameters("{% macro crm_transactions_spec() %}") == []
    assert module.macro_parameters("{%- macro duckdb__type_float() -%}") == []
    names = module.project_vars(PROJECT_DIR)
    assert {"transactions_path", "analysis_date", "max_unparseable_share"} <= set(names)
