"""Tests of crm_analytics.btyd: published CDNOW estimates, weights, predictions against lifetimes,
standard errors against an independent numerical Hessian, degenerate inputs and the two tables.

The CDNOW sample ships inside lifetimes: ``cdnow_customers_summary.csv`` (2,357 customers,
weeks, calibration period up to 1997-09-30) and ``CDNOW_sample.txt`` (the transactions).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import lifetimes
import lifetimes.datasets
import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import betaln, gammaln

from crm_analytics import btyd

CALIBRATION_END = pd.Timestamp("1997-09-30")
HORIZONS = {
    "expected_purchases_week": 1.0,
    "expected_purchases_month": 4.0,
    "expected_purchases_quarter": 12.0,
}
# The course's Gamma-Gamma penalizer (0.01) drives q below 1 even on CDNOW (q = 0.97): the
# lifetimes penalty does not shrink with the sample size and acts on v in currency units. Such an
# attempt is rejected (fit_models then falls back to the unpenalised fit); 0.001 keeps q > 1.
BGNBD_PENALIZER = 0.001
GAMMA_GAMMA_PENALIZER = 0.001
ADDED_COLUMNS = ["probability_alive", *HORIZONS, "expected_average_profit", "clv"]


def max_relative_difference(actual: object, expected: object) -> float:
    """Largest |actual - expected| / |expected| (expected values here are never 0)."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    return float(np.max(np.abs(actual - expected) / np.abs(expected)))


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """One row per CDNOW customer: frequency, recency, T (weeks)."""
    return lifetimes.datasets.load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="module")
def cdnow_distinct(cdnow: pd.DataFrame) -> pd.DataFrame:
    """The distinct (frequency, recency, T) rows of CDNOW with their customer counts."""
    return cdnow.groupby(["frequency", "recency", "T"], as_index=False).agg(
        customers=("frequency", "size")
    )


@pytest.fixture(scope="module")
def cdnow_spend(cdnow: pd.DataFrame) -> pd.DataFrame:
    """The 946 CDNOW repeat buyers with the exact mean value of their repeat purchase days.

    Built from the transactions (same-day purchases merged, calibration period only), as in
    Hardie's note 025. The ``zbar`` column of ``cdnow_customers_summary_with_transactions.csv``
    is the same mean rounded to cents, which moves v to 15.45 (published: 15.44).
    """
    path = Path(lifetimes.datasets.__file__).parent / "CDNOW_sample.txt"
    columns = ["master_id", "customer_id", "date", "cds", "value"]
    lines = pd.read_csv(path, sep=r"\s+", header=None, names=columns, dtype={"date": str})
    lines["date"] = pd.to_datetime(lines["date"], format="%Y%m%d")
    lines = lines[lines["date"] <= CALIBRATION_END]
    days = lines.groupby(["customer_id", "date"], as_index=False)["value"].sum()
    first_day = days.groupby("customer_id")["date"].transform("min")
    repeat = days[days["date"] > first_day].groupby("customer_id")["value"]
    spend = pd.DataFrame({"frequency": repeat.size(), "monetary_value": repeat.mean()})
    # the transactions agree with the summary file's frequencies
    assert (spend["frequency"] == cdnow["frequency"].reindex(spend.index)).all()
    return spend


@pytest.fixture(scope="module")
def cdnow_profiles(cdnow: pd.DataFrame, cdnow_spend: pd.DataFrame) -> pd.DataFrame:
    """Every CDNOW customer with frequency, recency, T and monetary value (0 if one-time)."""
    monetary = cdnow_spend["monetary_value"].reindex(cdnow.index).fillna(0.0)
    return cdnow.assign(monetary_value=monetary)


# --------------------------------------------------------------------------------------------
# Published estimates
# --------------------------------------------------------------------------------------------


def test_bgnbd_reproduces_the_published_cdnow_estimates(cdnow_distinct: pd.DataFrame) -> None:
    fit = btyd.fit_bgnbd(
        cdnow_distinct["frequency"],
        cdnow_distinct["recency"],
        cdnow_distinct["T"],
        cdnow_distinct["customers"],
        penalizer=0.0,
    )
    rounded = {name: round(value, 3) for name, value in fit.params.items()}
    assert rounded == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(fit.log_likelihood, 1) == -9582.4
    assert (fit.model, fit.n_customers, fit.n_rows) == ("bgnbd", 2357.0, len(cdnow_distinct))
    assert (fit.converged, fit.attempts, fit.penalizer, fit.message) == (True, 1, 0.0, "converged")


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow_spend: pd.DataFrame) -> None:
    fit = btyd.fit_gamma_gamma(cdnow_spend["frequency"], cdnow_spend["monetary_value"], penalizer=0)
    rounded = {name: round(value, 2) for name, value in fit.params.items()}
    assert rounded == {"p": 6.25, "q": 3.74, "v": 15.44}
    assert fit.n_customers == 946.0
    # the log-likelihood is lifetimes' objective times the number of customers (no penalty)
    fitter = lifetimes.GammaGammaFitter(0.0).fit(
        cdnow_spend["frequency"], cdnow_spend["monetary_value"]
    )
    assert fit.log_likelihood == pytest.approx(-fitter._negative_log_likelihood_ * 946, rel=1e-9)


def test_gamma_gamma_uses_only_repeat_buyers(cdnow_profiles: pd.DataFrame) -> None:
    everyone = btyd.fit_gamma_gamma(
        cdnow_profiles["frequency"], cdnow_profiles["monetary_value"], penalizer=0.0
    )
    repeat = cdnow_profiles[cdnow_profiles["frequency"] > 0]
    repeat_only = btyd.fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"], penalizer=0)
    assert everyone == repeat_only
    assert everyone.n_customers == 946.0


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


def test_weighted_distinct_rows_fit_like_one_row_per_customer(
    cdnow: pd.DataFrame, cdnow_distinct: pd.DataFrame, cdnow_profiles: pd.DataFrame
) -> None:
    weighted = btyd.fit_bgnbd(
        cdnow_distinct["frequency"],
        cdnow_distinct["recency"],
        cdnow_distinct["T"],
        cdnow_distinct["customers"],
    )
    per_customer = btyd.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    # lifetimes itself on one unweighted row per customer (no merging of identical rows)
    reference = lifetimes.BetaGeoFitter(0.001).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for fit in (weighted, per_customer):
        assert fit.penalizer == 0.001
        assert (fit.n_customers, fit.n_rows) == (2357.0, len(cdnow_distinct))
        expected = reference.params_[list(fit.params)]
        assert max_relative_difference(list(fit.params.values()), expected) < 1e-6
        expected_errors = reference.standard_errors_[list(fit.params)]
        assert max_relative_difference(list(fit.standard_errors.values()), expected_errors) < 1e-6
    assert weighted.log_likelihood == pytest.approx(per_customer.log_likelihood, rel=1e-9)
    columns = [cdnow_profiles[name] for name in ("frequency", "recency", "T")]
    for horizon in (1.0, 12.0):
        assert (
            max_relative_difference(
                btyd.expected_purchases(weighted.params, horizon, *columns),
                btyd.expected_purchases(per_customer.params, horizon, *columns),
            )
            < 1e-6
        )
    assert (
        max_relative_difference(
            btyd.probability_alive(weighted.params, *columns),
            btyd.probability_alive(per_customer.params, *columns),
        )
        < 1e-6
    )


@pytest.mark.parametrize("penalizer", [0.0, GAMMA_GAMMA_PENALIZER])
def test_weighted_gamma_gamma_fits_like_one_row_per_customer(
    cdnow_spend: pd.DataFrame, penalizer: float
) -> None:
    rng = np.random.default_rng(7)
    counts = rng.integers(1, 6, size=len(cdnow_spend))
    frequency = np.repeat(cdnow_spend["frequency"].to_numpy(), counts)
    monetary = np.repeat(cdnow_spend["monetary_value"].to_numpy(), counts)
    weighted = btyd.fit_gamma_gamma(
        cdnow_spend["frequency"],
        cdnow_spend["monetary_value"],
        pd.Series(counts),
        penalizer=penalizer,
        fallback_penalizers=(),
    )
    per_customer = btyd.fit_gamma_gamma(
        frequency, monetary, penalizer=penalizer, fallback_penalizers=()
    )
    reference = lifetimes.GammaGammaFitter(penalizer).fit(pd.Series(frequency), pd.Series(monetary))
    for fit in (weighted, per_customer):
        assert (fit.penalizer, fit.attempts, fit.message) == (penalizer, 1, "converged")
        assert fit.params["q"] > 1
        assert fit.n_customers == counts.sum()
        assert max_relative_difference(list(fit.params.values()), reference.params_) < 1e-6
        errors = list(fit.standard_errors.values())
        assert max_relative_difference(errors, reference.standard_errors_) < 1e-6
    assert weighted.log_likelihood == pytest.approx(per_customer.log_likelihood, rel=1e-9)
    x, m = cdnow_spend["frequency"], cdnow_spend["monetary_value"]
    assert (
        max_relative_difference(
            btyd.expected_average_profit(weighted.params, x, m),
            btyd.expected_average_profit(per_customer.params, x, m),
        )
        < 1e-6
    )


# --------------------------------------------------------------------------------------------
# Predictions against lifetimes
# --------------------------------------------------------------------------------------------


def test_predictions_equal_lifetimes(cdnow_profiles: pd.DataFrame) -> None:
    frequency, recency, age = (cdnow_profiles[name] for name in ("frequency", "recency", "T"))
    monetary = cdnow_profiles["monetary_value"]
    bgnbd = lifetimes.BetaGeoFitter(0.001).fit(frequency, recency, age)
    repeat = frequency > 0
    gamma_gamma = lifetimes.GammaGammaFitter(0.0).fit(frequency[repeat], monetary[repeat])
    bgnbd_params = bgnbd.params_.to_dict()
    gg_params = gamma_gamma.params_.to_dict()
    differences = {}
    differences["probability_alive"] = max_relative_difference(
        btyd.probability_alive(bgnbd_params, frequency, recency, age),
        bgnbd.conditional_probability_alive(frequency, recency, age),
    )
    for horizon in (1.0, 4.0, 12.0, 52.0):
        differences[f"expected_purchases({horizon})"] = max_relative_difference(
            btyd.expected_purchases(bgnbd_params, horizon, frequency, recency, age),
            bgnbd.conditional_expected_number_of_purchases_up_to_time(
                horizon, frequency, recency, age
            ),
        )
    differences["expected_average_profit"] = max_relative_difference(
        btyd.expected_average_profit(gg_params, frequency, monetary),
        gamma_gamma.conditional_expected_average_profit(frequency, monetary),
    )
    for months, rate in ((3, 0.01), (12, 0.05)):
        differences[f"clv({months}, {rate})"] = max_relative_difference(
            btyd.customer_lifetime_value(
                bgnbd_params,
                gg_params,
                frequency,
                recency,
                age,
                monetary,
                months=months,
                monthly_discount_rate=rate,
            ),
            gamma_gamma.customer_lifetime_value(
                bgnbd, frequency, recency, age, monetary, time=months, discount_rate=rate, freq="W"
            ),
        )
    assert max(differences.values()) < 1e-9, differences


def test_a_new_customer_with_t_zero_gets_the_population_predictions(
    cdnow_distinct: pd.DataFrame,
) -> None:
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    reference = lifetimes.BetaGeoFitter()
    reference.params_ = pd.Series(params)
    assert btyd.probability_alive(params, 0, 0, 0).tolist() == [1.0]
    for horizon in (0.0, 1.0, 12.0):
        unconditional = reference.expected_number_of_purchases_up_to_time(horizon)
        new = btyd.expected_purchases(params, horizon, 0, 0, 0)
        assert new.shape == (1,)
        assert new[0] == pytest.approx(unconditional, rel=1e-12, abs=1e-15)
    gg = {"p": 6.25, "q": 3.74, "v": 15.44}
    population_mean = 6.25 * 15.44 / 2.74
    assert btyd.expected_average_profit(gg, [0, 0], [0.0, np.nan]) == pytest.approx(
        [population_mean] * 2, rel=1e-12
    )


# --------------------------------------------------------------------------------------------
# Standard errors against an independent numerical Hessian
# --------------------------------------------------------------------------------------------


def paper_bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-row BG/NBD log-likelihood in the form of Fader, Hardie and Lee (2005), eq. 6."""
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) + head - (r + x) * np.log(alpha + age)
    with np.errstate(invalid="ignore"):
        dead = betaln(a + 1, b + x - 1) - betaln(a, b) + head - (r + x) * np.log(alpha + t_x)
    return np.log(np.exp(alive) + np.where(x > 0, np.exp(dead), 0.0))


def paper_gamma_gamma_log_likelihood(
    p: float, q: float, v: float, x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Per-row log density of the mean spend m of x purchases (Hardie, note 025), with z = x*m."""
    z = x * m
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(z)
        - (p * x + q) * np.log(v + z)
        + np.log(x)  # the Jacobian from the total z to the mean m
    )


def numerical_standard_errors(
    objective: Callable[[np.ndarray], float], estimate: np.ndarray, step: float = 1e-4
) -> np.ndarray:
    """sqrt(diag(inverse Hessian)) of ``objective`` by central differences at ``estimate``."""
    n = estimate.size
    h = step * estimate
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            shift_i = np.eye(n)[i] * h[i]
            shift_j = np.eye(n)[j] * h[j]
            hessian[i, j] = (
                objective(estimate + shift_i + shift_j)
                - objective(estimate + shift_i - shift_j)
                - objective(estimate - shift_i + shift_j)
                + objective(estimate - shift_i - shift_j)
            ) / (4 * h[i] * h[j])
    return np.sqrt(np.diag(np.linalg.inv(hessian)))


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_bgnbd_standard_errors_match_a_numerical_hessian(
    cdnow_distinct: pd.DataFrame, penalizer: float
) -> None:
    x, t_x, age, weights = (
        cdnow_distinct[name].to_numpy(dtype=float)
        for name in ("frequency", "recency", "T", "customers")
    )
    fit = btyd.fit_bgnbd(x, t_x, age, weights, penalizer=penalizer)
    total = weights.sum()
    time_scale = 1 / age.max()  # lifetimes penalises alpha in time rescaled to max(T) = 1

    def objective(theta: np.ndarray) -> float:
        r, alpha, a, b = theta
        nll = -np.sum(weights * paper_bgnbd_log_likelihood(r, alpha, a, b, x, t_x, age))
        return nll + total * penalizer * (r**2 + (alpha * time_scale) ** 2 + a**2 + b**2)

    estimate = np.array(list(fit.params.values()))
    if penalizer == 0:
        assert fit.log_likelihood == pytest.approx(-objective(estimate), rel=1e-10)
    expected = numerical_standard_errors(objective, estimate)
    assert max_relative_difference(list(fit.standard_errors.values()), expected) < 1e-3
    for name, value in fit.params.items():
        error = fit.standard_errors[name]
        assert fit.lower_95[name] == pytest.approx(value - 1.96 * error)
        assert fit.upper_95[name] == pytest.approx(value + 1.96 * error)


@pytest.mark.parametrize("penalizer", [0.0, GAMMA_GAMMA_PENALIZER])
def test_gamma_gamma_standard_errors_match_a_numerical_hessian(
    cdnow_spend: pd.DataFrame, penalizer: float
) -> None:
    x = cdnow_spend["frequency"].to_numpy(dtype=float)
    m = cdnow_spend["monetary_value"].to_numpy(dtype=float)
    fit = btyd.fit_gamma_gamma(x, m, penalizer=penalizer, fallback_penalizers=())
    assert (fit.penalizer, fit.attempts) == (penalizer, 1)
    assert fit.params["q"] > 1

    def objective(theta: np.ndarray) -> float:
        nll = -np.sum(paper_gamma_gamma_log_likelihood(*theta, x, m))
        return nll + x.size * penalizer * float(np.sum(theta**2))

    estimate = np.array(list(fit.params.values()))
    if penalizer == 0:
        assert fit.log_likelihood == pytest.approx(-objective(estimate), rel=1e-10)
    expected = numerical_standard_errors(objective, estimate)
    assert max_relative_difference(list(fit.standard_errors.values()), expected) < 1e-3


# --------------------------------------------------------------------------------------------
# Degenerate inputs and the fallback penalizers
# --------------------------------------------------------------------------------------------


def test_only_one_time_buyers_cannot_be_fitted() -> None:
    with pytest.raises(btyd.ModelFitError, match="no repeat purchases") as raised:
        btyd.fit_bgnbd([0, 0, 0], [0, 0, 0], [5.0, 6.0, 7.0], dataset="shop")
    assert "BG/NBD" in str(raised.value) and "'shop'" in str(raised.value)
    assert (raised.value.dataset, raised.value.model) == ("shop", "bgnbd")
    with pytest.raises(btyd.ModelFitError, match=r"Gamma-Gamma.*no repeat buyers"):
        btyd.fit_gamma_gamma([0, 0], [0.0, 0.0])


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: btyd.fit_bgnbd([], [], []), "no rows"),
        (lambda: btyd.fit_gamma_gamma([], []), "no rows"),
        (lambda: btyd.fit_bgnbd([1, 2], [3.0, 9.0], [5.0, 6.0]), "1 row.*recency greater than T"),
        (lambda: btyd.fit_bgnbd([1.5, 2], [3.0, 4.0], [5.0, 6.0]), "non-integer frequency"),
        (lambda: btyd.fit_bgnbd([0, 2], [1.0, 4.0], [5.0, 6.0]), "recency with frequency 0"),
        (lambda: btyd.fit_bgnbd([1, 2], [1.0, 4.0], [5.0, 6.0], [1, 0]), "non-positive weights"),
        (lambda: btyd.fit_gamma_gamma([1, 2], [3.0, -1.0]), "non-positive monetary_value"),
    ],
)
def test_invalid_inputs_are_refused_before_fitting(call: Callable[[], object], reason: str) -> None:
    with pytest.raises(btyd.ModelFitError, match=reason):
        call()


def test_one_customer() -> None:
    fit = btyd.fit_bgnbd([2], [10.0], [20.0])  # the default penalizer makes the optimum finite
    assert (fit.n_rows, fit.n_customers, fit.attempts) == (1, 1.0, 1)
    assert all(np.isfinite(list(fit.params.values())))
    # without a penalty the likelihood of one customer has no finite maximum
    with pytest.raises(btyd.ModelFitError, match="penalizer 0: the optimiser did not converge"):
        btyd.fit_bgnbd([2], [10.0], [20.0], penalizer=0.0, fallback_penalizers=())
    rescued = btyd.fit_bgnbd([2], [10.0], [20.0], penalizer=0.0)
    assert (rescued.attempts, rescued.penalizer) == (2, 0.01)
    assert rescued.message.startswith("retried with penalizer 0.01 after: penalizer 0: ")
    # one repeat buyer has no unpenalised maximum; the first small fallback penalty fits it
    spend = btyd.fit_gamma_gamma([2], [10.0])
    assert (spend.n_rows, spend.attempts, spend.penalizer, spend.params["q"] > 1) == (
        1,
        2,
        0.0001,
        True,
    )


def test_gamma_gamma_with_equal_monetary_values_needs_a_penalty() -> None:
    frequency, monetary = [1, 2, 3, 4], [10.0] * 4
    with pytest.raises(btyd.ModelFitError, match="did not converge"):
        btyd.fit_gamma_gamma(frequency, monetary, penalizer=0.0, fallback_penalizers=())
    fit = btyd.fit_gamma_gamma(frequency, monetary)
    assert (fit.attempts, fit.penalizer) == (2, 0.0001) and np.isfinite(fit.log_likelihood)


class FlakyBetaGeoFitter(lifetimes.BetaGeoFitter):
    """Raises on the first ``fit`` call of a test, then fits normally."""

    calls = 0

    def fit(self, *args: object, **kwargs: object) -> FlakyBetaGeoFitter:
        type(self).calls += 1
        if type(self).calls == 1:
            raise RuntimeError("simulated failure")
        return super().fit(*args, **kwargs)


def test_a_failed_first_attempt_falls_back(
    monkeypatch: pytest.MonkeyPatch, cdnow_distinct: pd.DataFrame
) -> None:
    monkeypatch.setattr(FlakyBetaGeoFitter, "calls", 0)
    monkeypatch.setattr(btyd, "BetaGeoFitter", FlakyBetaGeoFitter)
    columns = [cdnow_distinct[name] for name in ("frequency", "recency", "T", "customers")]
    fit = btyd.fit_bgnbd(*columns)
    assert (fit.attempts, fit.penalizer, fit.converged) == (2, 0.01, True)
    assert fit.message == (
        "retried with penalizer 0.01 after: penalizer 0.001: RuntimeError: simulated failure"
    )
    monkeypatch.setattr(btyd, "BetaGeoFitter", lifetimes.BetaGeoFitter)
    assert fit.params == btyd.fit_bgnbd(*columns, penalizer=0.01).params


def test_non_finite_estimates_fail_an_attempt(
    monkeypatch: pytest.MonkeyPatch, cdnow_spend: pd.DataFrame
) -> None:
    class NanOnce(lifetimes.GammaGammaFitter):
        calls = 0

        def fit(self, *args: object, **kwargs: object) -> NanOnce:
            super().fit(*args, **kwargs)
            type(self).calls += 1
            if type(self).calls == 1:
                self.params_["v"] = np.nan
            return self

    monkeypatch.setattr(btyd, "GammaGammaFitter", NanOnce)
    columns = (cdnow_spend["frequency"], cdnow_spend["monetary_value"])
    fit = btyd.fit_gamma_gamma(*columns, penalizer=GAMMA_GAMMA_PENALIZER, fallback_penalizers=(0,))
    assert (fit.attempts, fit.penalizer, fit.converged) == (2, 0.0, True)
    assert fit.message == (
        "retried with penalizer 0 after: penalizer 0.001: parameters not finite and positive: v=nan"
    )
    monkeypatch.setattr(btyd, "GammaGammaFitter", lifetimes.GammaGammaFitter)
    assert fit.params == btyd.fit_gamma_gamma(*columns, penalizer=0).params


def test_non_finite_standard_errors_are_reported(
    monkeypatch: pytest.MonkeyPatch, cdnow_spend: pd.DataFrame
) -> None:
    class NanErrors(lifetimes.GammaGammaFitter):
        def fit(self, *args: object, **kwargs: object) -> NanErrors:
            super().fit(*args, **kwargs)
            self.standard_errors_ = self.standard_errors_.where(self.standard_errors_.index != "q")
            return self

    monkeypatch.setattr(btyd, "GammaGammaFitter", NanErrors)
    fit = btyd.fit_gamma_gamma(cdnow_spend["frequency"], cdnow_spend["monetary_value"], penalizer=0)
    assert fit.attempts == 1 and np.isnan(fit.standard_errors["q"])
    assert (
        fit.message == "converged; standard errors not finite for q (Hessian not positive definite)"
    )


def test_no_fit_possible_lists_every_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(lifetimes.BetaGeoFitter):
        def fit(self, *args: object, **kwargs: object) -> Broken:
            raise FloatingPointError(f"broken at {self.penalizer_coef}")

    monkeypatch.setattr(btyd, "BetaGeoFitter", Broken)
    with pytest.raises(btyd.ModelFitError) as raised:
        btyd.fit_bgnbd([1, 0], [2.0, 0.0], [3.0, 3.0], dataset="shop")
    assert raised.value.reasons == (
        "penalizer 0.001: FloatingPointError: broken at 0.001",
        "penalizer 0.01: FloatingPointError: broken at 0.01",
        "penalizer 0.1: FloatingPointError: broken at 0.1",
        "penalizer 1: FloatingPointError: broken at 1.0",
    )
    message = str(raised.value)
    assert message.startswith("BG/NBD model cannot be fitted for dataset 'shop': ")
    assert all(reason in message for reason in raised.value.reasons)


class CollapseOnce(lifetimes.BetaGeoFitter):
    """Fits normally, but the first ``fit`` call of a test sets one estimate to a given value."""

    calls = 0
    parameter = "a"
    value = 1e-14

    def fit(self, *args: object, **kwargs: object) -> CollapseOnce:
        super().fit(*args, **kwargs)
        type(self).calls += 1
        if type(self).calls == 1:
            self.params_[self.parameter] = self.value
        return self


@pytest.mark.parametrize(
    ("parameter", "value", "shown"),
    [("a", 1e-14, "a=1e-14"), ("b", 0.99e-8, "b=9.9e-09"), ("alpha", 1.01e8, "alpha=1.01e+08")],
)
def test_a_bgnbd_estimate_at_the_boundary_fails_an_attempt(
    monkeypatch: pytest.MonkeyPatch,
    cdnow_distinct: pd.DataFrame,
    parameter: str,
    value: float,
    shown: str,
) -> None:
    monkeypatch.setattr(CollapseOnce, "calls", 0)
    monkeypatch.setattr(CollapseOnce, "parameter", parameter)
    monkeypatch.setattr(CollapseOnce, "value", value)
    monkeypatch.setattr(btyd, "BetaGeoFitter", CollapseOnce)
    columns = [cdnow_distinct[name] for name in ("frequency", "recency", "T", "customers")]
    fit = btyd.fit_bgnbd(*columns, penalizer=BGNBD_PENALIZER, fallback_penalizers=(0,))
    assert (fit.attempts, fit.penalizer, fit.converged) == (2, 0.0, True)
    assert fit.message == (
        f"retried with penalizer 0 after: penalizer 0.001: degenerate estimate at the boundary: "
        f"{shown}"
    )
    # the unpenalised fallback is the published CDNOW fit
    rounded = {name: round(estimate, 3) for name, estimate in fit.params.items()}
    assert rounded == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.mark.parametrize("value", [btyd.MIN_PARAMETER, btyd.MAX_PARAMETER])
def test_an_estimate_on_the_boundary_itself_is_accepted(
    monkeypatch: pytest.MonkeyPatch, cdnow_distinct: pd.DataFrame, value: float
) -> None:
    monkeypatch.setattr(CollapseOnce, "calls", 0)
    monkeypatch.setattr(CollapseOnce, "value", value)
    monkeypatch.setattr(btyd, "BetaGeoFitter", CollapseOnce)
    columns = [cdnow_distinct[name] for name in ("frequency", "recency", "T", "customers")]
    fit = btyd.fit_bgnbd(*columns, penalizer=BGNBD_PENALIZER, fallback_penalizers=())
    assert (fit.attempts, fit.params["a"]) == (1, value)
    assert fit.message.startswith("converged")


def test_bgnbd_without_any_dropout_collapses_and_cannot_be_fitted() -> None:
    """Real optimiser output, no patching: everyone is still buying at T (recency == T), so the
    dropout probability has no information. Every penalized fit runs a (and sometimes b) off to
    ~1e-17 or below, and the unpenalised likelihood has no finite maximum."""
    age = np.repeat(np.arange(20.0, 53.0), 3)
    frequency = np.floor(age * np.tile([0.1, 0.3, 0.5], 33))
    recency = np.where(frequency > 0, age, 0.0)
    with pytest.raises(btyd.ModelFitError) as raised:
        btyd.fit_bgnbd(
            frequency,
            recency,
            age,
            penalizer=BGNBD_PENALIZER,
            fallback_penalizers=btyd._fallbacks(
                BGNBD_PENALIZER, btyd.BGNBD_FALLBACK_FACTORS, btyd.DEFAULT_BGNBD_FALLBACKS
            ),
            dataset="loyal",
        )
    reasons = raised.value.reasons
    assert [reason.split(":")[0] for reason in reasons] == [
        "penalizer 0.001",
        "penalizer 0",
        "penalizer 0.01",
        "penalizer 0.1",
        "penalizer 1",
    ]
    assert reasons[1].startswith("penalizer 0: the optimiser did not converge")
    for reason in (reasons[0], *reasons[2:]):
        assert ": degenerate estimate at the boundary: " in reason and " a=" in reason
        collapsed_a = float(reason.split(" a=")[1].split(",")[0])
        assert collapsed_a < btyd.MIN_PARAMETER
    message = str(raised.value)
    assert message.startswith("BG/NBD model cannot be fitted for dataset 'loyal': no attempt")
    assert all(reason in message for reason in reasons)


def test_a_penalized_gamma_gamma_fit_with_q_below_one_falls_back_to_the_mle(
    two_datasets: pd.DataFrame,
) -> None:
    cdnow = two_datasets[two_datasets["dataset"] == "cdnow"]
    parameters = btyd.fit_models(*model_inputs(cdnow), BGNBD_PENALIZER, 0.01)
    gamma_gamma = parameters[parameters["model"] == "gamma_gamma"].set_index("parameter")
    rounded = gamma_gamma["estimate"].round(2).to_dict()
    assert rounded == {"p": 6.25, "q": 3.74, "v": 15.44}  # the published unpenalised estimates
    assert (gamma_gamma["penalizer"] == 0.0).all() and (gamma_gamma["attempts"] == 2).all()
    assert gamma_gamma["converged"].all()
    messages = gamma_gamma["fit_message"].unique().tolist()
    assert len(messages) == 1
    assert re.fullmatch(
        r"retried with penalizer 0 after: penalizer 0\.01: q = 0\.9\d+ <= 1: "
        r"the mean spend p\*v/\(q-1\) is undefined",
        messages[0],
    ), messages[0]
    # the BG/NBD fit is not affected
    bgnbd = parameters[parameters["model"] == "bgnbd"]
    assert (bgnbd["penalizer"] == BGNBD_PENALIZER).all() and (bgnbd["attempts"] == 1).all()


def test_a_gamma_gamma_fit_with_q_below_one_everywhere_cannot_be_fitted() -> None:
    frequency, monetary = [1, 2, 3, 4], [150.0, 200.0, 350.0, 120.0]
    with pytest.raises(btyd.ModelFitError) as raised:
        btyd.fit_gamma_gamma(
            frequency, monetary, penalizer=0.1, fallback_penalizers=(0.0, 1.0), dataset="tiny"
        )
    reasons = raised.value.reasons
    assert [reason.split(":")[0] for reason in reasons] == [
        "penalizer 0.1",
        "penalizer 0",
        "penalizer 1",
    ]
    assert reasons[1].startswith("penalizer 0: the optimiser did not converge")
    for reason in (reasons[0], reasons[2]):
        assert re.fullmatch(
            r"penalizer [\d.]+: q = 0\.\d+ <= 1: the mean spend p\*v/\(q-1\) is undefined",
            reason,
        ), reason
    message = str(raised.value)
    assert message.startswith("Gamma-Gamma model cannot be fitted for dataset 'tiny': no attempt")
    assert all(reason in message for reason in reasons)
    assert (raised.value.dataset, raised.value.model) == ("tiny", "gamma_gamma")


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def model_inputs(profiles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The SQL side's int_transaction_model_inputs_counted and int_gamma_gamma_inputs_counted."""
    bgnbd = profiles.groupby(["dataset", "frequency", "recency", "T"], as_index=False).agg(
        customers=("frequency", "size")
    )
    repeat = profiles[profiles["frequency"] > 0]
    gamma_gamma = repeat.groupby(["dataset", "frequency", "monetary_value"], as_index=False).agg(
        customers=("frequency", "size")
    )
    return bgnbd, gamma_gamma


@pytest.fixture(scope="module")
def two_datasets(cdnow_profiles: pd.DataFrame) -> pd.DataFrame:
    """CDNOW as dataset 'cdnow' plus its odd-numbered customers as dataset 'odd'."""
    odd = cdnow_profiles[cdnow_profiles.index % 2 == 1]
    return pd.concat(
        [cdnow_profiles.assign(dataset="cdnow"), odd.assign(dataset="odd")], ignore_index=True
    )[["dataset", "frequency", "recency", "T", "monetary_value"]]


def score(profiles: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    return btyd.score_profiles(profiles, parameters, HORIZONS, 3, 0.01, 4.345)


def test_fit_models_and_score_profiles(two_datasets: pd.DataFrame) -> None:
    bgnbd_inputs, gamma_gamma_inputs = model_inputs(two_datasets)
    parameters = btyd.fit_models(
        bgnbd_inputs, gamma_gamma_inputs, BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER
    )
    assert list(parameters.columns) == list(btyd.PARAMETER_COLUMNS)
    assert parameters[["dataset", "model", "parameter"]].values.tolist() == [
        [dataset, model, parameter]
        for dataset in ("cdnow", "odd")
        for model, names in (("bgnbd", "r alpha a b"), ("gamma_gamma", "p q v"))
        for parameter in names.split()
    ]
    assert not parameters.isna().any().any()
    assert parameters.groupby(["dataset", "model"])["n_customers"].first().to_dict() == {
        ("cdnow", "bgnbd"): 2357.0,
        ("cdnow", "gamma_gamma"): 946.0,
        ("odd", "bgnbd"): 1179.0,
        ("odd", "gamma_gamma"): float((two_datasets.query("dataset == 'odd'").frequency > 0).sum()),
    }
    assert (
        parameters["penalizer"]
        == np.where(parameters["model"] == "bgnbd", BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER)
    ).all()

    # a dataset's fit does not depend on the other datasets
    alone = btyd.fit_models(
        bgnbd_inputs[bgnbd_inputs["dataset"] == "cdnow"],
        gamma_gamma_inputs[gamma_gamma_inputs["dataset"] == "cdnow"],
        BGNBD_PENALIZER,
        GAMMA_GAMMA_PENALIZER,
    )
    pd.testing.assert_frame_equal(alone, parameters[parameters["dataset"] == "cdnow"])

    profiles = two_datasets.drop_duplicates().iloc[::-1]  # any row order, a non-default index
    scores = score(profiles, parameters)
    assert list(scores.columns) == [*profiles.columns, *ADDED_COLUMNS]
    pd.testing.assert_frame_equal(scores[list(profiles.columns)], profiles)
    assert np.isfinite(scores[ADDED_COLUMNS].to_numpy()).all()
    assert scores["probability_alive"].between(0, 1).all()
    week, month, quarter = (scores[name] for name in HORIZONS)
    assert (week <= month).all() and (month <= quarter).all() and (week > 0).all()
    assert (scores["expected_average_profit"] > 0).all() and (scores["clv"] > 0).all()
    cdnow_scores = scores[scores["dataset"] == "cdnow"]
    pd.testing.assert_frame_equal(
        score(profiles[profiles["dataset"] == "cdnow"], alone), cdnow_scores
    )
    one_time = cdnow_scores[cdnow_scores["frequency"] == 0]
    assert (one_time["probability_alive"] == 1).all()
    gg = alone.query("model == 'gamma_gamma'").set_index("parameter")["estimate"]
    assert one_time["expected_average_profit"].to_numpy() == pytest.approx(
        gg["p"] * gg["v"] / (gg["q"] - 1), rel=1e-12
    )


def test_score_profiles_handles_customers_first_seen_on_the_analysis_date(
    two_datasets: pd.DataFrame,
) -> None:
    parameters = btyd.fit_models(
        *model_inputs(two_datasets), BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER
    )
    new = pd.DataFrame(
        {
            "dataset": ["odd", "odd"],
            "frequency": [0, 0],
            "recency": [0.0, 0.0],
            "T": [0.0, 1e-9],
            "monetary_value": [np.nan, 0.0],
            "customers": [3, 1],
        }
    )
    scores = score(new, parameters)
    assert np.isfinite(scores[ADDED_COLUMNS].to_numpy()).all()
    assert scores["probability_alive"].tolist() == [1.0, 1.0]
    for name in [*HORIZONS, "expected_average_profit", "clv"]:
        assert scores[name].iloc[0] == pytest.approx(scores[name].iloc[1], rel=1e-6)
    assert (scores["expected_purchases_week"] > 0).all()


def test_fit_models_names_the_dataset_that_cannot_be_fitted(two_datasets: pd.DataFrame) -> None:
    bgnbd_inputs, gamma_gamma_inputs = model_inputs(two_datasets)
    one_timers = pd.DataFrame(
        {"dataset": ["new_shop"], "frequency": [0], "recency": [0.0], "T": [3.0], "customers": [5]}
    )
    with pytest.raises(btyd.ModelFitError, match=r"BG/NBD .* dataset 'new_shop'.*no repeat"):
        btyd.fit_models(
            pd.concat([bgnbd_inputs, one_timers]),
            gamma_gamma_inputs,
            BGNBD_PENALIZER,
            GAMMA_GAMMA_PENALIZER,
        )


def test_penalizers_from_dbt_config_strings_and_their_fallbacks(
    monkeypatch: pytest.MonkeyPatch, two_datasets: pd.DataFrame
) -> None:
    odd = two_datasets[two_datasets["dataset"] == "odd"]
    strings = btyd.fit_models(*model_inputs(odd), "0.001", "0.001")  # type: ignore[arg-type]
    floats = btyd.fit_models(*model_inputs(odd), BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER)
    pd.testing.assert_frame_equal(strings, floats)
    assert btyd._fallbacks(0.002, btyd.BGNBD_FALLBACK_FACTORS, (9.0,)) == (0.0, 0.02, 0.2, 2.0)
    assert btyd._fallbacks(0.01, btyd.GAMMA_GAMMA_FALLBACK_FACTORS, (9.0,)) == (0.0, 0.1, 1.0)
    assert btyd._fallbacks(0.0, btyd.BGNBD_FALLBACK_FACTORS, (9.0,)) == (9.0,)

    # what fit_models hands to the fitters
    calls: list[tuple[str, float, tuple[float, ...]]] = []

    def spy(name: str, fit: Callable[..., btyd.FitResult]) -> Callable[..., btyd.FitResult]:
        def recording(*args: object, **kwargs: object) -> btyd.FitResult:
            calls.append((name, kwargs["penalizer"], tuple(kwargs["fallback_penalizers"])))
            return fit(*args, **kwargs)

        return recording

    monkeypatch.setattr(btyd, "fit_bgnbd", spy("bgnbd", btyd.fit_bgnbd))
    monkeypatch.setattr(btyd, "fit_gamma_gamma", spy("gamma_gamma", btyd.fit_gamma_gamma))
    btyd.fit_models(*model_inputs(odd), "0.001", "0.01")  # type: ignore[arg-type]
    btyd.fit_models(*model_inputs(odd), "0", 0)  # type: ignore[arg-type]
    assert calls == [
        ("bgnbd", 0.001, (0.0, 0.01, 0.1, 1.0)),
        ("gamma_gamma", 0.01, (0.0, 0.1, 1.0)),
        ("bgnbd", 0.0, btyd.DEFAULT_BGNBD_FALLBACKS),
        ("gamma_gamma", 0.0, btyd.DEFAULT_GAMMA_GAMMA_FALLBACKS),
    ]
    assert btyd.DEFAULT_BGNBD_FALLBACKS == (0.01, 0.1, 1.0)
    assert btyd.DEFAULT_GAMMA_GAMMA_FALLBACKS == (0.0001, 0.001)


def test_score_profiles_refuses_bad_inputs(two_datasets: pd.DataFrame) -> None:
    odd = two_datasets[two_datasets["dataset"] == "odd"]
    parameters = btyd.fit_models(*model_inputs(odd), BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER)
    with pytest.raises(ValueError, match="dataset 'cdnow': expected one estimate"):
        score(two_datasets, parameters)
    bad = odd.assign(recency=odd["T"] + 1)
    with pytest.raises(ValueError, match=r"dataset 'odd'.*recency outside"):
        score(bad, parameters)


# --------------------------------------------------------------------------------------------
# Pareto/NBD and MBG/NBD: estimates, likelihoods, weights, fallbacks
# --------------------------------------------------------------------------------------------

PARETO_NBD_CDNOW = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # published


def columns_of(frame: pd.DataFrame, *names: str) -> list[pd.Series]:
    return [frame[name] for name in names]


@pytest.fixture(scope="module")
def cdnow_pareto_nbd(cdnow_distinct: pd.DataFrame) -> btyd.FitResult:
    return btyd.fit_transaction_model(
        "pareto_nbd",
        *columns_of(cdnow_distinct, "frequency", "recency", "T", "customers"),
        penalizer=0.0,
    )


def test_pareto_nbd_reproduces_the_published_cdnow_estimates(
    cdnow: pd.DataFrame, cdnow_pareto_nbd: btyd.FitResult
) -> None:
    fit = cdnow_pareto_nbd
    assert list(fit.params) == ["r", "alpha", "s", "beta"]
    rounded = {name: round(fit.params[name], 3) for name in ("r", "alpha", "s")}
    assert rounded == {"r": 0.553, "alpha": 10.578, "s": 0.606}
    # the likelihood is flat along beta (standard error 6.2): the exact maximum is 11.668
    assert fit.params["beta"] == pytest.approx(PARETO_NBD_CDNOW["beta"], abs=0.05)
    assert round(fit.log_likelihood, 1) == -9595.0  # Fader and Hardie, note 008
    assert (fit.model, fit.n_customers, fit.converged, fit.attempts, fit.message) == (
        "pareto_nbd",
        2357.0,
        True,
        1,
        "converged",
    )
    # lifetimes' own Nelder-Mead fit (random start, tolerance 1e-4) gets no higher likelihood
    np.random.seed(3)  # lifetimes draws its starting point from numpy's global generator
    reference = lifetimes.ParetoNBDFitter(0.0).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    reference_ll = btyd.pareto_nbd_log_likelihood(
        reference.params_.to_dict(), cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    assert fit.log_likelihood >= reference_ll - 1e-9
    assert max_relative_difference(list(fit.params.values()), reference.params_) < 2e-3


def quad_pareto_nbd_log_likelihood(
    params: dict[str, float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-row Pareto/NBD log-likelihood by numerical integration over the death time.

    The purchase rate integrates out in closed form; the lifetime is Pareto II (exponential
    with a Gamma(s, beta) rate): alive at T, or dead at some tau in (t_x, T].
    """
    r, alpha, s, beta = (params[name] for name in ("r", "alpha", "s", "beta"))
    head = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r
    values = []
    for xi, ti, ai, hi in zip(x, t_x, age, head, strict=True):
        alive = (alpha + ai) ** -(r + xi) * (beta / (beta + ai)) ** s
        dead = quad(
            lambda tau, xi=xi: (
                (alpha + tau) ** -(r + xi) * s / beta * (beta / (beta + tau)) ** (s + 1)
            ),
            ti,
            ai,
            epsabs=0,
            epsrel=1e-12,
        )[0]
        values.append(np.log(hi * (alive + dead)))
    return np.array(values)


def paper_mbgnbd_log_likelihood(
    params: dict[str, float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-row MBG/NBD log-likelihood in the form of Batislam et al. (2007)."""
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x + 1) - (r + x) * np.log(alpha + age)
    dead = betaln(a + 1, b + x) - (r + x) * np.log(alpha + t_x)
    return head + np.logaddexp(alive, dead)


def test_log_likelihoods_are_weighted_totals(
    cdnow_distinct: pd.DataFrame, cdnow_pareto_nbd: btyd.FitResult
) -> None:
    x, t_x, age, weights = (
        cdnow_distinct[name].to_numpy(dtype=float)
        for name in ("frequency", "recency", "T", "customers")
    )
    params = cdnow_pareto_nbd.params
    ours = btyd.pareto_nbd_log_likelihood(params, x, t_x, age, weights)
    assert cdnow_pareto_nbd.log_likelihood == pytest.approx(ours, rel=1e-12)
    # lifetimes divides the weighted total by the mean weight
    scaled = lifetimes.ParetoNBDFitter._negative_log_likelihood(
        np.array(list(params.values())), x, t_x, age, weights, 0.0
    )
    assert ours == pytest.approx(-scaled * weights.mean(), rel=1e-10)
    assert ours != pytest.approx(-scaled, rel=0.1)
    independent = quad_pareto_nbd_log_likelihood(params, x, t_x, age)
    assert ours == pytest.approx(float(np.sum(weights * independent)), rel=1e-9)
    assert btyd.transaction_log_likelihood(params, x, t_x, age, weights, "pareto_nbd") == ours

    mbg = btyd.fit_transaction_model("mbgnbd", x, t_x, age, weights, penalizer=0.0)
    paper = float(np.sum(weights * paper_mbgnbd_log_likelihood(mbg.params, x, t_x, age)))
    assert mbg.log_likelihood == pytest.approx(paper, rel=1e-12)
    reference = lifetimes.ModifiedBetaGeoFitter(0.0).fit(
        cdnow_distinct["frequency"],
        cdnow_distinct["recency"],
        cdnow_distinct["T"],
        weights=cdnow_distinct["customers"],
    )
    assert max_relative_difference(list(mbg.params.values()), reference.params_) < 1e-6
    assert round(mbg.log_likelihood, 1) == -9582.1


def newton_step(objective: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """The Newton step -H^-1 g of ``objective`` at ``theta`` by central differences."""
    n = theta.size
    g, h = 1e-5, 1e-4
    eye = np.eye(n)
    gradient = np.array(
        [
            (objective(theta + g * eye[i]) - objective(theta - g * eye[i])) / (2 * g)
            for i in range(n)
        ]
    )
    hessian = np.array(
        [
            [
                (
                    objective(theta + h * (eye[i] + eye[j]))
                    - objective(theta + h * (eye[i] - eye[j]))
                    - objective(theta - h * (eye[i] - eye[j]))
                    + objective(theta - h * (eye[i] + eye[j]))
                )
                / (4 * h * h)
                for j in range(n)
            ]
            for i in range(n)
        ]
    )
    return -np.linalg.solve(hessian, gradient)


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_weighted_pareto_nbd_fit_is_the_one_row_per_customer_optimum(
    cdnow: pd.DataFrame, cdnow_distinct: pd.DataFrame, penalizer: float
) -> None:
    weighted = btyd.fit_transaction_model(
        "pareto_nbd",
        *columns_of(cdnow_distinct, "frequency", "recency", "T", "customers"),
        penalizer=penalizer,
        fallback_penalizers=(),
    )
    per_customer = btyd.fit_transaction_model(
        "pareto_nbd",
        *columns_of(cdnow, "frequency", "recency", "T"),
        penalizer=penalizer,
        fallback_penalizers=(),
    )
    for name in ("params", "standard_errors"):
        ours, theirs = getattr(weighted, name), getattr(per_customer, name)
        assert max_relative_difference(list(ours.values()), list(theirs.values())) < 1e-6
    assert weighted.log_likelihood == pytest.approx(per_customer.log_likelihood, rel=1e-9)
    assert (weighted.n_rows, per_customer.n_rows) == (len(cdnow_distinct), len(cdnow_distinct))

    # lifetimes' objective on one unweighted row per customer (its penalty is added to the total,
    # ours to the mean: penalizer * n there is penalizer here), time rescaled to max(T) = 1
    x, t_x, age = (cdnow[name].to_numpy(dtype=float) for name in ("frequency", "recency", "T"))
    n, scale = x.size, 1 / age.max()
    ones = np.ones(n)
    to_scaled = np.array([1.0, scale, 1.0, scale])

    def objective(theta: np.ndarray) -> float:
        return lifetimes.ParetoNBDFitter._negative_log_likelihood(
            np.exp(theta), x, t_x * scale, age * scale, ones, penalizer * n
        )

    estimate = np.array(list(weighted.params.values()))
    step = newton_step(objective, np.log(estimate * to_scaled))
    assert np.max(np.abs(step)) < 1e-6  # relative change of each parameter

    def total_objective(theta: np.ndarray) -> float:  # raw parameters, model time unit
        nll = lifetimes.ParetoNBDFitter._negative_log_likelihood(theta, x, t_x, age, ones, 0.0)
        return nll + n * penalizer * float(np.sum((theta * to_scaled) ** 2))

    expected_errors = numerical_standard_errors(total_objective, estimate)
    assert max_relative_difference(list(weighted.standard_errors.values()), expected_errors) < 1e-3


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_weighted_mbgnbd_fit_equals_lifetimes_on_one_row_per_customer(
    cdnow: pd.DataFrame, cdnow_distinct: pd.DataFrame, penalizer: float
) -> None:
    weighted = btyd.fit_transaction_model(
        "mbgnbd",
        *columns_of(cdnow_distinct, "frequency", "recency", "T", "customers"),
        penalizer=penalizer,
    )
    per_customer = btyd.fit_transaction_model(
        "mbgnbd", *columns_of(cdnow, "frequency", "recency", "T"), penalizer=penalizer
    )
    reference = lifetimes.ModifiedBetaGeoFitter(penalizer).fit(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    for fit in (weighted, per_customer):
        assert (fit.model, fit.penalizer, fit.attempts) == ("mbgnbd", penalizer, 1)
        assert max_relative_difference(list(fit.params.values()), reference.params_) < 1e-6
        errors = list(fit.standard_errors.values())
        assert max_relative_difference(errors, reference.standard_errors_) < 1e-6
    assert weighted.log_likelihood == pytest.approx(per_customer.log_likelihood, rel=1e-9)


def test_fit_bgnbd_is_fit_transaction_model(cdnow_distinct: pd.DataFrame) -> None:
    columns = columns_of(cdnow_distinct, "frequency", "recency", "T", "customers")
    assert btyd.fit_bgnbd(*columns) == btyd.fit_transaction_model("bgnbd", *columns)
    with pytest.raises(ValueError, match="unknown transaction model 'nbd'"):
        btyd.fit_transaction_model("nbd", *columns)


@pytest.mark.parametrize(("model", "label"), [("pareto_nbd", "Pareto/NBD"), ("mbgnbd", "MBG/NBD")])
def test_alternative_models_refuse_one_time_buyers_only(model: str, label: str) -> None:
    with pytest.raises(btyd.ModelFitError, match=f"{label} model .* 'shop': no repeat") as raised:
        btyd.fit_transaction_model(model, [0, 0], [0.0, 0.0], [5.0, 6.0], dataset="shop")
    assert (raised.value.model, raised.value.attempts) == (model, 0)
    with pytest.raises(btyd.ModelFitError, match="recency greater than T"):
        btyd.fit_transaction_model(model, [1, 2], [3.0, 9.0], [5.0, 6.0])


def test_pareto_nbd_boundary_estimates_and_non_convergence_fail_attempts(
    monkeypatch: pytest.MonkeyPatch, cdnow_distinct: pd.DataFrame
) -> None:
    columns = columns_of(cdnow_distinct, "frequency", "recency", "T", "customers")
    original = btyd._fit_pareto_nbd
    calls = []

    def collapse_once(*args: object) -> tuple[dict[str, float], dict[str, float]]:
        params, errors = original(*args)
        calls.append(args[-1])
        if len(calls) == 1:
            params = {**params, "s": 1e-12}
        return params, errors

    monkeypatch.setattr(btyd, "_fit_pareto_nbd", collapse_once)
    fit = btyd.fit_transaction_model(
        "pareto_nbd", *columns, penalizer=0.0, fallback_penalizers=(0.01,)
    )
    assert calls == [0.0, 0.01]
    assert (fit.attempts, fit.penalizer) == (2, 0.01)
    assert fit.message == (
        "retried with penalizer 0.01 after: penalizer 0: degenerate estimate at the boundary: "
        "s=1e-12"
    )
    monkeypatch.setattr(btyd, "_fit_pareto_nbd", original)
    monkeypatch.setitem(btyd.PARETO_NBD_NELDER_MEAD_OPTIONS, "maxiter", 5)
    with pytest.raises(btyd.ModelFitError) as raised:
        btyd.fit_transaction_model("pareto_nbd", *columns, penalizer=0.0, fallback_penalizers=(1,))
    assert raised.value.reasons == (
        "penalizer 0: the optimiser did not converge "
        "(scipy: Maximum number of iterations has been exceeded.)",
        "penalizer 1: the optimiser did not converge "
        "(scipy: Maximum number of iterations has been exceeded.)",
    )
    assert raised.value.attempts == 2
    assert str(raised.value).startswith("Pareto/NBD model cannot be fitted: no attempt succeeded")


def test_an_mbgnbd_estimate_at_the_boundary_fails_an_attempt(
    monkeypatch: pytest.MonkeyPatch, cdnow_distinct: pd.DataFrame
) -> None:
    class CollapseFirst(lifetimes.ModifiedBetaGeoFitter):
        calls = 0

        def fit(self, *args: object, **kwargs: object) -> CollapseFirst:
            super().fit(*args, **kwargs)
            type(self).calls += 1
            if type(self).calls == 1:
                self.params_["b"] = 1e9
            return self

    monkeypatch.setattr(btyd, "ModifiedBetaGeoFitter", CollapseFirst)
    columns = columns_of(cdnow_distinct, "frequency", "recency", "T", "customers")
    fit = btyd.fit_transaction_model("mbgnbd", *columns, penalizer=0.001, fallback_penalizers=(0,))
    assert (fit.attempts, fit.penalizer) == (2, 0.0)
    assert fit.message == (
        "retried with penalizer 0 after: penalizer 0.001: degenerate estimate at the boundary: "
        "b=1e+09"
    )


# --------------------------------------------------------------------------------------------
# Predictions of the three transaction models
# --------------------------------------------------------------------------------------------

LIFETIMES_FITTERS = {
    "bgnbd": lifetimes.BetaGeoFitter,
    "pareto_nbd": lifetimes.ParetoNBDFitter,
    "mbgnbd": lifetimes.ModifiedBetaGeoFitter,
}
CDNOW_PARAMS = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto_nbd": PARETO_NBD_CDNOW,
    "mbgnbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
}


def lifetimes_model(model: str, params: dict[str, float]) -> object:
    fitter = LIFETIMES_FITTERS[model]()
    fitter.params_ = pd.Series(params)
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time  # set by fit()
    return fitter


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")
@pytest.mark.parametrize("model", btyd.TRANSACTION_MODELS)
def test_transaction_model_predictions_equal_lifetimes(
    cdnow_profiles: pd.DataFrame, model: str
) -> None:
    params = CDNOW_PARAMS[model]
    reference = lifetimes_model(model, params)
    frequency, recency, age, monetary = columns_of(
        cdnow_profiles, "frequency", "recency", "T", "monetary_value"
    )
    differences = {
        "probability_alive": max_relative_difference(
            btyd.probability_alive(params, frequency, recency, age, model),
            reference.conditional_probability_alive(frequency, recency, age),
        )
    }
    for horizon in (1.0, 4.0, 12.0, 52.0):
        differences[f"expected_purchases({horizon})"] = max_relative_difference(
            btyd.expected_purchases(params, horizon, frequency, recency, age, model),
            reference.conditional_expected_number_of_purchases_up_to_time(
                horizon, frequency, recency, age
            ),
        )
    times = np.array([0.1, 1.0, 4.0, 39.0, 78.0, 520.0])
    differences["since_acquisition"] = max_relative_difference(
        btyd.expected_purchases_since_acquisition(params, times, model),
        reference.expected_number_of_purchases_up_to_time(times),
    )
    gg_params = {"p": 6.25, "q": 3.74, "v": 15.44}
    gamma_gamma = lifetimes.GammaGammaFitter()
    gamma_gamma.params_ = pd.Series(gg_params)
    differences["clv"] = max_relative_difference(
        btyd.customer_lifetime_value(
            params, gg_params, frequency, recency, age, monetary, 12, 0.01, model=model
        ),
        gamma_gamma.customer_lifetime_value(
            reference, frequency, recency, age, monetary, time=12, discount_rate=0.01, freq="W"
        ),
    )
    if model != "pareto_nbd":  # lifetimes has P(X(t) = n) for BG/NBD and MBG/NBD only
        for t in (5.0, 27.0, 38.86):
            for n in range(8):
                differences[f"P(X({t}) = {n})"] = max_relative_difference(
                    btyd.probability_of_repeat_purchases(params, t, n, model),
                    [reference.probability_of_n_purchases_up_to_time(t, n)],
                )
    assert max(differences.values()) < 1e-9, differences
    # horizons broadcast with the customers
    horizons = np.linspace(0.0, 52.0, len(frequency))
    by_row = btyd.expected_purchases(params, horizons, frequency, recency, age, model)
    one_by_one = [
        btyd.expected_purchases(params, h, f, t_x, t, model)[0]
        for h, f, t_x, t in list(zip(horizons, frequency, recency, age, strict=True))[::97]
    ]
    assert by_row[::97] == pytest.approx(one_by_one, rel=1e-12)


def quad_pareto_nbd_pmf(params: dict[str, float], t: float, n: int) -> float:
    """P(X(t) = n) under Pareto/NBD by integrating the NBD count over the death time."""
    r, alpha, s, beta = (params[name] for name in ("r", "alpha", "s", "beta"))

    def nbd(u: float) -> float:
        return float(
            np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1))
            * (alpha / (alpha + u)) ** r
            * (u / (alpha + u)) ** n
        )

    alive = nbd(t) * (beta / (beta + t)) ** s
    dead = quad(lambda u: nbd(u) * s / beta * (beta / (beta + u)) ** (s + 1), 0, t, epsabs=1e-15)
    return alive + dead[0]


@pytest.mark.parametrize(
    "params",
    [
        PARETO_NBD_CDNOW,
        {"r": 0.553, "alpha": 12.0, "s": 0.606, "beta": 3.0},  # alpha > beta
        {"r": 2.0, "alpha": 1.0, "s": 1.5, "beta": 1.0},  # alpha == beta
        {"r": 0.3, "alpha": 2.0, "s": 3.0, "beta": 40.0},
    ],
)
def test_pareto_nbd_purchase_count_probabilities_equal_numerical_integration(
    params: dict[str, float],
) -> None:
    times = np.array([0.5, 5.0, 38.86, 200.0])
    counts = np.arange(10)
    ours = btyd.probability_of_repeat_purchases(
        params, times[:, np.newaxis], counts[np.newaxis, :], "pareto_nbd"
    )
    assert ours.shape == (4, 10)
    expected = np.array([[quad_pareto_nbd_pmf(params, t, n) for n in counts] for t in times])
    assert np.max(np.abs(ours - expected)) < 1e-13
    big = expected > 1e-6
    assert max_relative_difference(ours[big], expected[big]) < 1e-9


def simulate_repeat_purchases(
    model: str, params: dict[str, float], age: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """X(T) for customers of ages ``age`` drawn from the model's story (not from lifetimes)."""
    rate = rng.gamma(params["r"], 1 / params["alpha"], age.size)
    if model == "pareto_nbd":
        lifetime = rng.exponential(1 / rng.gamma(params["s"], 1 / params["beta"], age.size))
        return rng.poisson(rate * np.minimum(lifetime, age))
    dropout = rng.beta(params["a"], params["b"], age.size)
    # purchases made before dropping out: BG/NBD can drop out after each repeat purchase
    # (1, 2, ...), MBG/NBD also right after the first purchase (0, 1, ...)
    possible = rng.geometric(dropout) - (model == "mbgnbd")
    return np.minimum(rng.poisson(rate * age), possible)


@pytest.mark.parametrize("model", btyd.TRANSACTION_MODELS)
def test_purchase_count_probabilities_match_a_simulation(model: str) -> None:
    params = CDNOW_PARAMS[model]
    rng = np.random.default_rng(20240611)
    draws = 400_000
    for t in (2.0, 38.86):
        simulated = simulate_repeat_purchases(model, params, np.full(draws, t), rng)
        counts = np.arange(8)
        expected = btyd.probability_of_repeat_purchases(params, t, counts, model)
        observed = np.array([np.mean(simulated == n) for n in counts])
        error = np.sqrt(expected * (1 - expected) / draws)
        assert np.all(np.abs(observed - expected) < 5 * error + 1e-6), (t, observed, expected)
        mean = btyd.expected_purchases_since_acquisition(params, t, model)[0]
        assert abs(simulated.mean() - mean) < 5 * simulated.std() / np.sqrt(draws)
    assert btyd.probability_of_repeat_purchases(params, 0.0, [0, 1, 2], model).tolist() == [1, 0, 0]
    assert btyd.expected_purchases_since_acquisition(params, [0.0], model).tolist() == [0.0]
    with pytest.raises(ValueError, match="n must be integers"):
        btyd.probability_of_repeat_purchases(params, 1.0, 1.5, model)


def test_mbgnbd_and_pareto_nbd_one_time_buyers_may_be_dead() -> None:
    mbg, pareto = CDNOW_PARAMS["mbgnbd"], CDNOW_PARAMS["pareto_nbd"]
    # MBG/NBD: a customer can drop out right after the first purchase (probability a/(a+b))
    assert btyd.probability_alive(mbg, 0, 0, 0, "mbgnbd")[0] == pytest.approx(
        mbg["b"] / (mbg["a"] + mbg["b"]), rel=1e-12
    )
    assert btyd.probability_alive(pareto, 0, 0, 0, "pareto_nbd").tolist() == [1.0]
    assert btyd.probability_alive(pareto, [0, 3], [0, 20.0], [30.0, 20.0], "pareto_nbd")[
        1
    ] == pytest.approx(1.0, abs=1e-15)
    assert btyd.probability_alive(pareto, 0, 0, 30.0, "pareto_nbd")[0] < 1
    for model, params in (("mbgnbd", mbg), ("pareto_nbd", pareto)):
        for horizon in (1.0, 12.0):
            new = btyd.expected_purchases(params, horizon, 0, 0, 0, model)[0]
            assert new == pytest.approx(
                btyd.expected_purchases_since_acquisition(params, horizon, model)[0], rel=1e-12
            )
    # Pareto/NBD at s = 1: the limit of the closed form
    near = [{**pareto, "s": 1 + d} for d in (-1e-7, 1e-7)]
    at_one = btyd.expected_purchases_since_acquisition({**pareto, "s": 1.0}, 39.0, "pareto_nbd")
    around = [btyd.expected_purchases_since_acquisition(p, 39.0, "pareto_nbd") for p in near]
    assert at_one[0] == pytest.approx(np.mean(around), rel=1e-6)


# --------------------------------------------------------------------------------------------
# Tables with another transaction model
# --------------------------------------------------------------------------------------------


def test_fit_models_and_score_profiles_with_pareto_nbd(two_datasets: pd.DataFrame) -> None:
    odd = two_datasets[two_datasets["dataset"] == "odd"]
    inputs = model_inputs(odd)
    parameters = btyd.fit_models(
        *inputs, 0.0, GAMMA_GAMMA_PENALIZER, transaction_model="pareto_nbd"
    )
    assert list(parameters.columns) == list(btyd.PARAMETER_COLUMNS)
    assert parameters[["model", "parameter"]].values.tolist() == [
        ["pareto_nbd", "r"],
        ["pareto_nbd", "alpha"],
        ["pareto_nbd", "s"],
        ["pareto_nbd", "beta"],
        ["gamma_gamma", "p"],
        ["gamma_gamma", "q"],
        ["gamma_gamma", "v"],
    ]
    bgnbd_table = inputs[0]
    direct = btyd.fit_transaction_model(
        "pareto_nbd",
        *columns_of(bgnbd_table, "frequency", "recency", "T", "customers"),
        penalizer=0.0,
    )
    pareto = parameters[parameters["model"] == "pareto_nbd"].set_index("parameter")["estimate"]
    assert pareto.to_dict() == direct.params

    profiles = odd.drop_duplicates()
    scores = score(profiles, parameters)
    columns = columns_of(profiles, "frequency", "recency", "T")
    assert scores["probability_alive"].to_numpy() == pytest.approx(
        btyd.probability_alive(direct.params, *columns, "pareto_nbd"), rel=1e-12
    )
    assert scores["expected_purchases_month"].to_numpy() == pytest.approx(
        btyd.expected_purchases(direct.params, 4.0, *columns, "pareto_nbd"), rel=1e-12
    )
    one_time = scores[scores["frequency"] == 0]
    assert (one_time["probability_alive"] < 1).all()  # unlike BG/NBD

    both = pd.concat([parameters, btyd.fit_models(*inputs, 0.0, GAMMA_GAMMA_PENALIZER).iloc[:4]])
    with pytest.raises(ValueError, match=r"several transaction models \['bgnbd', 'pareto_nbd'\]"):
        score(profiles, both)
    with pytest.raises(ValueError, match="unknown transaction model 'pnbd'"):
        btyd.fit_models(*inputs, 0.0, 0.0, transaction_model="pnbd")
