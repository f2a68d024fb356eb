"""Compare the public marts of two builds of the same inputs, e.g. DuckDB's and Spark's.

Every public mart (the models under ``models/marts/``) must have the same rows on both sides:
rows are matched on the mart's primary key (from its primary-key test), or, without one, by
sorting on every column that is not a float. Text, integers, booleans, dates and timestamps
must be identical; floats equal within ``rtol`` relative (``atol`` absolute near zero), and NaN or
null on both sides counts as equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MARTS_DIR = "models/marts/"
PRIMARY_KEY_TESTS = frozenset({"primary_key", "primary_key_line_numbers"})
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12


@dataclass
class MartComparison:
    """How one mart compares: row counts, columns compared, the largest float difference."""

    name: str
    expected_rows: int
    actual_rows: int
    key: tuple[str, ...] = ()
    columns_compared: int = 0
    max_relative_difference: float = 0.0
    mismatches: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        """Whether the two sides hold the same rows and values."""
        return not self.mismatches and self.expected_rows == self.actual_rows


def public_marts(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The project's public marts (models under models/marts/ or with public access), by name."""
    project = manifest["metadata"].get("project_name")
    marts = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node.get("package_name", project) == project
        and (node["original_file_path"].startswith(MARTS_DIR) or node.get("access") == "public")
    ]
    return sorted(marts, key=lambda node: node["name"])


def primary_key(model: Mapping[str, Any], manifest: Mapping[str, Any]) -> tuple[str, ...]:
    """The model's primary-key columns, from its tests or constraints; () when it has none.

    A ``primary_key`` (or ``primary_key_line_numbers``) test gives its ``column_names``; else a
    column with both ``unique`` and ``not_null`` tests; else a primary-key constraint.
    """
    uid = model["unique_id"]
    tests = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("attached_node") == uid
    ]
    for test in tests:
        metadata = test.get("test_metadata") or {}
        if metadata.get("name") in PRIMARY_KEY_TESTS:
            return tuple(metadata.get("kwargs", {}).get("column_names", ()))
    tested: dict[str, set[str]] = {}
    for test in tests:
        metadata = test.get("test_metadata") or {}
        if test.get("column_name"):
            tested.setdefault(test["column_name"], set()).add(metadata.get("name", ""))
    for column, names in sorted(tested.items()):
        if {"unique", "not_null"} <= names:
            return (column,)
    for constraint in model.get("constraints", []):
        if constraint.get("type") == "primary_key" and constraint.get("columns"):
            return tuple(constraint["columns"])
    for name, column in model.get("columns", {}).items():
        if any(c.get("type") == "primary_key" for c in column.get("constraints", [])):
            return (name,)
    return ()


def is_float(series: pd.Series) -> bool:
    """Whether a column holds floating-point numbers."""
    return pd.api.types.is_float_dtype(series.dtype)


def is_number(series: pd.Series) -> bool:
    """Whether a column holds numbers (booleans are not)."""
    dtype = series.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def sort_columns(frame: pd.DataFrame) -> list[str]:
    """Columns to sort on when a mart has no key: those not float first, then the floats."""
    exact = [name for name in frame.columns if not is_float(frame[name])]
    return exact + [name for name in frame.columns if name not in exact]


def align(
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    key: Sequence[str],
    labels: tuple[str, str] = ("duckdb", "spark"),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, list[str]]:
    """Both frames in the same row order, a label per row, and the rows only one side has.

    With a key that is unique on both sides the rows are matched on it and labelled by it;
    otherwise both sides are sorted on ``sort_columns`` and matched by position.
    """
    usable = (
        bool(key)
        and all(name in expected.columns and name in actual.columns for name in key)
        and not expected.duplicated(list(key)).any()
        and not actual.duplicated(list(key)).any()
    )
    if not usable:
        order = [name for name in sort_columns(expected) if name in actual.columns]
        labels = pd.Series([f"(sorted row {index})" for index in range(len(expected))])
        return (
            expected.sort_values(order, ignore_index=True, na_position="last"),
            actual.sort_values(order, ignore_index=True, na_position="last"),
            labels,
            [],
        )
    key = list(key)
    left = expected.assign(key_text=key_labels(expected, key))
    right = actual.assign(key_text=key_labels(actual, key))
    only_left = sorted(set(left["key_text"]) - set(right["key_text"]))
    only_right = sorted(set(right["key_text"]) - set(left["key_text"]))
    missing = [f"row {label} only in {labels[0]}" for label in only_left]
    missing += [f"row {label} only in {labels[1]}" for label in only_right]
    common = sorted(set(left["key_text"]) & set(right["key_text"]))
    left = left.set_index("key_text").loc[common].reset_index(drop=True)
    right = right.set_index("key_text").loc[common].reset_index(drop=True)
    return left, right, pd.Series(common, dtype=object), missing


def key_labels(frame: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    """Each row's key as text, "(dataset=flo, customer_id=12)", to match rows and name them."""
    rows = frame[list(key)].astype(object).itertuples(index=False, name=None)
    labels = [
        "(" + ", ".join(f"{name}={value}" for name, value in zip(key, row, strict=True)) + ")"
        for row in rows
    ]
    return pd.Series(labels, index=frame.index, dtype=object)


def float_differences(
    expected: pd.Series, actual: pd.Series, rtol: float, atol: float
) -> tuple[np.ndarray, float]:
    """Which rows differ beyond the tolerance, and the largest relative difference."""
    left = pd.to_numeric(expected, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    right = pd.to_numeric(actual, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    both_nan = np.isnan(left) & np.isnan(right)
    same = (left == right) | both_nan
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(left - right)
        scale = np.maximum(np.abs(left), np.abs(right))
        within = difference <= np.maximum(rtol * scale, atol)
        relative = np.where(scale > 0, difference / np.where(scale > 0, scale, 1), 0.0)
    differs = ~(same | within)
    finite = ~same & np.isfinite(relative)
    largest = float(relative[finite].max()) if finite.any() else 0.0
    return differs, largest


def values_equal(left: object, right: object) -> bool:
    """Whether two non-null values are equal (values that cannot be compared are not)."""
    try:
        return bool(left == right)
    except (TypeError, ValueError):
        return False


def exact_differences(expected: pd.Series, actual: pd.Series) -> np.ndarray:
    """Which rows differ, null equalling null."""
    left_null = pd.isna(expected).to_numpy()
    right_null = pd.isna(actual).to_numpy()
    pairs = zip(expected.astype(object), actual.astype(object), strict=True)
    equal = np.array(
        [
            (a_null and b_null) or (not a_null and not b_null and values_equal(a, b))
            for (a, b), a_null, b_null in zip(pairs, left_null, right_null, strict=True)
        ],
        dtype=bool,
    )
    return ~equal


def shown(value: object) -> str:
    """A value as a mismatch line shows it: numpy scalars as plain Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def compare_frames(
    name: str,
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    key: Sequence[str] = (),
    rtol: float = RELATIVE_TOLERANCE,
    atol: float = ABSOLUTE_TOLERANCE,
    labels: tuple[str, str] = ("duckdb", "spark"),
) -> MartComparison:
    """Compare one mart's two builds; every difference becomes one line in ``mismatches``."""
    result = MartComparison(name, len(expected), len(actual), tuple(key))
    for column in expected.columns.difference(actual.columns, sort=False):
        result.mismatches.append(f"{name}: column {column} only in {labels[0]}")
    for column in actual.columns.difference(expected.columns, sort=False):
        result.mismatches.append(f"{name}: column {column} only in {labels[1]}")
    if len(expected) != len(actual):
        result.mismatches.append(
            f"{name}: {len(expected)} rows in {labels[0]}, {len(actual)} in {labels[1]}"
        )
    columns = [column for column in expected.columns if column in actual.columns]
    left, right, rows, missing = align(expected[columns], actual[columns], key, labels)
    result.mismatches += [f"{name}: {line}" for line in missing]
    if len(left) != len(right):
        return result
    for column in columns:
        result.columns_compared += 1
        if (is_float(left[column]) or is_float(right[column])) and (
            is_number(left[column]) and is_number(right[column])
        ):
            differs, largest = float_differences(left[column], right[column], rtol, atol)
            result.max_relative_difference = max(result.max_relative_difference, largest)
        else:
            differs = exact_differences(left[column], right[column])
        for index in np.flatnonzero(differs):
            result.mismatches.append(
                f"{name}.{column} at {rows.iloc[index]}: "
                f"{labels[0]}={shown(left[column].iloc[index])} "
                f"{labels[1]}={shown(right[column].iloc[index])}"
            )
    return result


def compare_marts(
    manifest: Mapping[str, Any],
    read_expected: Callable[[Mapping[str, Any]], pd.DataFrame],
    read_actual: Callable[[Mapping[str, Any]], pd.DataFrame],
    labels: tuple[str, str] = ("duckdb", "spark"),
    rtol: float = RELATIVE_TOLERANCE,
    atol: float = ABSOLUTE_TOLERANCE,
) -> list[MartComparison]:
    """Compare every public mart of ``manifest``; the readers take the mart's manifest node.

    A mart that one side cannot read (not built there) is a difference, not an exception.
    """
    results = []
    for node in public_marts(manifest):
        frames = []
        for read, label in ((read_expected, labels[0]), (read_actual, labels[1])):
            try:
                frames.append(read(node))
            except Exception as error:  # any engine's "no such table"
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
                frames.append(f"{node['name']}: cannot be read in {label}: {first_line}")
        if all(isinstance(frame, pd.DataFrame) for frame in frames):
            key = primary_key(node, manifest)
            results.append(
                compare_frames(node["name"], *frames, key, rtol=rtol, atol=atol, labels=labels)
            )
        else:
            rows = [len(frame) if isinstance(frame, pd.DataFrame) else 0 for frame in frames]
            problems = [frame for frame in frames if isinstance(frame, str)]
            results.append(MartComparison(node["name"], *rows, mismatches=problems))
    return results


def format_report(
    results: Sequence[MartComparison],
    labels: tuple[str, str] = ("duckdb", "spark"),
    max_lines: int = 20,
) -> str:
    """A table of the marts (rows, columns compared, max relative difference, mismatches),
    then the first ``max_lines`` mismatches of each mart that differs, then a summary line."""
    header = (
        f"{'mart':<46} {'rows ' + labels[0]:>12} {'rows ' + labels[1]:>12} "
        f"{'columns':>7} {'max rel diff':>12} {'mismatches':>10}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.name:<46} {result.expected_rows:>12} {result.actual_rows:>12} "
            f"{result.columns_compared:>7} {result.max_relative_difference:>12.3g} "
            f"{len(result.mismatches):>10}"
        )
    for result in results:
        shown = result.mismatches[:max_lines]
        lines += shown
        if len(result.mismatches) > len(shown):
            lines.append(f"{result.name}: ... and {len(result.mismatches) - len(shown)} more")
    equal = sum(result.equal for result in results)
    lines.append(f"{equal} of {len(results)} public marts equal")
    return "\n".join(lines)
