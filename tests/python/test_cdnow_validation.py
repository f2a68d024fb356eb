"""CDNOW backtest through the real dbt build: calibration to 1997-09-30, holdout to 1998-06-30
(39 weeks), weeks, no capping, no penalizers - compared with the published BG/NBD
conditional expectations, the tracking totals and the Pareto/NBD estimates (Fader, Hardie and
Lee 2005; Schmittlein, Morrison and Colombo's model as fitted in the same literature)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DbtResult, dbt_build
from test_cdnow import write_cdnow_lines

pytestmark = pytest.mark.dbt

# published conditional expectations by calibration frequency 0..6, 7+ (BG/NBD) and actuals
PUBLISHED_EXPECTED = [0.225, 0.523, 1.044, 1.520, 2.164, 2.654, 3.504, 6.157]
PUBLISHED_ACTUAL = [0.237, 0.697, 1.393, 1.560, 2.532, 2.947, 3.862, 6.359]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    path = write_cdnow_lines(tmp_path_factory.mktemp("cdnow_validation"))
    result = dbt_build(
        path.parent,
        {
            "transactions_path": str(path),
            "transactions_dataset": "cdnow",
            "customer_summaries_path": "",
            "analysis_date": "1998-06-30",
            "calibration_end_date": "1997-09-30",
            "cap_outliers": False,
            "transaction_model_penalizer": 0,
            "gamma_gamma_penalizer": 0,
        },
        select="+cltv_validation_summary +cltv_validation_by_frequency +cltv_validation_tracking "
        "+cltv_validation_period_transactions +cltv_validation_model_parameters",
        extra=["--exclude-resource-type", "unit_test"],
    )
    assert result.returncode == 0, result.output[-4000:]
    return result


def test_conditional_expectations_match_the_published_table(build: DbtResult) -> None:
    rows = build.query(
        "select bucket_order, customers, mean_actual_holdout_purchases, "
        "mean_predicted_holdout_purchases from cltv_validation_by_frequency "
        "where dataset = 'cdnow' and model = 'bgnbd' order by bucket_order"
    )
    assert [row[0] for row in rows] == list(range(8))
    assert sum(row[1] for row in rows) == 2357
    for (bucket, _, actual, predicted), expected, published_actual in zip(
        rows, PUBLISHED_EXPECTED, PUBLISHED_ACTUAL, strict=True
    ):
        assert predicted == pytest.approx(expected, abs=0.005), bucket
        assert actual == pytest.approx(published_actual, abs=0.0005), bucket


def test_tracking_by_week_78(build: DbtResult) -> None:
    rows = build.query(
        "select week, is_holdout, actual_cumulative_repeat_purchases, "
        "expected_cumulative_repeat_purchases from cltv_validation_tracking "
        "where dataset = 'cdnow' and model = 'bgnbd' order by week"
    )
    assert len(rows) == 78
    week, is_holdout, actual, expected = rows[-1]
    assert (week, is_holdout) == (78, True)
    assert actual == 4339
    assert expected == pytest.approx(4171, rel=0.005)
    # weeks 1..39 are the calibration period (1997-01-01..1997-09-30), 40..78 the holdout
    assert [row[1] for row in rows].index(True) == 39


def test_pareto_nbd_reproduces_published_estimates(build: DbtResult) -> None:
    rows = dict(
        build.query(
            "select parameter, estimate from cltv_validation_model_parameters "
            "where dataset = 'cdnow' and model = 'pareto_nbd'"
        )
    )
    assert round(rows["r"], 3) == pytest.approx(0.553)
    assert round(rows["alpha"], 3) == pytest.approx(10.578)
    assert round(rows["s"], 3) == pytest.approx(0.606)
    # beta is poorly determined (standard error about 6): checked loosely
    assert rows["beta"] == pytest.approx(11.669, abs=0.05)


def test_period_transactions_account_for_every_customer(build: DbtResult) -> None:
    rows = build.query(
        "select model, sum(actual_customers), sum(expected_customers) "
        "from cltv_validation_period_transactions where dataset = 'cdnow' group by model"
    )
    assert {row[0] for row in rows} == {"bgnbd", "pareto_nbd", "mbgnbd"}
    for _, actual, expected in rows:
        assert actual == 2357
        assert expected == pytest.approx(2357, rel=1e-9)


def test_summary_compares_models_and_baselines(build: DbtResult) -> None:
    summary = pd.DataFrame(
        build.query(
            "select model, holdout_mae, zero_baseline_mae, rate_baseline_mae, "
            "actual_holdout_purchases, is_selected, holdout_log_likelihood_per_customer, "
            "poisson_baseline_log_likelihood_per_customer from cltv_validation_summary "
            "where dataset = 'cdnow'"
        ),
        columns=["model", "mae", "zero", "rate", "actual", "selected", "ll", "poisson_ll"],
    ).set_index("model")
    assert set(summary.index) == {"bgnbd", "pareto_nbd", "mbgnbd"}
    # holdout purchase days of the 2,357 customers (the actual column of the published table)
    assert (summary["actual"] == summary["actual"].iloc[0]).all()
    assert summary["selected"].sum() == 1
    # the selection rule: the highest holdout log-likelihood; every model beats the Poisson
    # baseline on it
    assert summary.loc[summary["selected"], "ll"].iloc[0] == summary["ll"].max()
    assert (summary["ll"] > summary["poisson_ll"]).all()
    assert (summary["mae"] < summary["rate"]).all()
