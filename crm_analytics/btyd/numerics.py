"""Array and special-function helpers shared by the BTYD model modules.

Nothing here knows a particular model: inputs are turned into float arrays and checked, named
parameters are unpacked, and the few special functions the closed forms need are computed in a
numerically safe way. Times are in the model time unit wherever they appear.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc, gammaln, hyp2f1, xlogy

from crm_analytics.btyd.names import MODEL_LABELS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
Params = dict[str, float]


def as_float_array(values: ArrayLike) -> FloatArray:
    """A float numpy array from a Series (nullable or Decimal values too) or an array-like."""
    if isinstance(values, pd.DataFrame):
        raise TypeError("pass a Series or an array, not a DataFrame")
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def broadcast(*arrays: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays broadcast to one shape (at least 1-D)."""
    return [np.atleast_1d(a) for a in np.broadcast_arrays(*(as_float_array(a) for a in arrays))]


def unpack_parameters(
    params: Mapping[str, float], names: tuple[str, ...], model: str
) -> tuple[float, ...]:
    """The named parameters of ``model`` as floats; each must be present, finite and positive."""
    missing = [name for name in names if name not in params]
    if missing:
        raise ValueError(f"{MODEL_LABELS[model]} parameters missing: {missing}")
    values = tuple(float(params[name]) for name in names)
    if not all(math.isfinite(value) and value > 0 for value in values):
        raise ValueError(f"{MODEL_LABELS[model]} parameters must be finite and > 0: {params}")
    return values


def weighted_total(
    rows: Callable[..., FloatArray],
    params: tuple[float, ...],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None,
) -> float:
    """Sum of ``rows(*params, x, t_x, T)`` (per-row log-likelihoods) weighted by customers
    (``weights``, default 1 per row)."""
    x, t_x, age = broadcast(frequency, recency, T)
    w = np.ones_like(x) if weights is None else broadcast(weights, x)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = rows(*params, x, t_x, age)
    return float(np.sum(w * per_row))


def checked_horizons(horizon: float | ArrayLike) -> FloatArray:
    """``horizon`` (model time units) as a float array, or a ValueError unless finite and >= 0."""
    horizons = as_float_array(horizon)
    if not np.all(np.isfinite(horizons) & (horizons >= 0)):
        raise ValueError(f"horizon must be finite and >= 0, got {horizon!r}")
    return horizons


def checked_times(t: ArrayLike) -> FloatArray:
    """``t`` (model time units) as an at least 1-D float array, or a ValueError unless finite
    and >= 0."""
    times = np.atleast_1d(as_float_array(t))
    if not np.all(np.isfinite(times) & (times >= 0)):
        raise ValueError("t must be finite and >= 0")
    return times


def checked_ages_and_counts(
    T: ArrayLike,  # noqa: N803 (the literature's name)
    n: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """``T`` (model time units, finite, >= 0) and ``n`` (integers >= 0) broadcast together as
    float arrays, or a ValueError."""
    age, count = broadcast(T, n)
    if not np.all(np.isfinite(age) & (age >= 0)):
        raise ValueError("T must be finite and >= 0")
    if not np.all(np.isfinite(count) & (count >= 0) & (count == np.round(count))):
        raise ValueError("n must be integers >= 0")
    return age, count


def nbd_count_terms(
    r: float, alpha: float, age: FloatArray, count: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The Gamma-Poisson (NBD) count of purchases in ``age`` time units at rate
    ``lambda ~ Gamma(shape r, rate alpha)``: ``log P(N = count)`` and ``P(N >= count)`` (the
    latter for count >= 1; at count 0 it is that of count 1). Call under ``np.errstate``."""
    repeat_share = age / (alpha + age)  # the NBD's "failure" probability
    log_nbd = (
        gammaln(r + count)
        - gammaln(r)
        - gammaln(count + 1)
        + r * np.log(alpha / (alpha + age))
        + xlogy(count, repeat_share)
    )
    at_least_n = betainc(np.maximum(count, 1), r, repeat_share)
    return log_nbd, at_least_n


def log_hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    """log of Gauss's 2F1(a, b; c; z) for 0 <= z < 1.

    Where 2F1 overflows (or scipy gives up), Euler's transformation
    ``2F1(a, b; c; z) = (1 - z)**(c - a - b) * 2F1(c - a, c - b; c; z)`` is used, as lifetimes
    does for BG/NBD.

    The arguments are broadcast together. Runs of equal consecutive arguments are evaluated
    once: callers that score many profiles sort them so that equal (frequency, age) pairs,
    which give equal arguments, are neighbours (at 100 M invoice lines, 1.5 M profiles hold
    29 k such pairs). The values are the same as evaluating every element.
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(value, dtype=float) for value in (a, b, c, z)))
    if a.ndim == 1 and a.size > 1:
        changed = np.zeros(a.size, dtype=bool)
        changed[0] = True
        for values in (a, b, c, z):
            # NaN != NaN: a NaN starts a run of its own, so it is never merged
            changed[1:] |= values[1:] != values[:-1]
        if not changed.all():
            starts = np.flatnonzero(changed)
            run_of_element = np.cumsum(changed) - 1
            firsts = log_hyp2f1(a[starts], b[starts], c[starts], z[starts])
            return firsts[run_of_element]
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(a, b, c, z))
        if np.all(np.isfinite(direct)):
            return direct
        euler = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
        return np.where(np.isfinite(direct), direct, euler)


def one_minus_power_over(k: float, y: FloatArray) -> FloatArray:
    """``(1 - y**k) / k`` for y > 0, and its limit ``-log(y)`` at k = 0."""
    log_y = np.log(y)
    if k == 0:
        return -log_y
    return -np.expm1(k * log_y) / k
