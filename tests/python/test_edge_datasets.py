"""Tiny and degenerate datasets: the descriptive marts still build and say what they mean;
the models, which cannot be fitted on them, stop with a message naming the dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DbtResult, dbt_build

pytestmark = pytest.mark.dbt

HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"


def write_lines(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


@pytest.fixture(scope="module")
def one_customer(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    folder = tmp_path_factory.mktemp("one_customer")
    lines = write_lines(
        folder / "one_customer.csv",
        [
            "700001,22423,CAKESTAND,2,2011-01-03 10:00:00,12.75,20001,United Kingdom",
            "700002,22423,CAKESTAND,1,2011-02-07 11:00:00,12.75,20001,United Kingdom",
            # a second customer whose only line is a free item: listed, not RFM-scored
            "700003,POST,POSTAGE,1,2011-02-08 09:00:00,0,20002,United Kingdom",
        ],
    )
    return dbt_build(folder, {"transactions_path": str(lines), "customer_summaries_path": ""})


def test_one_scored_customer_gets_the_documented_scores(one_customer: DbtResult) -> None:
    rows = one_customer.query(
        "select customer_id, recency, frequency, recency_score, frequency_score, "
        "monetary_score, segment from rfm"
    )
    # one value: every quintile edge equals it, so it sits in bin 1 of each score; recency is
    # reversed (5 = most recent). Analysis date = last order (2011-02-08) + 2 days.
    assert rows == [("20001", 2, 2, 5, 1, 1, "new_customers")]


def test_zero_revenue_customer_is_listed_but_not_scored(one_customer: DbtResult) -> None:
    rows = one_customer.query(
        "select customer_id, is_rfm_scored, rfm_exclusion_reason from customers "
        "order by customer_id"
    )
    assert rows == [("20001", True, None), ("20002", False, "zero_revenue")]


def test_descriptive_marts_are_built(one_customer: DbtResult) -> None:
    for mart in ("orders", "kpi_monthly", "cohort_retention", "cltv", "rfm_segment_summary"):
        assert one_customer.query(f"select count(*) from {mart}")[0][0] > 0, mart


def test_the_model_fit_stops_the_build_naming_the_dataset(one_customer: DbtResult) -> None:
    assert one_customer.returncode != 0
    assert "int_btyd_models_fitted" in one_customer.output
    assert "online_retail" in one_customer.output


def test_everyone_with_the_same_recency_builds(tmp_path: Path) -> None:
    lines = write_lines(
        tmp_path / "same_day.csv",
        [
            f"{710000 + i},22423,CAKESTAND,{i + 1},2011-03-01 10:00:00,2.5,{21000 + i},France"
            for i in range(6)
        ],
    )
    result = dbt_build(
        tmp_path,
        {"transactions_path": str(lines), "customer_summaries_path": ""},
        select="+rfm +cltv",
        extra=["--exclude-resource-type", "unit_test"],
    )
    assert result.returncode == 0, result.output[-3000:]
    scores = result.query("select distinct recency, recency_score from rfm")
    assert scores == [(1, 5)]  # 2011-03-01 10:00 to 2011-03-03 00:00: one whole day
    monetary = result.query("select monetary, monetary_score from rfm order by monetary")
    # monetary 2.5, 5, ..., 15: edges at the 20/40/60/80% quantiles 5.0, 7.5, 10.0, 12.5
    assert [score for _, score in monetary] == [1, 1, 2, 3, 4, 5]
