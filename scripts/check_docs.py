"""Check that the dbt project is documented and keyed, from dbt's own artifacts.

Reads `<target>/manifest.json` (run `dbt parse` or `dbt docs generate` first) and, when it comes
from the same dbt invocation, `<target>/catalog.json` (written by `dbt docs generate`). Fails
(exit 1), listing every problem with the file of the node and what is missing, when:

- a model, seed, snapshot, source, macro (generic tests' macros included) or exposure of this
  project has no description, or a macro argument has none;
- a column of a public model (dbt `access: public`, which dbt_project.yml gives every model
  under models/marts/ and no other) has no description, or the public model's documented
  columns differ from its actual columns (from catalog.json when present; a contracted model's
  documented columns are its columns, dbt enforces that at build time); a public model has no
  enforced contract, or a model's access does not match its folder;
- the lineage runs backwards: a model depends on a model of a later layer (staging, then
  intermediate, then marts), so in particular no mart feeds a non-mart model;
- a model has no primary-key test: the generic test `primary_key` (or `primary_key_line_numbers`
  for line-level data), or `unique` and `not_null` on the same column; a view over line-level
  data may instead name, in `meta: {primary_key_tested_on: <model>}`, the keyed model upstream
  or downstream of it whose key test covers its rows (a key test over 100 million lines costs
  a full scan: the key is tested once, on the one materialised line table);
- an exposure has no owner or no upstream model;
- the docs landing page (`{% docs __overview__ %}`) is missing or does not name a var of
  dbt_project.yml;
- README.md does not name a var of dbt_project.yml or a public model (in backticks).

Otherwise prints a one-line summary and exits 0. Standard library only.

    python scripts/check_docs.py [--target-path target] [--project-dir .]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PUBLIC_ACCESS = "public"
PUBLIC_MODEL_DIR = "models/marts/"
# The layers in lineage order; a model's layer is the first folder under models/ or
# python_models/ (dbt Python models live in python_models/<layer>/...).
LAYERS = ("staging", "intermediate", "marts")
PRIMARY_KEY_TESTS = {"primary_key", "primary_key_line_numbers"}
SIGNATURE = re.compile(r"{%-?\s*(?:macro|test)\s+\w+\s*\((.*?)\)\s*-?%}", re.DOTALL)
VAR_LINE = re.compile(r"^  ([A-Za-z_][A-Za-z0-9_]*)\s*:")


@dataclass
class Report:
    """Problems found, keyed by the file they are about, and counts for the summary."""

    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notes: list[str] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.problems[path].append(message)

    @property
    def problem_count(self) -> int:
        return sum(len(messages) for messages in self.problems.values())


def is_blank(text: str | None) -> bool:
    return not (text or "").strip()


def yaml_file(node: dict) -> str:
    """The YAML file that documents a node ('' when none does)."""
    patch_path = node.get("patch_path") or ""
    return patch_path.split("://", 1)[-1]


def where(node: dict) -> str:
    """The node's file, and the YAML that documents it when that is another file."""
    path = node.get("original_file_path") or node.get("path") or node["unique_id"]
    documented_in = yaml_file(node)
    if documented_in and documented_in != path:
        return f"{path} (documented in {documented_in})"
    return path


def macro_parameters(macro_sql: str) -> list[str]:
    """Parameter names of a macro or generic test, from its `{% macro name(...) %}` line."""
    match = SIGNATURE.search(macro_sql)
    if not match or not match.group(1).strip():
        return []
    names = []
    for parameter in match.group(1).split(","):
        name = parameter.split("=", 1)[0].strip()
        if name and not name.startswith("*"):
            names.append(name)
    return names


def project_vars(project_dir: Path) -> list[str]:
    """Names of the vars in dbt_project.yml (the two-space-indented keys of `vars:`)."""
    project_file = project_dir / "dbt_project.yml"
    if not project_file.is_file():
        return []
    names, inside = [], False
    for line in project_file.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\S", line):
            inside = line.split("#", 1)[0].strip() == "vars:"
            continue
        match = VAR_LINE.match(line) if inside else None
        if match:
            names.append(match.group(1))
    return names


def load_catalog(target: Path, manifest: dict, report: Report) -> dict:
    """catalog.json's nodes when it belongs to the same dbt invocation as the manifest."""
    catalog_file = target / "catalog.json"
    if not catalog_file.is_file():
        report.notes.append("no catalog.json: columns of uncontracted models not compared")
        return {}
    catalog = json.loads(catalog_file.read_text(encoding="utf-8"))
    same_run = catalog.get("metadata", {}).get("invocation_id") == manifest["metadata"].get(
        "invocation_id"
    )
    if not same_run:
        report.notes.append("catalog.json ignored: written by another dbt run than manifest.json")
        return {}
    return catalog.get("nodes", {})


def check_descriptions(manifest: dict, project: str, report: Report) -> None:
    groups = [
        ("nodes", {"model", "seed", "snapshot"}),
        ("sources", {"source"}),
        ("exposures", {"exposure"}),
    ]
    for key, resource_types in groups:
        for node in manifest.get(key, {}).values():
            if node.get("package_name") != project:
                continue
            if node["resource_type"] not in resource_types:
                continue
            report.counts[node["resource_type"]] += 1
            if is_blank(node.get("description")):
                report.add(where(node), f"{node['resource_type']} {node['name']}: no description")
    for macro in manifest.get("macros", {}).values():
        if macro.get("package_name") != project:
            continue
        report.counts["macro"] += 1
        label = f"macro {macro['name']}"
        if is_blank(macro.get("description")):
            report.add(where(macro), f"{label}: no description")
            continue
        documented = {argument["name"]: argument for argument in macro.get("arguments", [])}
        for name in macro_parameters(macro.get("macro_sql", "")):
            if name not in documented:
                report.add(where(macro), f"{label}: argument '{name}' is not documented")
            elif is_blank(documented[name].get("description")):
                report.add(where(macro), f"{label}: argument '{name}' has no description")


def check_public_columns(manifest: dict, project: str, catalog: dict, report: Report) -> None:
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("package_name") != project:
            continue
        in_marts = node["original_file_path"].startswith(PUBLIC_MODEL_DIR)
        public = node.get("access") == PUBLIC_ACCESS
        if in_marts != public:
            report.add(
                where(node),
                f"model {node['name']}: access '{node.get('access')}' but "
                + (
                    "it is a mart (marts are public)"
                    if in_marts
                    else "it is not under models/marts/"
                ),
            )
        if not public:
            continue
        report.counts["public model"] += 1
        label = f"public model {node['name']}"
        if not node.get("config", {}).get("contract", {}).get("enforced", False):
            report.add(where(node), f"{label}: no enforced contract")
        columns = node.get("columns", {})
        for name, column in columns.items():
            report.counts["public column"] += 1
            if is_blank(column.get("description")):
                report.add(where(node), f"{label}: column '{name}' has no description")
        actual = catalog.get(node["unique_id"], {}).get("columns")
        contracted = node.get("config", {}).get("contract", {}).get("enforced", False)
        if actual:
            report.counts["public model compared with catalog"] += 1
            actual_names = {name.lower() for name in actual}
            documented_names = {name.lower() for name in columns}
            for name in sorted(actual_names - documented_names):
                report.add(where(node), f"{label}: column '{name}' is not documented")
            for name in sorted(documented_names - actual_names):
                report.add(where(node), f"{label}: documented column '{name}' does not exist")
        elif not contracted and not columns:
            report.add(where(node), f"{label}: documents no columns (and has no contract)")


def lineage_of(manifest: dict, unique_id: str) -> set[str]:
    """Every node upstream (`depends_on`) or downstream (`child_map`) of `unique_id`."""
    parents = {
        node_id: node.get("depends_on", {}).get("nodes", [])
        for node_id, node in manifest["nodes"].items()
    }
    children = manifest.get("child_map", {})
    related: set[str] = set()
    for edges in (parents, children):
        stack = [unique_id]
        seen: set[str] = set()
        while stack:
            for other in edges.get(stack.pop(), []):
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        related |= seen
    return related


def key_tested_elsewhere(manifest: dict, node: dict, project: str, has_key: set[str]) -> bool:
    """The model names, in meta.primary_key_tested_on, a keyed model in its own lineage."""
    meta = node.get("config", {}).get("meta") or node.get("meta") or {}
    keyed = meta.get("primary_key_tested_on")
    if not keyed:
        return False
    keyed_id = f"model.{project}.{keyed}"
    return keyed_id in has_key and keyed_id in lineage_of(manifest, node["unique_id"])


def check_primary_keys(manifest: dict, project: str, report: Report) -> None:
    has_key: set[str] = set()
    column_tests: dict[tuple[str, str], set[str]] = defaultdict(set)
    for test in manifest["nodes"].values():
        if test["resource_type"] != "test":
            continue
        name = (test.get("test_metadata") or {}).get("name")
        if not name:
            continue
        attached = test.get("attached_node")
        models = [attached] if attached else test.get("depends_on", {}).get("nodes", [])
        for model in models:
            if name in PRIMARY_KEY_TESTS:
                has_key.add(model)
            elif name in {"unique", "not_null"} and test.get("column_name"):
                column_tests[(model, test["column_name"].lower())].add(name)
    for (model, _column), names in column_tests.items():
        if names >= {"unique", "not_null"}:
            has_key.add(model)
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("package_name") != project:
            continue
        if node["unique_id"] in has_key or key_tested_elsewhere(manifest, node, project, has_key):
            report.counts["model with a primary-key test"] += 1
        else:
            report.add(
                where(node),
                f"model {node['name']}: no primary-key test "
                "(add `primary_key` with its column_names, or unique + not_null on one column)",
            )


def check_exposures(manifest: dict, project: str, report: Report) -> None:
    for exposure in manifest.get("exposures", {}).values():
        if exposure.get("package_name") != project:
            continue
        label = f"exposure {exposure['name']}"
        owner = exposure.get("owner") or {}
        if is_blank(owner.get("name")) and is_blank(owner.get("email")):
            report.add(where(exposure), f"{label}: no owner")
        if not exposure.get("depends_on", {}).get("nodes"):
            report.add(where(exposure), f"{label}: depends on no model")


def check_overview(manifest: dict, project: str, project_dir: Path, report: Report) -> None:
    overview = manifest.get("docs", {}).get(f"doc.{project}.__overview__")
    if overview is None:
        report.add("models/", "no docs landing page: add {% docs __overview__ %} to a .md file")
        return
    text = overview.get("block_contents", "")
    path = overview.get("original_file_path", "models/")
    names = project_vars(project_dir)
    report.counts["var in the overview"] = len(names)
    for name in names:
        if not re.search(rf"\b{re.escape(name)}\b", text):
            report.add(path, f"__overview__: var '{name}' of dbt_project.yml is not explained")
            report.counts["var in the overview"] -= 1


def layer_of(node: dict) -> str | None:
    """The layer (staging, intermediate, marts) of a model, from its folder; None when none."""
    parts = node.get("original_file_path", "").replace("\\", "/").split("/")
    if len(parts) > 2 and parts[0] in ("models", "python_models") and parts[1] in LAYERS:
        return parts[1]
    return None


def check_lineage(manifest: dict, project: str, report: Report) -> None:
    """Every model reads only models of its own or an earlier layer."""
    nodes = manifest["nodes"]
    for node in nodes.values():
        if node["resource_type"] != "model" or node.get("package_name") != project:
            continue
        layer = layer_of(node)
        if layer is None:
            report.add(where(node), f"model {node['name']}: not in a layer folder {LAYERS}")
            continue
        report.counts["model in a layer"] += 1
        for parent_id in node.get("depends_on", {}).get("nodes", []):
            parent = nodes.get(parent_id)
            if not parent or parent["resource_type"] != "model":
                continue
            parent_layer = layer_of(parent)
            if parent_layer and LAYERS.index(parent_layer) > LAYERS.index(layer):
                report.add(
                    where(node),
                    f"model {node['name']} ({layer}) reads {parent['name']} ({parent_layer}): "
                    "lineage must run staging -> intermediate -> marts",
                )


def check_readme(manifest: dict, project: str, project_dir: Path, report: Report) -> None:
    """README.md names every var and every public model, in backticks."""
    readme = project_dir / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    for name in project_vars(project_dir):
        report.counts["var in the README"] += 1
        if f"`{name}`" not in text:
            report.add("README.md", f"var '{name}' of dbt_project.yml is not described")
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("package_name") != project:
            continue
        if node.get("access") != PUBLIC_ACCESS:
            continue
        report.counts["public model in the README"] += 1
        if f"`{node['name']}`" not in text:
            report.add("README.md", f"public model '{node['name']}' is not described")


def check(target: Path, project_dir: Path) -> Report:
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    project = manifest["metadata"].get("project_name") or "crm_analytics"
    report = Report()
    catalog = load_catalog(target, manifest, report)
    check_descriptions(manifest, project, report)
    check_public_columns(manifest, project, catalog, report)
    check_primary_keys(manifest, project, report)
    check_exposures(manifest, project, report)
    check_overview(manifest, project, project_dir, report)
    check_lineage(manifest, project, report)
    check_readme(manifest, project, project_dir, report)
    return report


def summary(report: Report) -> str:
    counts = report.counts
    text = (
        f"check_docs: OK - described: {counts['model']} models, {counts['seed']} seeds, "
        f"{counts['source']} sources, {counts['macro']} macros, {counts['exposure']} exposures; "
        f"{counts['public column']} columns of {counts['public model']} public models "
        f"({counts['public model compared with catalog']} compared with catalog.json); "
        f"{counts['model with a primary-key test']} models with a primary-key test; "
        f"{counts['var in the overview']} vars in __overview__; "
        f"{counts['model in a layer']} models in forward-only layers; README names "
        f"{counts['var in the README']} vars and "
        f"{counts['public model in the README']} public models"
    )
    return text + "".join(f"; {note}" for note in report.notes)


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-path", type=Path, default=root / "target")
    parser.add_argument("--project-dir", type=Path, default=root)
    args = parser.parse_args(argv)
    manifest_file = args.target_path / "manifest.json"
    if not manifest_file.is_file():
        print(f"check_docs: {manifest_file} not found; run `dbt parse` first", file=sys.stderr)
        return 2
    report = check(args.target_path, args.project_dir)
    if report.problem_count:
        print(f"check_docs: {report.problem_count} problem(s) in {manifest_file}:")
        for path in sorted(report.problems):
            for message in report.problems[path]:
                print(f"  {path}: {message}")
        return 1
    print(summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
