"""The DAG runs one way (staging -> intermediate -> marts), production CLV does not depend on
the backtest unless `transaction_model: auto` asks for it, and the docs check catches a
backward edge, a mart that is not public or not contracted, and a README that misses a var or a
public model."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, dbt_build

pytestmark = pytest.mark.dbt

SCRIPT = PROJECT_DIR / "scripts" / "check_docs.py"
PROJECT = "crm_analytics"


def parse(folder: Path, vars: dict[str, object] | None = None) -> dict:
    result = dbt_build(folder, vars=vars, command="parse")
    assert result.returncode == 0, result.output
    return json.loads((folder / "target" / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return parse(tmp_path_factory.mktemp("lineage_default"))


def model_id(name: str) -> str:
    return f"model.{PROJECT}.{name}"


def ancestors(manifest: dict, unique_id: str) -> set[str]:
    """Every node upstream of `unique_id`, by the manifest's depends_on edges."""
    seen: set[str] = set()
    stack = [unique_id]
    while stack:
        node = manifest["nodes"].get(stack.pop())
        for parent in (node or {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def layer(node: dict) -> str:
    return node["original_file_path"].split("/")[1]


def run_check(manifest: dict, folder: Path) -> subprocess.CompletedProcess[str]:
    target = folder / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--target-path", str(target)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_model_reads_a_later_layer(manifest: dict) -> None:
    order = ["staging", "intermediate", "marts"]
    models = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PROJECT
    }
    assert {layer(node) for node in models.values()} == set(order)
    backward = [
        (parent, child)
        for child, node in models.items()
        for parent in node["depends_on"]["nodes"]
        if parent in models and order.index(layer(models[parent])) > order.index(layer(node))
    ]
    assert backward == []
    # and in particular no mart feeds a model that is not a mart
    for child, node in models.items():
        for parent in node["depends_on"]["nodes"]:
            if parent in models and layer(models[parent]) == "marts":
                assert layer(node) == "marts", (parent, child)


def test_python_models_live_in_their_layer_folders(manifest: dict) -> None:
    python_models = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["language"] == "python"
    ]
    # every Python file under python_models/ is a model of the manifest, and no other
    files = sorted(
        str(path.relative_to(PROJECT_DIR)) for path in (PROJECT_DIR / "python_models").rglob("*.py")
    )
    assert sorted(node["original_file_path"] for node in python_models) == files
    for node in python_models:
        path = node["original_file_path"]
        assert path.startswith(("python_models/staging/", "python_models/intermediate/")), path
        if path.startswith("python_models/intermediate/"):
            assert node["name"].startswith("int_"), path


def test_production_clv_runs_no_backtest_by_default(manifest: dict) -> None:
    for mart in ("cltv_predictions", "cltv_model_parameters"):
        upstream = ancestors(manifest, model_id(mart))
        assert model_id("int_transaction_models_chosen") in upstream
        validation = sorted(node for node in upstream if "validation" in node)
        assert validation == [], (mart, validation)


def test_auto_model_choice_reads_the_backtest(tmp_path: Path) -> None:
    auto = parse(tmp_path, vars={"transaction_model": "auto"})
    upstream = ancestors(auto, model_id("cltv_predictions"))
    assert model_id("int_validation_models_compared") in upstream
    assert model_id("int_validation_models_fitted") in upstream
    # the choice is made in one model: nothing else downstream of the comparison feeds the fits
    fits = auto["nodes"][model_id("int_btyd_models_fitted")]["depends_on"]["nodes"]
    assert model_id("int_validation_models_compared") not in fits
    assert model_id("int_transaction_models_chosen") in fits


def test_an_unknown_transaction_model_is_refused_naming_the_var(tmp_path: Path) -> None:
    result = dbt_build(
        tmp_path,
        vars={"transaction_model": "pareto"},
        select="int_transaction_models_chosen",
        command="compile",
    )
    assert result.returncode != 0
    assert (
        "var transaction_model='pareto' (text) is not allowed: expected one of bgnbd, "
        "pareto_nbd, mbgnbd, auto." in result.output
    ), result.output


def test_the_docs_check_catches_a_backward_edge(manifest: dict, tmp_path: Path) -> None:
    doctored = copy.deepcopy(manifest)
    node = doctored["nodes"][model_id("int_lifetime_profiles_counted")]
    node["depends_on"]["nodes"].append(model_id("customer_lifetime"))
    completed = run_check(doctored, tmp_path)
    assert completed.returncode == 1
    assert (
        "model int_lifetime_profiles_counted (intermediate) reads customer_lifetime (marts)"
        in completed.stdout
    )


def test_the_docs_check_catches_an_unpublished_or_uncontracted_mart(
    manifest: dict, tmp_path: Path
) -> None:
    doctored = copy.deepcopy(manifest)
    doctored["nodes"][model_id("rfm")]["access"] = "protected"
    doctored["nodes"][model_id("orders")]["config"]["contract"]["enforced"] = False
    doctored["nodes"][model_id("int_orders_aggregated")]["access"] = "public"
    completed = run_check(doctored, tmp_path)
    assert completed.returncode == 1
    assert "model rfm: access 'protected' but it is a mart" in completed.stdout
    assert "public model orders: no enforced contract" in completed.stdout
    assert "model int_orders_aggregated: access 'public' but it is not under" in completed.stdout


def test_the_docs_check_reads_the_readme(manifest: dict, tmp_path: Path) -> None:
    """A copy of the project whose README lost a var and a public model fails the check."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text(
        (PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert "`holdout_days`" in readme and "`cltv_validation_tracking`" in readme
    (project / "README.md").write_text(
        readme.replace("`holdout_days`", "holdout days").replace(
            "`cltv_validation_tracking`", "the tracking table"
        ),
        encoding="utf-8",
    )
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--target-path", str(target), "--project-dir", str(project)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    problems = [line.strip() for line in completed.stdout.splitlines() if line.startswith("  ")]
    assert problems == [
        "README.md: var 'holdout_days' of dbt_project.yml is not described",
        "README.md: public model 'cltv_validation_tracking' is not described",
    ]
