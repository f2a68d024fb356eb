"""Tests of crm_analytics.btyd.bgnbd: the published CDNOW estimates, weights, standard errors
against an independent numerical Hessian, the fallback penalizers and degenerate estimates."""

from __future__ import annotations

import lifetimes
import numpy as np
import pandas as pd
import pytest
from cdnow_reference import (
    PUBLISHED_BGNBD,
    distinct_rows,
    load_cdnow,
    max_relative_difference,
    numerical_standard_errors,
    paper_bgnbd_log_likelihood,
)

from crm_analytics.btyd import (
    DEFAULT_TRANSACTION_FALLBACKS,
    MAX_PARAMETER,
    MIN_PARAMETER,
    TRANSACTION_FALLBACK_FACTORS,
    ModelFitError,
    bgnbd,
    fallback_penalizers,
)

BGNBD_PENALIZER = 0.001


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_distinct(cdnow: pd.DataFrame) -> pd.DataFrame:
    return distinct_rows(cdnow)


def test_bgnbd_reproduces_the_published_cdnow_estimates(cdnow_distinct: pd.DataFrame) -> None:
    fit = bgnbd.fit(
        cdnow_distinct["frequency"],
        cdnow_distinct["recency"],
        cdnow_distinct["T"],
        cdnow_distinct["customers"],
        penalizer=0.0,
    )
    rounded = {name: round(value, 3) for name, value in fit.params.items()}
    assert rounded == PUBLISHED_BGNBD
    assert round(fit.log_likelihood, 1) == -9582.4
    assert (fit.model, fit.n_customers, fit.n_rows) == ("bgnbd", 2357.0, len(cdnow_distinct))
    assert (fit.converged, fit.attempts, fit.penalizer, fit.message) == (True, 1, 0.0, "converged")


def test_weighted_distinct_rows_fit_like_one_row_per_customer(
    cdnow: pd.DataFrame, cdnow_distinct: pd.DataFrame
) -> None:
    weighted = bgnbd.fit(
        cdnow_distinct["frequency"],
        cdnow_distinct["recency"],
        cdnow_distinct["T"],
        cdnow_distinct["customers"],
    )
    per_customer = bgnbd.fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
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
    columns = [cdnow[name] for name in ("frequency", "recency", "T")]
    for horizon in (1.0, 12.0):
        assert (
            max_relative_difference(
                bgnbd.expected_purchases(weighted.params, horizon, *columns),
                bgnbd.expected_purchases(per_customer.params, horizon, *columns),
            )
            < 1e-6
        )
    assert (
        max_relative_difference(
            bgnbd.probability_alive(weighted.params, *columns),
            bgnbd.probability_alive(per_customer.params, *columns),
        )
        < 1e-6
    )


def test_a_new_customer_with_t_zero_gets_the_population_predictions() -> None:
    params = PUBLISHED_BGNBD
    reference = lifetimes.BetaGeoFitter()
    reference.params_ = pd.Series(params)
    assert bgnbd.probability_alive(params, 0, 0, 0).tolist() == [1.0]
    for horizon in (0.0, 1.0, 12.0):
        unconditional = reference.expected_number_of_purchases_up_to_time(horizon)
        new = bgnbd.expected_purchases(params, horizon, 0, 0, 0)
        assert new.shape == (1,)
        assert new[0] == pytest.approx(unconditional, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_bgnbd_standard_errors_match_a_numerical_hessian(
    cdnow_distinct: pd.DataFrame, penalizer: float
) -> None:
    x, t_x, age, weights = (
        cdnow_distinct[name].to_numpy(dtype=float)
        for name in ("frequency", "recency", "T", "customers")
    )
    fit = bgnbd.fit(x, t_x, age, weights, penalizer=penalizer)
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
        # the delta-method interval of log(parameter), mapped back: positive, not symmetric
        assert fit.lower_95[name] == pytest.approx(value * np.exp(-1.96 * error / value))
        assert fit.upper_95[name] == pytest.approx(value * np.exp(1.96 * error / value))
        assert 0 < fit.lower_95[name] < value < fit.upper_95[name]


# --------------------------------------------------------------------------------------------
# Failed attempts and the fallback penalizers (lifetimes' fitter replaced in this module)
# --------------------------------------------------------------------------------------------


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
    monkeypatch.setattr(bgnbd, "BetaGeoFitter", FlakyBetaGeoFitter)
    columns = [cdnow_distinct[name] for name in ("frequency", "recency", "T", "customers")]
    fit = bgnbd.fit(*columns)
    assert (fit.attempts, fit.penalizer, fit.converged) == (2, 0.01, True)
    assert fit.message == (
        "retried with penalizer 0.01 after: penalizer 0.001: RuntimeError: simulated failure"
    )
    monkeypatch.setattr(bgnbd, "BetaGeoFitter", lifetimes.BetaGeoFitter)
    assert fit.params == bgnbd.fit(*columns, penalizer=0.01).params


def test_no_fit_possible_lists_every_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(lifetimes.BetaGeoFitter):
        def fit(self, *args: object, **kwargs: object) -> Broken:
            raise FloatingPointError(f"broken at {self.penalizer_coef}")

    monkeypatch.setattr(bgnbd, "BetaGeoFitter", Broken)
    with pytest.raises(ModelFitError) as raised:
        bgnbd.fit([1, 0], [2.0, 0.0], [3.0, 3.0], dataset="shop")
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
    monkeypatch.setattr(bgnbd, "BetaGeoFitter", CollapseOnce)
    columns = [cdnow_distinct[name] for name in ("frequency", "recency", "T", "customers")]
    fit = bgnbd.fit(*columns, penalizer=BGNBD_PENALIZER, fallback_penalizers=(0,))
    assert (fit.attempts, fit.penalizer, fit.converged) == (2, 0.0, True)
    assert fit.message == (
        f"retried with penalizer 0 after: penalizer 0.001: degenerate estimate at the boundary: "
        f"{shown}"
    )
    # the unpenalised fallback is the published CDNOW fit
    rounded = {name: round(estimate, 3) for name, estimate in fit.params.items()}
    assert rounded == PUBLISHED_BGNBD


@pytest.mark.parametrize("value", [MIN_PARAMETER, MAX_PARAMETER])
def test_an_estimate_on_the_boundary_itself_is_accepted(
    monkeypatch: pytest.MonkeyPatch, cdnow_distinct: pd.DataFrame, value: float
) -> None:
    monkeypatch.setattr(CollapseOnce, "calls", 0)
    monkeypatch.setattr(CollapseOnce, "value", value)
    monkeypatch.setattr(bgnbd, "BetaGeoFitter", CollapseOnce)
    columns = [cdnow_distinct[name] for name in ("frequency", "recency", "T", "customers")]
    fit = bgnbd.fit(*columns, penalizer=BGNBD_PENALIZER, fallback_penalizers=())
    assert (fit.attempts, fit.params["a"]) == (1, value)
    assert fit.message.startswith("converged")


def test_bgnbd_without_any_dropout_collapses_and_cannot_be_fitted() -> None:
    """Real optimiser output, no patching: everyone is still buying at T (recency == T), so the
    dropout probability has no information. Every penalized fit runs a (and sometimes b) off to
    ~1e-17 or below, and the unpenalised likelihood has no finite maximum."""
    age = np.repeat(np.arange(20.0, 53.0), 3)
    frequency = np.floor(age * np.tile([0.1, 0.3, 0.5], 33))
    recency = np.where(frequency > 0, age, 0.0)
    with pytest.raises(ModelFitError) as raised:
        bgnbd.fit(
            frequency,
            recency,
            age,
            penalizer=BGNBD_PENALIZER,
            fallback_penalizers=fallback_penalizers(
                BGNBD_PENALIZER, TRANSACTION_FALLBACK_FACTORS, DEFAULT_TRANSACTION_FALLBACKS
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
        assert collapsed_a < MIN_PARAMETER
    message = str(raised.value)
    assert message.startswith("BG/NBD model cannot be fitted for dataset 'loyal': no attempt")
    assert all(reason in message for reason in reasons)
