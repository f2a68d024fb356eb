"""CDNOW acceptance: the published BG/NBD and Gamma-Gamma results, through the real dbt build.

The CDNOW sample ships inside `lifetimes` (CDNOW_sample.txt: 2,357 customers, 6,919 purchases,
1997-01..1998-06). A fixture step turns it into an invoice-lines file (one line per purchase,
quantity 1 at the purchase's dollar amount); nothing of it is committed. The build runs with
analysis date 1997-09-30 (the calibration end of the literature), weeks, no capping and no
penalizers, and is compared with `lifetimes`' own utilities and the published figures
(Fader, Hardie and Lee 2005; Fader and Hardie's Gamma-Gamma note).
"""

from __future__ import annotations

from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
import pytest
from conftest import DbtResult, dbt_build
from lifetimes.utils import summary_data_from_transaction_data

pytestmark = pytest.mark.dbt

LIFETIMES_DATA = Path(lifetimes.__file__).parent / "datasets"
CALIBRATION_END = "1997-09-30"


def cdnow_purchases() -> pd.DataFrame:
    """The CDNOW sample as (customer, date, amount) rows; customer = the file's 1-based index."""
    raw = pd.read_csv(
        LIFETIMES_DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw[["customer", "date", "amount"]]


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    return cdnow_purchases()


def write_cdnow_lines(folder: Path) -> Path:
    """The CDNOW sample as an invoice-lines CSV in `folder`: one line per purchase, quantity 1
    at the purchase's dollar amount, customer = the file's 1-based index."""
    purchases = cdnow_purchases()
    lines = pd.DataFrame(
        {
            "Invoice": [str(500000 + i) for i in range(len(purchases))],
            "StockCode": "CD",
            "Description": "CDs",
            "Quantity": 1,
            "InvoiceDate": purchases["date"].dt.strftime("%Y-%m-%d 00:00:00"),
            "Price": purchases["amount"],
            "Customer ID": purchases["customer"],
            "Country": "United States",
        }
    )
    path = folder / "cdnow_lines.csv"
    lines.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    path = write_cdnow_lines(tmp_path_factory.mktemp("cdnow"))
    result = dbt_build(
        path.parent,
        {
            "transactions_path": str(path),
            "transactions_dataset": "cdnow",
            "customer_summaries_path": "",
            "analysis_date": CALIBRATION_END,
            "cap_outliers": False,
            "transaction_model_penalizer": 0,
            "gamma_gamma_penalizer": 0,
        },
        select="+cltv_predictions +cltv_model_parameters",
    )
    assert result.returncode == 0, result.output[-4000:]
    return result


def table(build: DbtResult, sql: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(build.database), read_only=True) as connection:
        return connection.sql(sql).df()


@pytest.fixture(scope="module")
def lifetime(build: DbtResult) -> pd.DataFrame:
    frame = table(build, "select * from customer_lifetime where dataset = 'cdnow'")
    frame["customer"] = frame["customer_id"].astype(int)
    return frame.set_index("customer").sort_index()


@pytest.fixture(scope="module")
def reference(purchases: pd.DataFrame) -> pd.DataFrame:
    summary = summary_data_from_transaction_data(
        purchases,
        "customer",
        "date",
        monetary_value_col="amount",
        observation_period_end=CALIBRATION_END,
        freq="D",
    )
    summary["recency"] = summary["recency"] / 7
    summary["T"] = summary["T"] / 7
    return summary.sort_index()


def test_lifetime_table_equals_lifetimes_utility(lifetime, reference) -> None:
    assert len(lifetime) == len(reference) == 2357
    assert lifetime.index.equals(reference.index)
    assert (lifetime["frequency"].to_numpy() == reference["frequency"].to_numpy()).all()
    np.testing.assert_allclose(lifetime["recency"], reference["recency"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(lifetime["customer_age"], reference["T"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(
        lifetime["monetary_value"], reference["monetary_value"], rtol=1e-9, atol=1e-12
    )


def test_lifetime_table_matches_published_summary(lifetime) -> None:
    published = pd.read_csv(LIFETIMES_DATA / "cdnow_customers_summary.csv").set_index("ID")
    assert len(published) == len(lifetime)
    assert (published["frequency"].to_numpy() == lifetime["frequency"].to_numpy()).all()
    # the published file rounds recency and T to 2 decimals
    assert np.abs(published["recency"].to_numpy() - lifetime["recency"].to_numpy()).max() <= 0.005
    assert np.abs(published["T"].to_numpy() - lifetime["customer_age"].to_numpy()).max() <= 0.005


def parameters(build: DbtResult, model: str) -> pd.DataFrame:
    return table(
        build,
        f"select * from cltv_model_parameters where dataset = 'cdnow' and model = '{model}'",
    ).set_index("parameter")


def test_bgnbd_reproduces_published_estimates(build) -> None:
    fitted = parameters(build, "bgnbd")
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert round(fitted.loc[name, "estimate"], 3) == pytest.approx(value, abs=1e-9), name
    assert round(fitted["log_likelihood"].iloc[0], 1) == pytest.approx(-9582.4, abs=1e-9)
    assert (fitted["n_customers"] == 2357).all()
    assert fitted["converged"].all()
    assert (fitted["penalizer"] == 0).all()


def test_gamma_gamma_reproduces_published_estimates(build) -> None:
    fitted = parameters(build, "gamma_gamma")
    published = {"p": 6.25, "q": 3.74, "v": 15.44}
    for name, value in published.items():
        assert round(fitted.loc[name, "estimate"], 2) == pytest.approx(value, abs=1e-9), name
    assert (fitted["n_customers"] == 946).all()


def test_predictions_equal_lifetimes_methods(build, lifetime) -> None:
    bgnbd = parameters(build, "bgnbd")["estimate"]
    gamma_gamma = parameters(build, "gamma_gamma")["estimate"]
    bgf = lifetimes.BetaGeoFitter()
    bgf.params_ = pd.Series({name: bgnbd[name] for name in ("r", "alpha", "a", "b")})
    # lifetimes sets this alias in fit(); customer_lifetime_value calls it
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
    ggf = lifetimes.GammaGammaFitter()
    ggf.params_ = pd.Series({name: gamma_gamma[name] for name in ("p", "q", "v")})

    predictions = table(build, "select * from cltv_predictions where dataset = 'cdnow'")
    predictions["customer"] = predictions["customer_id"].astype(int)
    predictions = predictions.set_index("customer").sort_index()
    frequency = lifetime["frequency"].astype(float)
    recency = lifetime["recency"]
    age = lifetime["customer_age"]
    monetary = lifetime["monetary_value"]

    def close(actual: pd.Series, expected: pd.Series) -> None:
        np.testing.assert_allclose(actual.to_numpy(), np.asarray(expected), rtol=1e-9, atol=1e-12)

    close(
        predictions["probability_alive"],
        bgf.conditional_probability_alive(frequency, recency, age),
    )
    for column, weeks in (
        ("expected_purchases_week", 1),
        ("expected_purchases_month", 4),
        ("expected_purchases_quarter", 12),
    ):
        close(
            predictions[column],
            bgf.conditional_expected_number_of_purchases_up_to_time(weeks, frequency, recency, age),
        )
    close(
        predictions["expected_average_profit"],
        ggf.conditional_expected_average_profit(frequency, monetary),
    )
    close(
        predictions["predicted_clv"],
        ggf.customer_lifetime_value(
            bgf, frequency, recency, age, monetary, time=3, discount_rate=0.01, freq="W"
        ),
    )


def test_every_customer_is_predicted(build, lifetime) -> None:
    counts = table(build, "select count(*) as n from cltv_predictions where dataset = 'cdnow'")
    assert counts["n"].iloc[0] == len(lifetime)
