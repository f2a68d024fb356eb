"""Tests of crm_analytics.btyd.gamma_gamma: the published CDNOW estimates, repeat buyers only,
weights, standard errors against an independent numerical Hessian, q <= 1 and failed
attempts."""

from __future__ import annotations

import re

import lifetimes
import numpy as np
import pandas as pd
import pytest
from cdnow_reference import (
    load_cdnow,
    max_relative_difference,
    numerical_standard_errors,
    paper_gamma_gamma_log_likelihood,
    repeat_spend,
    with_monetary_value,
)

from crm_analytics.btyd import ModelFitError, gamma_gamma

# The course's Gamma-Gamma penalizer (0.01) drives q below 1 even on CDNOW (q = 0.97): the
# lifetimes penalty does not shrink with the sample size and acts on v in currency units. Such an
# attempt is rejected (fit_models then falls back to the unpenalised fit); 0.001 keeps q > 1.
GAMMA_GAMMA_PENALIZER = 0.001


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_spend(cdnow: pd.DataFrame) -> pd.DataFrame:
    return repeat_spend(cdnow)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow_spend: pd.DataFrame) -> None:
    fit = gamma_gamma.fit(cdnow_spend["frequency"], cdnow_spend["monetary_value"], penalizer=0)
    rounded = {name: round(value, 2) for name, value in fit.params.items()}
    assert rounded == {"p": 6.25, "q": 3.74, "v": 15.44}
    assert fit.n_customers == 946.0
    # the log-likelihood is lifetimes' objective times the number of customers (no penalty)
    fitter = lifetimes.GammaGammaFitter(0.0).fit(
        cdnow_spend["frequency"], cdnow_spend["monetary_value"]
    )
    assert fit.log_likelihood == pytest.approx(-fitter._negative_log_likelihood_ * 946, rel=1e-9)


def test_gamma_gamma_uses_only_repeat_buyers(
    cdnow: pd.DataFrame, cdnow_spend: pd.DataFrame
) -> None:
    profiles = with_monetary_value(cdnow, cdnow_spend)
    everyone = gamma_gamma.fit(profiles["frequency"], profiles["monetary_value"], penalizer=0.0)
    repeat = profiles[profiles["frequency"] > 0]
    repeat_only = gamma_gamma.fit(repeat["frequency"], repeat["monetary_value"], penalizer=0)
    assert everyone == repeat_only
    assert everyone.n_customers == 946.0


@pytest.mark.parametrize("penalizer", [0.0, GAMMA_GAMMA_PENALIZER])
def test_weighted_gamma_gamma_fits_like_one_row_per_customer(
    cdnow_spend: pd.DataFrame, penalizer: float
) -> None:
    rng = np.random.default_rng(7)
    counts = rng.integers(1, 6, size=len(cdnow_spend))
    frequency = np.repeat(cdnow_spend["frequency"].to_numpy(), counts)
    monetary = np.repeat(cdnow_spend["monetary_value"].to_numpy(), counts)
    weighted = gamma_gamma.fit(
        cdnow_spend["frequency"],
        cdnow_spend["monetary_value"],
        pd.Series(counts),
        penalizer=penalizer,
        fallback_penalizers=(),
    )
    per_customer = gamma_gamma.fit(frequency, monetary, penalizer=penalizer, fallback_penalizers=())
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
            gamma_gamma.expected_average_profit(weighted.params, x, m),
            gamma_gamma.expected_average_profit(per_customer.params, x, m),
        )
        < 1e-6
    )


def test_one_time_buyers_get_the_population_mean_spend() -> None:
    gg = {"p": 6.25, "q": 3.74, "v": 15.44}
    population_mean = 6.25 * 15.44 / 2.74
    assert gamma_gamma.expected_average_profit(gg, [0, 0], [0.0, np.nan]) == pytest.approx(
        [population_mean] * 2, rel=1e-12
    )


@pytest.mark.parametrize("penalizer", [0.0, GAMMA_GAMMA_PENALIZER])
def test_gamma_gamma_standard_errors_match_a_numerical_hessian(
    cdnow_spend: pd.DataFrame, penalizer: float
) -> None:
    x = cdnow_spend["frequency"].to_numpy(dtype=float)
    m = cdnow_spend["monetary_value"].to_numpy(dtype=float)
    fit = gamma_gamma.fit(x, m, penalizer=penalizer, fallback_penalizers=())
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


def _log_parameter_hessian_by_differences(
    x: np.ndarray, m: np.ndarray, theta: np.ndarray, step: float
) -> np.ndarray:
    """The Hessian of the paper's total log-likelihood in log-parameters by central differences
    with step ``step``."""

    def total(log_params: np.ndarray) -> float:
        return float(np.sum(paper_gamma_gamma_log_likelihood(*np.exp(log_params), x, m)))

    eye = np.eye(3) * step
    return np.array(
        [
            [
                (
                    total(theta + eye[i] + eye[j])
                    - total(theta + eye[i] - eye[j])
                    - total(theta - eye[i] + eye[j])
                    + total(theta - eye[i] - eye[j])
                )
                / (4 * step**2)
                for j in range(3)
            ]
            for i in range(3)
        ]
    )


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_the_exact_hessian_matches_extrapolated_differences_of_the_paper_likelihood(
    cdnow_spend: pd.DataFrame, shift: float
) -> None:
    # at the estimate (gradient 0) and away from it (the gradient term of the chain rule counts)
    x = cdnow_spend["frequency"].to_numpy(dtype=float)
    m = cdnow_spend["monetary_value"].to_numpy(dtype=float)
    fit = gamma_gamma.fit(x, m, fallback_penalizers=())
    theta = np.log(list(fit.params.values())) + np.array([shift, -shift / 2, shift])
    params = dict(zip(gamma_gamma.PARAMETERS, np.exp(theta), strict=True))
    coarse = _log_parameter_hessian_by_differences(x, m, theta, 2e-3)
    fine = _log_parameter_hessian_by_differences(x, m, theta, 1e-3)
    richardson = (4 * fine - coarse) / 3  # cancels the h^2 error term
    exact = gamma_gamma.log_likelihood_hessian(params, x, m)
    assert np.max(np.abs(exact - richardson) / np.abs(richardson)) < 1e-6
    np.testing.assert_allclose(exact, exact.T, rtol=0, atol=0)


def test_the_exact_hessian_weights_rows_like_repeated_rows() -> None:
    params = {"p": 2.1, "q": 3.5, "v": 12.0}
    x, m, w = np.array([1.0, 2.0, 5.0]), np.array([10.0, 30.5, 7.25]), np.array([3.0, 1.0, 2.0])
    weighted = gamma_gamma.log_likelihood_hessian(params, x, m, w)
    counts = w.astype(int)
    repeated = gamma_gamma.log_likelihood_hessian(
        params, np.repeat(x, counts), np.repeat(m, counts)
    )
    np.testing.assert_allclose(weighted, repeated, rtol=1e-13)


def test_a_last_bit_change_of_one_spend_barely_moves_the_covariance(
    cdnow_spend: pd.DataFrame,
) -> None:
    # Two engines may sum one customer's spend to neighbouring doubles; the interval bounds of
    # cltv_predictions are compared to 1e-9 relative between them (make test-spark).
    x = cdnow_spend["frequency"].to_numpy(dtype=float)
    m = cdnow_spend["monetary_value"].to_numpy(dtype=float)
    nudged = m.copy()
    nudged[int(np.argmax(x))] = np.nextafter(nudged[int(np.argmax(x))], np.inf)
    first = np.array(gamma_gamma.fit(x, m, fallback_penalizers=()).log_covariance)
    second = np.array(gamma_gamma.fit(x, nudged, fallback_penalizers=()).log_covariance)
    assert np.max(np.abs(first - second) / np.abs(first)) < 1e-9


def test_gamma_gamma_with_equal_monetary_values_needs_a_penalty() -> None:
    frequency, monetary = [1, 2, 3, 4], [10.0] * 4
    with pytest.raises(ModelFitError, match="did not converge"):
        gamma_gamma.fit(frequency, monetary, penalizer=0.0, fallback_penalizers=())
    fit = gamma_gamma.fit(frequency, monetary)
    assert (fit.attempts, fit.penalizer) == (2, 0.0001) and np.isfinite(fit.log_likelihood)


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

    monkeypatch.setattr(gamma_gamma, "GammaGammaFitter", NanOnce)
    columns = (cdnow_spend["frequency"], cdnow_spend["monetary_value"])
    fit = gamma_gamma.fit(*columns, penalizer=GAMMA_GAMMA_PENALIZER, fallback_penalizers=(0,))
    assert (fit.attempts, fit.penalizer, fit.converged) == (2, 0.0, True)
    assert fit.message == (
        "retried with penalizer 0 after: penalizer 0.001: parameters not finite and positive: v=nan"
    )
    monkeypatch.setattr(gamma_gamma, "GammaGammaFitter", lifetimes.GammaGammaFitter)
    assert fit.params == gamma_gamma.fit(*columns, penalizer=0).params


def test_non_finite_standard_errors_are_reported(
    monkeypatch: pytest.MonkeyPatch, cdnow_spend: pd.DataFrame
) -> None:
    class NanErrors(lifetimes.GammaGammaFitter):
        def fit(self, *args: object, **kwargs: object) -> NanErrors:
            super().fit(*args, **kwargs)
            self.standard_errors_ = self.standard_errors_.where(self.standard_errors_.index != "q")
            return self

    monkeypatch.setattr(gamma_gamma, "GammaGammaFitter", NanErrors)
    fit = gamma_gamma.fit(cdnow_spend["frequency"], cdnow_spend["monetary_value"], penalizer=0)
    assert fit.attempts == 1 and np.isnan(fit.standard_errors["q"])
    assert (
        fit.message == "converged; standard errors not finite for q (Hessian not positive definite)"
    )


def test_a_gamma_gamma_fit_with_q_below_one_everywhere_cannot_be_fitted() -> None:
    frequency, monetary = [1, 2, 3, 4], [150.0, 200.0, 350.0, 120.0]
    with pytest.raises(ModelFitError) as raised:
        gamma_gamma.fit(
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
