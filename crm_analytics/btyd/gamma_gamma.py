"""Gamma-Gamma (Fader, Hardie and Lee 2005; Hardie, note 025): spend per purchase.

Parameters ``p, q, v``: a purchase value is ``Gamma(shape p, rate nu)`` with
``nu ~ Gamma(shape q, rate v)`` per customer; ``v`` is in currency units. The model describes
the mean value ``monetary_value`` of a customer's ``frequency`` repeat purchases, so it is
defined for repeat buyers (frequency > 0) only. The functions equal the
``lifetimes.GammaGammaFitter`` methods of the same meaning to rounding.

The ``lifetimes`` penalty applies to ``v`` in currency units, so even the course's
``penalizer = 0.01`` shrinks ``v`` and ``q`` strongly (CDNOW: q = 3.74 unpenalised, 0.97 with
0.01). An attempt with ``q <= 1`` fails: the population mean purchase value ``p * v / (q - 1)``
does not exist, and the expected average profit of one-time buyers would be negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln, polygamma

from crm_analytics.btyd.engine import (
    FitAttemptError,
    FitResult,
    GammaGammaFitter,
    fit_error,
    fit_with_fallback,
    lifetimes_attempt,
    merge_identical_rows,
    raise_on_bad_rows,
    validated_columns,
)
from crm_analytics.btyd.names import GAMMA_GAMMA
from crm_analytics.btyd.numerics import FloatArray, Params, broadcast, unpack_parameters

PARAMETERS: tuple[str, ...] = ("p", "q", "v")
# After an unpenalised first attempt: these penalizers (a penalty only pulls q further below 1,
# which is rejected, so they stay small); after a penalized one, 0 then the penalizer times
# these factors (fit_models).
DEFAULT_FALLBACKS: tuple[float, ...] = (0.0001, 0.001)
FALLBACK_FACTORS: tuple[float, ...] = (10.0, 100.0)


def log_likelihood(
    params: Mapping[str, float],
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total Gamma-Gamma log-likelihood of the mean purchase values (note 025, eq. 1a).

    Only meaningful for repeat buyers (frequency > 0, monetary value > 0, currency units);
    weighted by customers (``weights``, default 1 per row).
    """
    p, q, v = unpack_parameters(params, PARAMETERS, GAMMA_GAMMA)
    x, m = broadcast(frequency, monetary_value)
    w = np.ones_like(x) if weights is None else broadcast(weights, x)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(x * m + v)
        )
    return float(np.sum(w * per_row))


def log_likelihood_hessian(
    params: Mapping[str, float],
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> FloatArray:
    """The Hessian of `log_likelihood` in the log-parameters ``(log p, log q, log v)``, exact.

    Differentiated by hand from note 025's eq. 1a (``psi`` the digamma, ``psi1`` the trigamma
    function, ``x`` the frequency, ``m`` the mean spend, ``s = x m + v``): the gradient in
    ``(p, q, v)`` is ``x (psi(px+q) - psi(px) + log(m x / s))``, ``psi(px+q) - psi(q) +
    log(v / s)`` and ``q / v - (px+q) / s``; the second derivatives follow, and the chain rule
    for ``theta = log(param)`` gives ``param_i param_j H_ij + [i = j] param_i g_i``. A 3 x 3
    array, per unit of log-likelihood (nats) per unit of log-parameter squared.

    The covariance of the CLV intervals comes from it: a numerical Hessian is accurate to only
    about 1e-5 relative, which moved the interval bounds by 1e-7 between two engines whose
    mean spends differed in the last bit (issue 14). Repeat buyers only, as `log_likelihood`.
    """
    p, q, v = unpack_parameters(params, PARAMETERS, GAMMA_GAMMA)
    x, m = broadcast(frequency, monetary_value)
    w = np.ones_like(x) if weights is None else broadcast(weights, x)[0]
    s = x * m + v
    gradient = np.array(
        [
            np.sum(w * x * (digamma(p * x + q) - digamma(p * x) + np.log(m * x / s))),
            np.sum(w * (digamma(p * x + q) - digamma(q) + np.log(v / s))),
            np.sum(w * (q / v - (p * x + q) / s)),
        ]
    )
    trigamma_sum = polygamma(1, p * x + q)
    pp = np.sum(w * x**2 * (trigamma_sum - polygamma(1, p * x)))
    pq = np.sum(w * x * trigamma_sum)
    pv = np.sum(w * -x / s)
    qq = np.sum(w * (trigamma_sum - polygamma(1, q)))
    qv = np.sum(w * (1 / v - 1 / s))
    vv = np.sum(w * (-q / v**2 + (p * x + q) / s**2))
    raw = np.array([[pp, pq, pv], [pq, qq, qv], [pv, qv, vv]])
    theta = np.array([p, q, v])
    return np.asarray(raw * np.outer(theta, theta) + np.diag(theta * gradient), dtype=float)


def expected_average_profit(
    params: Mapping[str, float], frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Expected mean value of a customer's future purchases (note 025, eq. 5), currency units.

    A weighted mean of the population mean ``p * v / (q - 1)`` and the customer's observed mean
    ``monetary_value``, the weight of the latter growing with ``frequency``. For frequency 0 it
    is the population mean and ``monetary_value`` is ignored (it may be 0 or NaN there). Equals
    ``GammaGammaFitter.conditional_expected_average_profit``. Needs ``q > 1`` for the
    population mean to exist (otherwise the result is meaningless).
    """
    p, q, v = unpack_parameters(params, PARAMETERS, GAMMA_GAMMA)
    x, m = broadcast(frequency, monetary_value)
    with np.errstate(all="ignore"):
        individual_weight = p * x / (p * x + q - 1)
        population_mean = v * p / (q - 1)
        blended = (1 - individual_weight) * population_mean + individual_weight * m
        return np.atleast_1d(np.where(x == 0, population_mean, blended))


def fit_attempt(
    frequency: FloatArray, monetary_value: FloatArray, weights: FloatArray, penalizer: float
) -> tuple[Params, Params]:
    """One penalised fit by ``lifetimes.GammaGammaFitter`` on checked, merged rows of repeat
    buyers: estimates and standard errors. A failure raises `engine.FitAttemptError`."""
    return lifetimes_attempt(
        GammaGammaFitter, PARAMETERS, penalizer, (frequency, monetary_value), weights
    )


def fit(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    fallback_penalizers: Sequence[float] = DEFAULT_FALLBACKS,
    *,
    dataset: str | None = None,
) -> FitResult:
    """Fit Gamma-Gamma by maximum likelihood.

    Rows with ``frequency == 0`` are dropped here (whatever their monetary value), and the
    remaining rows need a finite ``monetary_value > 0`` (mean value of the repeat purchases,
    currency units). ``weights`` are customers per row (> 0; default 1); identical rows are
    merged first. ``dataset`` only names the data in error messages. The fallback rule is that
    of `engine.fit_with_fallback`, plus: an attempt with ``q <= 1`` fails.

    A very small sample (one repeat buyer, or all monetary values equal) has no finite
    unpenalised maximum: the attempt with penalizer 0 fails to converge, a positive penalizer
    gives an estimate dominated by the penalty.

    Raises:
        ValueError: an invalid penalizer.
        ModelFitError: no rows, no repeat buyers, invalid values, or every attempt failed.
    """
    x, m, w = _validated_inputs(frequency, monetary_value, weights, dataset)
    rows = merge_identical_rows({"frequency": x, "monetary_value": m}, w)
    x, m, w = rows["frequency"], rows["monetary_value"], rows["weights"]
    return fit_with_fallback(
        GAMMA_GAMMA,
        dataset,
        penalizer,
        fallback_penalizers,
        lambda pen: fit_attempt(x, m, w, pen),
        lambda params: log_likelihood(params, x, m, w),
        w,
        accept=_require_mean_spend,
        log_likelihood_hessian=lambda params: log_likelihood_hessian(params, x, m, w),
    )


def _require_mean_spend(params: Mapping[str, float]) -> None:
    """Fail an attempt whose population mean spend ``p * v / (q - 1)`` does not exist."""
    if params["q"] <= 1:
        raise FitAttemptError(f"q = {params['q']:.4g} <= 1: the mean spend p*v/(q-1) is undefined")


def _validated_inputs(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None,
    dataset: str | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The inputs of the repeat buyers as float arrays, or a ModelFitError saying what is
    wrong."""
    arrays, w = validated_columns(
        GAMMA_GAMMA, dataset, {"frequency": frequency, "monetary_value": monetary_value}, weights
    )
    repeat = arrays["frequency"] > 0
    x, m, w = arrays["frequency"][repeat], arrays["monetary_value"][repeat], w[repeat]
    if x.size == 0:
        raise fit_error(
            GAMMA_GAMMA, dataset, "no repeat buyers (every frequency is 0); the model needs some"
        )
    checks = {
        "non-finite or non-positive monetary_value of repeat buyers": ~(np.isfinite(m) & (m > 0))
    }
    raise_on_bad_rows(GAMMA_GAMMA, dataset, checks)
    return x, m, w
