"""The build plan: waves of dbt steps and Python steps from a manifest (no dbt run)."""

from __future__ import annotations

from typing import Any

from crm_analytics.spark.plan import DbtStep, PythonStep, plan_build, python_levels, selector


def node(uid: str, parents: tuple[str, ...] = (), language: str = "sql") -> dict[str, Any]:
    resource_type = uid.split(".")[0]
    return {
        "unique_id": uid,
        "resource_type": resource_type,
        "name": uid.split(".")[-1],
        "language": language,
        "fqn": ["project", uid.split(".")[-1]],
        "depends_on": {"nodes": list(parents)},
    }


def manifest() -> dict[str, Any]:
    """seed -> a -> fit (python) -> b -> score (python) -> mart; tests on a, fit+b, mart."""
    nodes = [
        node("seed.p.seed"),
        node("model.p.a", ("seed.p.seed", "source.p.raw.lines")),
        node("model.p.fit", ("model.p.a",), "python"),
        node("model.p.b", ("model.p.fit", "model.p.a")),
        node("model.p.score", ("model.p.b", "model.p.fit"), "python"),
        node("model.p.mart", ("model.p.score",)),
        node("model.p.other", ("seed.p.seed",)),
        node("test.p.unique_a", ("model.p.a",)),
        node("test.p.relationship_fit_b", ("model.p.fit", "model.p.b")),
        node("test.p.not_null_mart", ("model.p.mart",)),
    ]
    unit = node("unit_test.p.b.b_works", ("model.p.b",))
    return {"nodes": {n["unique_id"]: n for n in nodes}, "unit_tests": {unit["unique_id"]: unit}}


def test_python_levels_count_python_ancestors() -> None:
    levels = python_levels({**manifest()["nodes"]})
    assert levels == {"model.p.fit": 0, "model.p.score": 1}


def test_the_plan_alternates_dbt_and_python_steps() -> None:
    steps = plan_build(manifest())
    assert steps == [
        DbtStep(0, ("model.p.a", "seed.p.seed", "test.p.unique_a")),
        PythonStep(0, ("model.p.fit",)),
        DbtStep(1, ("model.p.b", "test.p.relationship_fit_b", "unit_test.p.b.b_works")),
        PythonStep(1, ("model.p.score",)),
        DbtStep(2, ("model.p.mart", "model.p.other", "test.p.not_null_mart")),
    ]


def test_every_node_runs_exactly_once() -> None:
    data = manifest()
    planned = [uid for step in plan_build(data) for uid in step.unique_ids]
    assert sorted(planned) == sorted([*data["nodes"], *data["unit_tests"]])


def test_a_project_without_python_models_is_one_dbt_step() -> None:
    data = manifest()
    for item in data["nodes"].values():
        item["language"] = "sql"
    steps = plan_build(data)
    assert len(steps) == 1 and isinstance(steps[0], DbtStep)


def test_selector_is_the_fully_qualified_name() -> None:
    assert selector({"fqn": ["crm_analytics", "marts", "crm", "rfm"]}) == (
        "fqn:crm_analytics.marts.crm.rfm"
    )
