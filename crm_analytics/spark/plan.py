"""The order of a build in which dbt runs the SQL and this package runs the Python models.

dbt-spark runs Python models only on Databricks. On plain Spark the build goes in waves: dbt
builds the SQL nodes (and their tests) that the next Python models need, the runner fits those
Python models and writes their tables, and so on; a last dbt step builds everything downstream.
The plan is a pure function of dbt's manifest (``target/manifest.json`` as a dict).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BUILT_TYPES = frozenset({"model", "seed", "snapshot"})
TEST_TYPES = frozenset({"test", "unit_test"})

Manifest = Mapping[str, Any]


@dataclass(frozen=True)
class DbtStep:
    """One `dbt build` of exactly these nodes (unique ids), tests included by name."""

    wave: int
    unique_ids: tuple[str, ...]


@dataclass(frozen=True)
class PythonStep:
    """The Python models (unique ids) that the runner fits itself, none depending on another."""

    wave: int
    unique_ids: tuple[str, ...]


Step = DbtStep | PythonStep


def executable_nodes(manifest: Manifest) -> dict[str, Mapping[str, Any]]:
    """The nodes `dbt build` runs (models, seeds, snapshots, data and unit tests), by unique id."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in BUILT_TYPES | TEST_TYPES
    }
    nodes.update(manifest.get("unit_tests", {}))
    return nodes


def is_python_model(node: Mapping[str, Any]) -> bool:
    """Whether the node is a dbt Python model."""
    return node["resource_type"] == "model" and node.get("language") == "python"


def parents(node: Mapping[str, Any], nodes: Mapping[str, Any]) -> set[str]:
    """The node's direct parents among ``nodes`` (sources and macros are not built)."""
    return {uid for uid in node.get("depends_on", {}).get("nodes", []) if uid in nodes}


def ancestors(uids: Iterable[str], nodes: Mapping[str, Any]) -> set[str]:
    """Every node upstream of ``uids`` (not including them)."""
    seen: set[str] = set()
    stack = [parent for uid in uids for parent in parents(nodes[uid], nodes)]
    while stack:
        uid = stack.pop()
        if uid not in seen:
            seen.add(uid)
            stack.extend(parents(nodes[uid], nodes))
    return seen


def python_levels(nodes: Mapping[str, Any]) -> dict[str, int]:
    """Each Python model's level: 0 without Python ancestors, else 1 + its highest one's."""
    python = {uid for uid, node in nodes.items() if is_python_model(node)}
    levels: dict[str, int] = {}

    def level(uid: str) -> int:
        if uid not in levels:
            upstream = ancestors([uid], nodes) & python
            levels[uid] = 1 + max((level(other) for other in upstream), default=-1)
        return levels[uid]

    for uid in python:
        level(uid)
    return levels


def plan_build(manifest: Manifest) -> list[Step]:
    """The build as alternating dbt and Python steps.

    For each level of Python models: a dbt step with the SQL nodes upstream of them not built
    yet, plus every test whose parents are then all built (a unit test goes with its model);
    then a Python step with those models. A last dbt step holds everything left. Each node
    appears in exactly one step.
    """
    nodes = executable_nodes(manifest)
    levels = python_levels(nodes)
    done: set[str] = set()
    steps: list[Step] = []

    def dbt_step(wave: int, built: set[str]) -> None:
        tests = {
            uid
            for uid, node in nodes.items()
            if node["resource_type"] in TEST_TYPES
            and uid not in done
            and parents(node, nodes) <= done | built
        }
        selected = built | tests
        if selected:
            steps.append(DbtStep(wave, tuple(sorted(selected))))
            done.update(selected)

    waves = 1 + max(levels.values(), default=-1)
    for wave in range(waves):
        models = sorted(uid for uid, value in levels.items() if value == wave)
        upstream = {
            uid
            for uid in ancestors(models, nodes)
            if uid not in done and not is_python_model(nodes[uid])
        }
        dbt_step(wave, upstream)
        steps.append(PythonStep(wave, tuple(models)))
        done.update(models)
    rest = {
        uid
        for uid, node in nodes.items()
        if uid not in done and node["resource_type"] in BUILT_TYPES
    }
    dbt_step(waves, rest)
    return steps


def selector(node: Mapping[str, Any]) -> str:
    """A dbt node selector that picks this node: its fully qualified name."""
    return "fqn:" + ".".join(node["fqn"])
