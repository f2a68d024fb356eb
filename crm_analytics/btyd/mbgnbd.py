"""MBG/NBD (Batislam, Denizel and Filiztekin 2007): likelihood, predictions and fitter.

Parameters ``r, alpha, a, b``: as BG/NBD (purchase rate ``lambda ~ Gamma(shape r, rate
alpha)``, ``alpha`` in model time units; dropout probability ``p ~ Beta(a, b)``), but the
customer can also drop out right after the *first* purchase, so a one-time buyer is not
certainly alive.

Inputs are those of `crm_analytics.btyd.bgnbd` (``frequency`` = repeat purchases, ``recency``
and ``T`` in the model time unit). The functions equal the ``lifetimes.ModifiedBetaGeoFitter``
methods of the same meaning to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, expit, gammaln

from crm_analytics.btyd.bgnbd import count_probability
from crm_analytics.btyd.engine import (
    DEFAULT_TRANSACTION_FALLBACKS,
    FitResult,
    ModifiedBetaGeoFitter,
    fit_transaction_rows,
    lifetimes_attempt,
)
from crm_analytics.btyd.names import MBGNBD
from crm_analytics.btyd.numerics import (
    FloatArray,
    Params,
    broadcast,
    checked_ages_and_counts,
    checked_horizons,
    checked_times,
    log_hyp2f1,
    nbd_count_terms,
    unpack_parameters,
    weighted_total,
)

PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b")


def log_likelihood(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
) -> float:
    """Total MBG/NBD log-likelihood (Batislam et al. 2007), weighted by customers.

    As BG/NBD, plus the dropout right after the first purchase, so one-time buyers also have a
    dropout term. Times are in the model unit.
    """
    return weighted_total(
        _log_likelihood_rows,
        unpack_parameters(params, PARAMETERS, MBGNBD),
        frequency,
        recency,
        T,
        weights,
    )


def _log_likelihood_rows(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: FloatArray,
    t_x: FloatArray,
    age: FloatArray,
) -> FloatArray:
    """Per-row MBG/NBD log-likelihood: alive at T, or dropped out right after the last purchase
    (the first purchase when x = 0)."""
    common = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x + 1)
        - gammaln(b)
        - gammaln(a + b + x + 1)
    )
    alive = -(r + x) * np.log(alpha + age)
    dropout = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
    return common + np.logaddexp(alive, dropout)


def probability_alive(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
) -> FloatArray:
    """P(customer still alive at T | frequency, recency, T).

    Equals ``ModifiedBetaGeoFitter.conditional_probability_alive``; below 1 for one-time buyers
    too (``b / (a + b)`` at ``T == 0``).
    """
    x, t_x, age = broadcast(frequency, recency, T)
    with np.errstate(all="ignore"):
        r, alpha, a, b = unpack_parameters(params, PARAMETERS, MBGNBD)
        log_div = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(a / (b + x))
        return np.atleast_1d(expit(-log_div))


def expected_purchases(
    params: Mapping[str, float],
    horizon: float | ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
) -> FloatArray:
    """Expected repeat purchases in ``(T, T + horizon]`` given the history (Wagner and Hoppe
    2008).

    ``horizon`` (a number, or an array broadcast with the customers), ``recency`` and ``T`` are
    in the model time unit. Equals
    ``ModifiedBetaGeoFitter.conditional_expected_number_of_purchases_up_to_time``. At
    ``T == 0`` this is `expected_purchases_since_acquisition`. The closed form needs
    ``a != 1``.
    """
    horizons = checked_horizons(horizon)
    x, t_x, age, t = broadcast(frequency, recency, T, horizons)
    with np.errstate(all="ignore"):
        r, alpha, a, b = unpack_parameters(params, PARAMETERS, MBGNBD)
        z = t / (alpha + age + t)
        log_decay = (r + x) * np.log((alpha + age) / (alpha + t + age))
        ln_hyp = log_hyp2f1(r + x, b + x + 1, a + b + x, z)
        if_alive = (a + b + x) / (a - 1) * -np.expm1(ln_hyp + log_decay)
        return np.atleast_1d(if_alive * probability_alive(params, x, t_x, age))


def expected_purchases_since_acquisition(params: Mapping[str, float], t: ArrayLike) -> FloatArray:
    """Unconditional E[X(t)]: expected repeat purchases in the ``t`` model time units after the
    first purchase, ``b/(a-1) * (1 - (alpha/(alpha+t))**r * 2F1(r, b+1; a+b; t/(alpha+t)))``.

    ``t`` is any array (the result has its shape, at least 1-D), >= 0. Equals
    ``ModifiedBetaGeoFitter.expected_number_of_purchases_up_to_time(t)``.
    """
    t = checked_times(t)
    with np.errstate(all="ignore"):
        r, alpha, a, b = unpack_parameters(params, PARAMETERS, MBGNBD)
        z = t / (alpha + t)
        log_decay = r * np.log(alpha / (alpha + t))
        return b / (a - 1) * -np.expm1(log_hyp2f1(r, b + 1, a + b, z) + log_decay)


def probability_of_repeat_purchases(
    params: Mapping[str, float],
    T: ArrayLike,  # noqa: N803 (the literature's name)
    n: ArrayLike,
) -> FloatArray:
    """P(X(T) = n): the probability of exactly ``n`` repeat purchases in the ``T`` model time
    units after the first purchase (BG/NBD's eq. 8 with the dropout after the first purchase).

    ``T`` (>= 0) and ``n`` (integers >= 0) are broadcast together. Equals
    ``ModifiedBetaGeoFitter.probability_of_n_purchases_up_to_time(T, n)``, written with the
    regularised incomplete beta function instead of ``1 - sum``; clipped to [0, 1].
    """
    age, count = checked_ages_and_counts(T, n)
    r, alpha, a, b = unpack_parameters(params, PARAMETERS, MBGNBD)
    with np.errstate(all="ignore"):
        log_nbd, at_least_n = nbd_count_terms(r, alpha, age, count)
        alive = np.exp(betaln(a, b + count + 1) - betaln(a, b) + log_nbd)
        died = np.exp(betaln(a + 1, b + count) - betaln(a, b))
        result = alive + died * np.where(count > 0, at_least_n, 1.0)
    return np.atleast_1d(np.clip(result, 0.0, 1.0))


def conditional_probability_of_purchases(
    params: Mapping[str, float],
    horizon: float | ArrayLike,
    n: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
) -> FloatArray:
    """P(X(T, T + horizon) = n | frequency, recency, T): the probability of exactly ``n``
    purchases in the ``horizon`` model time units after T, given the customer's history.

    A customer alive at T (probability `probability_alive`) has survived ``x + 1`` dropout
    chances, so buys at ``lambda ~ Gamma(r + x, alpha + T)`` and drops out after each further
    purchase with ``p ~ Beta(a, b + x + 1)``: the BG/NBD count
    (`crm_analytics.btyd.bgnbd.count_probability`) with those parameters; one who has dropped
    out buys nothing. Its mean over ``n`` is `expected_purchases`. All inputs broadcast.
    """
    horizons = checked_horizons(horizon)
    x, t_x, age, t, count = broadcast(frequency, recency, T, horizons, n)
    r, alpha, a, b = unpack_parameters(params, PARAMETERS, MBGNBD)
    alive = probability_alive(params, x, t_x, age)
    alive_count = count_probability(r + x, alpha + age, a, b + x + 1, t, count)
    return np.atleast_1d(np.clip(alive * alive_count + (1 - alive) * (count == 0), 0.0, 1.0))


def fit_attempt(
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,  # noqa: N803 (the literature's name)
    weights: FloatArray,
    penalizer: float,
) -> tuple[Params, Params]:
    """One penalised fit by ``lifetimes.ModifiedBetaGeoFitter`` (BFGS on log-parameters with an
    exact Hessian) on checked, merged rows: estimates and standard errors. A failure raises
    `engine.FitAttemptError`."""
    return lifetimes_attempt(
        ModifiedBetaGeoFitter, PARAMETERS, penalizer, (frequency, recency, T), weights
    )


def fit(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
    penalizer: float = 0.001,
    fallback_penalizers: Sequence[float] = DEFAULT_TRANSACTION_FALLBACKS,
    *,
    dataset: str | None = None,
) -> FitResult:
    """Fit MBG/NBD by maximum likelihood: inputs, fallback rule and errors as
    `crm_analytics.btyd.bgnbd.fit`.

    Raises:
        ValueError: an invalid penalizer.
        ModelFitError: invalid or degenerate input, or every attempt failed.
    """
    return fit_transaction_rows(
        MBGNBD,
        fit_attempt,
        log_likelihood,
        frequency,
        recency,
        T,
        weights,
        penalizer,
        fallback_penalizers,
        dataset,
    )
