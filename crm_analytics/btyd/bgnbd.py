"""BG/NBD (Fader, Hardie and Lee 2005): likelihood, predictions and fitter.

Parameters ``r, alpha, a, b``: while alive, a customer buys at rate
``lambda ~ Gamma(shape r, rate alpha)`` (``alpha`` in model time units); right after each
*repeat* purchase the customer drops out with probability ``p ~ Beta(a, b)``, so a one-time
buyer is certainly alive.

Inputs (the convention of ``lifetimes.utils.summary_data_from_transaction_data``):
``frequency`` = repeat purchases (integers >= 0), ``recency`` = time from the first to the last
purchase and ``T`` = time from the first purchase to the end of the observation period, both in
the model time unit (the project's is a dbt var, default 7 days = weeks). The functions equal
the ``lifetimes.BetaGeoFitter`` methods of the same meaning to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, expit, gammaln

from crm_analytics.btyd.engine import (
    DEFAULT_TRANSACTION_FALLBACKS,
    BetaGeoFitter,
    FitResult,
    fit_transaction_rows,
    lifetimes_attempt,
)
from crm_analytics.btyd.names import BGNBD
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
    """Total BG/NBD log-likelihood (Fader, Hardie and Lee 2005, eq. 6), weighted by customers.

    Times are in the model unit; the value depends on that unit (it is a density in time).
    """
    return weighted_total(
        _log_likelihood_rows,
        unpack_parameters(params, PARAMETERS, BGNBD),
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
    """Per-row BG/NBD log-likelihood: alive at T, or (x > 0) dropped out right after the last
    purchase."""
    common = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    no_dropout = -(r + x) * np.log(alpha + age)
    dropout = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    return common + np.where(x > 0, np.logaddexp(no_dropout, dropout), no_dropout)


def probability_alive(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
) -> FloatArray:
    """P(customer still alive at T | frequency, recency, T) (Hardie, note 021).

    Equals ``BetaGeoFitter.conditional_probability_alive``: 1 for frequency 0 (customers can
    only drop out right after a repeat purchase), also when ``T == 0``.
    """
    x, t_x, age = broadcast(frequency, recency, T)
    with np.errstate(all="ignore"):
        r, alpha, a, b = unpack_parameters(params, PARAMETERS, BGNBD)
        log_div = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(
            a / (b + np.maximum(x, 1) - 1)
        )
        return np.atleast_1d(np.where(x == 0, 1.0, expit(-log_div)))


def expected_purchases(
    params: Mapping[str, float],
    horizon: float | ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
) -> FloatArray:
    """Expected repeat purchases in ``(T, T + horizon]`` given the history (eq. 10).

    ``horizon`` (a number, or an array broadcast with the customers), ``recency`` and ``T`` are
    in the model time unit. Equals
    ``BetaGeoFitter.conditional_expected_number_of_purchases_up_to_time(horizon, ...)``. For a
    customer with ``T == 0`` (first purchase on the analysis date) this is
    `expected_purchases_since_acquisition`. Non-decreasing in ``horizon``, 0 at 0; the closed
    form needs ``a != 1``.
    """
    horizons = checked_horizons(horizon)
    x, t_x, age, t = broadcast(frequency, recency, T, horizons)
    with np.errstate(all="ignore"):
        r, alpha, a, b = unpack_parameters(params, PARAMETERS, BGNBD)
        z = t / (alpha + age + t)
        log_decay = (r + x) * np.log((alpha + age) / (alpha + t + age))
        ln_hyp = log_hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - np.exp(ln_hyp + log_decay)
        odds_dead = np.where(
            x > 0, (a / (b + x - 1)) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0
        )
        return np.atleast_1d((first * second) / (1 + odds_dead))


def expected_purchases_since_acquisition(params: Mapping[str, float], t: ArrayLike) -> FloatArray:
    """Unconditional E[X(t)]: expected repeat purchases in the ``t`` model time units after the
    first purchase (eq. 9),
    ``(a+b-1)/(a-1) * (1 - (alpha/(alpha+t))**r * 2F1(r, b; a+b-1; t/(alpha+t)))``.

    ``t`` is any array (the result has its shape, at least 1-D), >= 0. Equals
    ``BetaGeoFitter.expected_number_of_purchases_up_to_time(t)``.
    """
    t = checked_times(t)
    with np.errstate(all="ignore"):
        r, alpha, a, b = unpack_parameters(params, PARAMETERS, BGNBD)
        z = t / (alpha + t)
        log_decay = r * np.log(alpha / (alpha + t))
        return (a + b - 1) / (a - 1) * -np.expm1(log_hyp2f1(r, b, a + b - 1, z) + log_decay)


def probability_of_repeat_purchases(
    params: Mapping[str, float],
    T: ArrayLike,  # noqa: N803 (the literature's name)
    n: ArrayLike,
) -> FloatArray:
    """P(X(T) = n): the probability of exactly ``n`` repeat purchases in the ``T`` model time
    units after the first purchase (eq. 8).

    ``T`` (>= 0) and ``n`` (integers >= 0) are broadcast together. Equals
    ``BetaGeoFitter.probability_of_n_purchases_up_to_time(T, n)``, written with the regularised
    incomplete beta function instead of ``1 - sum`` (no cancellation); clipped to [0, 1].
    """
    age, count = checked_ages_and_counts(T, n)
    r, alpha, a, b = unpack_parameters(params, PARAMETERS, BGNBD)
    return count_probability(r, alpha, a, b, age, count)


def count_probability(
    r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike, t: FloatArray, n: FloatArray
) -> FloatArray:
    """P(N = n) for a customer alive at the start of a period of ``t`` model time units who
    buys at rate ``lambda ~ Gamma(r, alpha)`` and drops out after each purchase with
    probability ``p ~ Beta(a, b)`` (eq. 8 with array-valued parameters, broadcast with ``t`` and
    ``n``; no checks): ``B(a, b+n)/B(a, b) NBD(n; t) + [n > 0] B(a+1, b+n-1)/B(a, b)
    P(NBD(t) >= n)``, clipped to [0, 1]. A sum of non-negative terms: no cancellation."""
    with np.errstate(all="ignore"):
        r, alpha, a, b, t, n = np.broadcast_arrays(
            *(np.asarray(v, dtype=float) for v in (r, alpha, a, b, t, n))
        )
        log_nbd, at_least_n = nbd_count_terms(r, alpha, t, n)
        alive = np.exp(betaln(a, b + n) - betaln(a, b) + log_nbd)
        died = np.exp(betaln(a + 1, b + np.maximum(n, 1) - 1) - betaln(a, b)) * at_least_n
        result = alive + np.where(n > 0, died, 0.0)
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

    Given the history, the customer is alive at T with probability `probability_alive`, and
    then (the Gamma and Beta priors being conjugate) buys at ``lambda ~ Gamma(r + x,
    alpha + T)`` and drops out with ``p ~ Beta(a, b + x)``, so the count is eq. 8 with those
    parameters; a customer who has dropped out buys nothing:
    ``P(alive) * count_probability(r+x, alpha+T, a, b+x; horizon, n) + (1 - P(alive)) [n=0]``.
    Its mean over ``n`` is `expected_purchases`. All inputs broadcast together.
    """
    horizons = checked_horizons(horizon)
    x, t_x, age, t, count = broadcast(frequency, recency, T, horizons, n)
    r, alpha, a, b = unpack_parameters(params, PARAMETERS, BGNBD)
    alive = probability_alive(params, x, t_x, age)
    alive_count = count_probability(r + x, alpha + age, a, b + x, t, count)
    return np.atleast_1d(np.clip(alive * alive_count + (1 - alive) * (count == 0), 0.0, 1.0))


def fit_attempt(
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,  # noqa: N803 (the literature's name)
    weights: FloatArray,
    penalizer: float,
) -> tuple[Params, Params]:
    """One penalised fit by ``lifetimes.BetaGeoFitter`` (BFGS on log-parameters with an exact
    Hessian) on checked, merged rows: estimates and standard errors. A failure raises
    `engine.FitAttemptError`."""
    return lifetimes_attempt(BetaGeoFitter, PARAMETERS, penalizer, (frequency, recency, T), weights)


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
    """Fit BG/NBD by maximum likelihood.

    Inputs are array-likes of equal length: ``frequency`` (repeat purchases, integers >= 0),
    ``recency`` and ``T`` (model time unit, ``0 <= recency <= T``, recency 0 when frequency is
    0) and ``weights`` (customers per row, > 0; default 1). Identical rows are merged first.
    ``dataset`` only names the data in error messages. The fit is tried with ``penalizer``,
    then each of ``fallback_penalizers`` (`engine.fit_with_fallback`); ``log_likelihood`` of
    the result is the total weighted log-likelihood without the penalty.

    Raises:
        ValueError: an invalid penalizer.
        ModelFitError: invalid or degenerate input, checked before any attempt (no rows; no
            repeat purchases at all, where the model is not identified: the likelihood keeps
            rising as ``r`` goes to 0), or every attempt failed (the message lists them all).
    """
    return fit_transaction_rows(
        BGNBD,
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
