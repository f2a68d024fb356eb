"""The package's layout rules, checked on its source: no module imports another module's
private names, and each shared constant is defined in one place."""

from __future__ import annotations

import ast
from pathlib import Path

from crm_analytics.schemas import FLO_COLUMNS, ONLINE_RETAIL_II_COLUMNS

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "crm_analytics"
PYTHON_MODELS_DIR = PACKAGE_DIR.parent / "python_models"
LABELS = ("bgnbd", "pareto_nbd", "mbgnbd", "gamma_gamma", "BG/NBD", "Pareto/NBD", "MBG/NBD")


def sources() -> list[Path]:
    return sorted([*PACKAGE_DIR.rglob("*.py"), *PYTHON_MODELS_DIR.glob("*.py")])


def test_no_module_imports_private_names_of_another() -> None:
    offenders = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crm_analytics"):
                offenders += [
                    f"{path.name}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert offenders == []


def test_shared_constants_are_defined_once() -> None:
    defined: dict[str, list[str]] = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Name):
                    defined.setdefault(target.id, []).append(path.name)
    assert defined["DAYS_PER_WEEK"] == ["units.py"]
    assert defined["TRANSACTION_MODELS"] == ["names.py"]
    assert defined["ONLINE_RETAIL_II_COLUMNS"] == ["schemas.py"]
    assert defined["FLO_COLUMNS"] == ["schemas.py"]


def test_the_input_columns_are_those_of_the_design() -> None:
    """The names as DESIGN.md section 3 and the README list them (typed out here, not read
    from the package)."""
    assert ONLINE_RETAIL_II_COLUMNS == (
        "Invoice",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "Price",
        "Customer ID",
        "Country",
    )
    assert FLO_COLUMNS == (
        "master_id",
        "order_channel",
        "last_order_channel",
        "first_order_date",
        "last_order_date",
        "last_order_date_online",
        "last_order_date_offline",
        "order_num_total_ever_online",
        "order_num_total_ever_offline",
        "customer_value_total_ever_offline",
        "customer_value_total_ever_online",
        "interested_in_categories_12",
    )


def test_model_names_and_labels_are_spelled_out_in_one_module_of_the_btyd_package() -> None:
    spelled: dict[str, set[str]] = {}
    for path in sorted((PACKAGE_DIR / "btyd").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        exported = {  # the names in __all__ are module names, not model names
            id(constant)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for constant in ast.walk(node.value)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in LABELS and id(node) not in exported:
                spelled.setdefault(str(node.value), set()).add(path.name)
    assert spelled == {label: {"names.py"} for label in LABELS}
