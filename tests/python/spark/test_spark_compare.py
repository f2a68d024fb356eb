"""Comparing two builds' marts: equal frames pass, any differing value or row fails."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_analytics.spark.compare import compare_frames, compare_marts, format_report, primary_key


def rfm() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": ["flo", "flo", "online_retail"],
            "customer_id": ["1", "2", "12346"],
            "monetary": [83.4, 0.0, 77183.6],
            "segment": ["champions", "hibernating", "at_risk"],
            "last_order": pd.to_datetime(["2021-05-30", "2020-01-01", "2011-01-18"]),
            "clv": [1.5, np.nan, None],
        }
    )


KEY = ("dataset", "customer_id")


def test_equal_frames_pass_in_any_row_order() -> None:
    shuffled = rfm().iloc[[2, 0, 1]].reset_index(drop=True)
    result = compare_frames("rfm", rfm(), shuffled, KEY)
    assert result.equal, result.mismatches
    assert result.columns_compared == 6


def test_floats_within_the_tolerance_pass() -> None:
    actual = rfm()
    actual.loc[2, "monetary"] = 77183.6 * (1 + 1e-12)
    result = compare_frames("rfm", rfm(), actual, KEY)
    assert result.equal
    assert 0 < result.max_relative_difference < 1e-11


def test_the_clv_bounds_are_held_to_the_same_tolerance_as_every_float() -> None:
    expected = rfm().assign(predicted_clv_lower=[10.0, 20.0, 30.0])
    near = expected.copy()
    near["predicted_clv_lower"] *= 1 + 1e-11
    assert compare_frames("cltv_predictions", expected, near, KEY).equal
    far = expected.copy()
    far.loc[1, "predicted_clv_lower"] = 20.0 * (1 + 1e-7)
    assert not compare_frames("cltv_predictions", expected, far, KEY).equal


def test_one_differing_value_fails_with_mart_column_key_and_values() -> None:
    actual = rfm()
    actual.loc[0, "monetary"] = 83.4000015
    result = compare_frames("rfm", rfm(), actual, KEY)
    assert not result.equal
    assert result.mismatches == [
        "rfm.monetary at (dataset=flo, customer_id=1): duckdb=83.4 spark=83.4000015"
    ]


def test_a_null_against_a_number_fails() -> None:
    actual = rfm()
    actual.loc[1, "clv"] = 0.0
    assert not compare_frames("rfm", rfm(), actual, KEY).equal


def test_a_different_segment_fails() -> None:
    actual = rfm()
    actual.loc[1, "segment"] = "about_to_sleep"
    result = compare_frames("rfm", rfm(), actual, KEY)
    assert result.mismatches == [
        "rfm.segment at (dataset=flo, customer_id=2): duckdb='hibernating' spark='about_to_sleep'"
    ]


def test_a_missing_row_fails() -> None:
    result = compare_frames("rfm", rfm(), rfm().iloc[:2], KEY)
    assert not result.equal
    assert "rfm: 3 rows in duckdb, 2 in spark" in result.mismatches
    assert "rfm: row (dataset=online_retail, customer_id=12346) only in duckdb" in (
        result.mismatches
    )


def test_a_replaced_row_fails_even_with_equal_counts() -> None:
    actual = rfm()
    actual.loc[2, "customer_id"] = "99999"
    result = compare_frames("rfm", rfm(), actual, KEY)
    assert not result.equal and len(result.mismatches) == 2


def test_without_a_key_rows_are_sorted_on_the_exact_columns() -> None:
    shuffled = rfm().iloc[[1, 2, 0]].reset_index(drop=True)
    assert compare_frames("rfm", rfm(), shuffled).equal
    shuffled.loc[0, "segment"] = "new_customers"
    assert not compare_frames("rfm", rfm(), shuffled).equal


def test_a_missing_column_fails() -> None:
    result = compare_frames("rfm", rfm(), rfm().drop(columns="clv"), KEY)
    assert result.mismatches == ["rfm: column clv only in duckdb"]


def test_integers_of_different_widths_compare_by_value() -> None:
    left = pd.DataFrame({"k": [1, 2], "n": pd.Series([3, 4], dtype="int32")})
    right = pd.DataFrame({"k": [1, 2], "n": pd.Series([3, 4], dtype="int64")})
    assert compare_frames("t", left, right, ("k",)).equal


def mart_manifest() -> dict:
    model = {
        "unique_id": "model.p.rfm",
        "resource_type": "model",
        "name": "rfm",
        "package_name": "p",
        "original_file_path": "models/marts/crm/rfm.sql",
        "access": "public",
    }
    staging = {
        **model,
        "unique_id": "model.p.stg",
        "name": "stg",
        "original_file_path": "models/staging/stg.sql",
        "access": "protected",
    }
    test = {
        "unique_id": "test.p.primary_key_rfm",
        "resource_type": "test",
        "attached_node": "model.p.rfm",
        "test_metadata": {"name": "primary_key", "kwargs": {"column_names": list(KEY)}},
    }
    nodes = {item["unique_id"]: item for item in (model, staging, test)}
    return {"metadata": {"project_name": "p"}, "nodes": nodes}


def test_marts_and_their_keys_come_from_the_manifest() -> None:
    manifest = mart_manifest()
    assert primary_key(manifest["nodes"]["model.p.rfm"], manifest) == KEY
    results = compare_marts(manifest, lambda node: rfm(), lambda node: rfm().iloc[::-1])
    assert [result.name for result in results] == ["rfm"]
    assert results[0].equal and results[0].key == KEY
    report = format_report(results)
    assert "1 of 1 public marts equal" in report


def test_a_unique_and_not_null_column_is_a_key() -> None:
    manifest = mart_manifest()
    manifest["nodes"]["test.p.primary_key_rfm"]["test_metadata"] = {"name": "unique"}
    manifest["nodes"]["test.p.primary_key_rfm"]["column_name"] = "customer_id"
    not_null = {
        **manifest["nodes"]["test.p.primary_key_rfm"],
        "unique_id": "test.p.not_null",
        "test_metadata": {"name": "not_null"},
    }
    manifest["nodes"]["test.p.not_null"] = not_null
    assert primary_key(manifest["nodes"]["model.p.rfm"], manifest) == ("customer_id",)


def test_the_report_names_every_difference() -> None:
    actual = rfm()
    actual.loc[1, "segment"] = "about_to_sleep"
    report = format_report([compare_frames("rfm", rfm(), actual, KEY)])
    assert "rfm.segment at (dataset=flo, customer_id=2)" in report
    assert "0 of 1 public marts equal" in report


def test_a_mart_missing_on_one_side_is_a_difference() -> None:
    def missing(node: dict) -> pd.DataFrame:
        raise LookupError("[TABLE_OR_VIEW_NOT_FOUND] rfm\nmore detail")

    results = compare_marts(mart_manifest(), lambda node: rfm(), missing)
    assert not results[0].equal
    assert results[0].mismatches == ["rfm: cannot be read in spark: [TABLE_OR_VIEW_NOT_FOUND] rfm"]
