"""Tests of crm_analytics.btyd.pareto_nbd: the published CDNOW estimates, the likelihood against
numerical integration and lifetimes, the weighted optimum, failed attempts and P(X(t) = n)
against numerical integration."""

from __future__ import annotations

import lifetimes
import numpy as np
import pandas as pd
import pytest
from cdnow_reference import (
    PARETO_NBD_CDNOW,
    columns_of,
    distinct_rows,
    load_cdnow,
    max_relative_difference,
    newton_step,
    numerical_standard_errors,
    quad_pareto_nbd_log_likelihood,
    quad_pareto_nbd_pmf,
)

from crm_analytics.btyd import FitResult, ModelFitError, pareto_nbd, transaction_log_likelihood


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_distinct(cdnow: pd.DataFrame) -> pd.DataFrame:
    return distinct_rows(cdnow)


@pytest.fixture(scope="module")
def cdnow_pareto_nbd(cdnow_distinct: pd.DataFrame) -> FitResult:
    return pareto_nbd.fit(
        *columns_of(cdnow_distinct, "frequency", "recency", "T", "customers"), penalizer=0.0
    )


def test_pareto_nbd_reproduces_the_published_cdnow_estimates(
    cdnow: pd.DataFrame, cdnow_pareto_nbd: FitResult
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
    reference_ll = pareto_nbd.log_likelihood(
        reference.params_.to_dict(), cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    assert fit.log_likelihood >= reference_ll - 1e-9
    assert max_relative_difference(list(fit.params.values()), reference.params_) < 2e-3


def test_the_log_likelihood_is_a_weighted_total(
    cdnow_distinct: pd.DataFrame, cdnow_pareto_nbd: FitResult
) -> None:
    x, t_x, age, weights = (
        cdnow_distinct[name].to_numpy(dtype=float)
        for name in ("frequency", "recency", "T", "customers")
    )
    params = cdnow_pareto_nbd.params
    ours = pareto_nbd.log_likelihood(params, x, t_x, age, weights)
    assert cdnow_pareto_nbd.log_likelihood == pytest.approx(ours, rel=1e-12)
    # lifetimes divides the weighted total by the mean weight
    scaled = lifetimes.ParetoNBDFitter._negative_log_likelihood(
        np.array(list(params.values())), x, t_x, age, weights, 0.0
    )
    assert ours == pytest.approx(-scaled * weights.mean(), rel=1e-10)
    assert ours != pytest.approx(-scaled, rel=0.1)
    independent = quad_pareto_nbd_log_likelihood(params, x, t_x, age)
    assert ours == pytest.approx(float(np.sum(weights * independent)), rel=1e-9)
    assert transaction_log_likelihood(params, x, t_x, age, weights, "pareto_nbd") == ours


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_weighted_pareto_nbd_fit_is_the_one_row_per_customer_optimum(
    cdnow: pd.DataFrame, cdnow_distinct: pd.DataFrame, penalizer: float
) -> None:
    weighted = pareto_nbd.fit(
        *columns_of(cdnow_distinct, "frequency", "recency", "T", "customers"),
        penalizer=penalizer,
        fallback_penalizers=(),
    )
    per_customer = pareto_nbd.fit(
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


def test_pareto_nbd_boundary_estimates_and_non_convergence_fail_attempts(
    monkeypatch: pytest.MonkeyPatch, cdnow_distinct: pd.DataFrame
) -> None:
    columns = columns_of(cdnow_distinct, "frequency", "recency", "T", "customers")
    original = pareto_nbd.fit_attempt
    calls = []

    def collapse_once(*args: object) -> tuple[dict[str, float], dict[str, float]]:
        params, errors = original(*args)
        calls.append(args[-1])
        if len(calls) == 1:
            params = {**params, "s": 1e-12}
        return params, errors

    monkeypatch.setattr(pareto_nbd, "fit_attempt", collapse_once)
    fit = pareto_nbd.fit(*columns, penalizer=0.0, fallback_penalizers=(0.01,))
    assert calls == [0.0, 0.01]
    assert (fit.attempts, fit.penalizer) == (2, 0.01)
    assert fit.message == (
        "retried with penalizer 0.01 after: penalizer 0: degenerate estimate at the boundary: "
        "s=1e-12"
    )
    monkeypatch.setattr(pareto_nbd, "fit_attempt", original)
    monkeypatch.setitem(pareto_nbd.NELDER_MEAD_OPTIONS, "maxiter", 5)
    with pytest.raises(ModelFitError) as raised:
        pareto_nbd.fit(*columns, penalizer=0.0, fallback_penalizers=(1,))
    assert raised.value.reasons == (
        "penalizer 0: the optimiser did not converge "
        "(scipy: Maximum number of iterations has been exceeded.)",
        "penalizer 1: the optimiser did not converge "
        "(scipy: Maximum number of iterations has been exceeded.)",
    )
    assert raised.value.attempts == 2
    assert str(raised.value).startswith("Pareto/NBD model cannot be fitted: no attempt succeeded")


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
    ours = pareto_nbd.probability_of_repeat_purchases(
        params, times[:, np.newaxis], counts[np.newaxis, :]
    )
    assert ours.shape == (4, 10)
    expected = np.array([[quad_pareto_nbd_pmf(params, t, n) for n in counts] for t in times])
    assert np.max(np.abs(ours - expected)) < 1e-13
    big = expected > 1e-6
    assert max_relative_difference(ours[big], expected[big]) < 1e-9
