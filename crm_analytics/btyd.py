"""BTYD models: purchase counts (BG/NBD, Pareto/NBD, MBG/NBD) and spend per purchase (Gamma-Gamma).

Fitting, predictions and the table-level functions used by the project's dbt Python models.
The ``lifetimes`` package is used only in this module, so it can be swapped without touching the
callers: its fitters do the maximum-likelihood fits of BG/NBD, MBG/NBD and Gamma-Gamma. Pareto/NBD
is fitted here with scipy (see `fit_transaction_model` for why). The likelihoods and prediction
formulas are written out here (numpy / scipy); they equal the ``lifetimes`` methods of the same
name to rounding, and `probability_of_repeat_purchases` also covers Pareto/NBD, where
``lifetimes`` has no such method.

Units and conventions (those of ``lifetimes.utils.summary_data_from_transaction_data``):

* ``frequency``: repeat purchases, i.e. purchase periods after the first one (an integer >= 0).
* ``recency``: time from the first to the last purchase, in the *model time unit*.
* ``T``: time from the first purchase to the end of the observation period (the analysis date),
  in the same unit. The project's unit is a dbt var (default 7 days = weeks).
* ``monetary_value``: mean value of the repeat purchases, in currency units (0 or anything for
  one-time buyers: it is not used for them).
* ``weights``: the number of customers a row stands for (positive, not necessarily integer).
  Identical rows are merged before fitting: one row per customer, or the distinct rows with
  their customer counts, give the same fit (up to floating-point summation order).
* Transaction models (`TRANSACTION_MODELS`), each with a purchase rate
  ``lambda ~ Gamma(shape r, rate alpha)`` (``alpha`` in model time units) while alive:

  - ``bgnbd`` (BG/NBD, Fader, Hardie and Lee 2005), parameters ``r, alpha, a, b``: after each
    repeat purchase the customer drops out with probability ``p ~ Beta(a, b)``.
  - ``mbgnbd`` (MBG/NBD, Batislam, Denizel and Filiztekin 2007), parameters ``r, alpha, a, b``:
    as BG/NBD, but the customer can also drop out right after the first purchase, so a one-time
    buyer is not certainly alive.
  - ``pareto_nbd`` (Pareto/NBD, Schmittlein, Morrison and Colombo 1987), parameters
    ``r, alpha, s, beta``: the lifetime is exponential with rate ``mu ~ Gamma(shape s,
    rate beta)``, ``beta`` in model time units (dropout can happen at any time).

* Gamma-Gamma parameters ``p, q, v``: a purchase value is ``Gamma(shape p, rate nu)`` with
  ``nu ~ Gamma(shape q, rate v)``; ``v`` is in currency units.

The penalty is the one of ``lifetimes`` 0.11.3 (but for its Pareto/NBD fitter: see
`fit_transaction_model`): ``penalizer * sum(params**2)`` added to the *mean* negative
log-likelihood per customer, so its weight does not shrink as the data grow. For the
transaction models it applies to ``alpha`` (and ``beta``) in rescaled time (``alpha / max(T)``);
for Gamma-Gamma it applies to ``v`` in currency units, so even the course's ``penalizer = 0.01``
shrinks ``v`` and ``q`` strongly (CDNOW: q = 3.74 unpenalised, 0.97 with 0.01). A Gamma-Gamma
attempt with ``q <= 1`` fails (its population mean purchase value does not exist, and the
expected average profit of one-time buyers would be negative), so the fallback goes on to the
next penalizer.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betainc, betaln, expit, gammaln, hyp2f1, xlogy

# lifetimes changes the global warning filters when imported (and warns about pandas options):
# keep both inside this block.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", module="lifetimes")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter
    from lifetimes.utils import ConvergenceError

BGNBD = "bgnbd"
PARETO_NBD = "pareto_nbd"
MBGNBD = "mbgnbd"
GAMMA_GAMMA = "gamma_gamma"
TRANSACTION_MODELS: tuple[str, ...] = (BGNBD, PARETO_NBD, MBGNBD)
BGNBD_PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b")
PARETO_NBD_PARAMETERS: tuple[str, ...] = ("r", "alpha", "s", "beta")
MBGNBD_PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS: tuple[str, ...] = ("p", "q", "v")
MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    BGNBD: BGNBD_PARAMETERS,
    PARETO_NBD: PARETO_NBD_PARAMETERS,
    MBGNBD: MBGNBD_PARAMETERS,
    GAMMA_GAMMA: GAMMA_GAMMA_PARAMETERS,
}
MODEL_LABELS: dict[str, str] = {
    BGNBD: "BG/NBD",
    PARETO_NBD: "Pareto/NBD",
    MBGNBD: "MBG/NBD",
    GAMMA_GAMMA: "Gamma-Gamma",
}

DEFAULT_BGNBD_FALLBACKS: tuple[float, ...] = (0.01, 0.1, 1.0)
# Gamma-Gamma: a penalty only pulls q further below 1 (rejected), so its fallbacks stay small.
DEFAULT_GAMMA_GAMMA_FALLBACKS: tuple[float, ...] = (0.0001, 0.001)
# fit_models: after the configured penalizer, the unpenalised fit (0), then the configured
# penalizer times these factors. The BG/NBD ones serve every transaction model.
BGNBD_FALLBACK_FACTORS: tuple[float, ...] = (10.0, 100.0, 1000.0)
GAMMA_GAMMA_FALLBACK_FACTORS: tuple[float, ...] = (10.0, 100.0)
# An estimate outside [MIN_PARAMETER, MAX_PARAMETER] has run off to the boundary of the
# parameter space (e.g. BG/NBD a = 3.8e-14 on the 2009-2010 sheet with penalizer 0.1): the
# optimiser "converged" on a degenerate model whose predictions overflow. Such an attempt fails.
MIN_PARAMETER = 1e-8
MAX_PARAMETER = 1e8
Z_95 = 1.96  # the normal quantile of lifetimes' "95% bound" columns

# Pareto/NBD optimiser (log-parameters, time rescaled to max(T) = 1): Nelder-Mead from all
# parameters 1, then Newton steps on central-difference derivatives, which also give the Hessian
# of the standard errors.
PARETO_NBD_NELDER_MEAD_OPTIONS: dict[str, float] = {
    "xatol": 1e-9,
    "fatol": 1e-13,
    "maxiter": 4_000,
    "maxfev": 8_000,
}
PARETO_NBD_NEWTON_STEPS = 20
PARETO_NBD_NEWTON_TOLERANCE = 1e-7  # log-parameters
_GRADIENT_STEP = 1e-5  # log-parameter steps of the central differences
_HESSIAN_STEP = 1e-4

PARAMETER_COLUMNS: tuple[str, ...] = (
    "dataset",
    "model",
    "parameter",
    "estimate",
    "standard_error",
    "ci_lower",
    "ci_upper",
    "log_likelihood",
    "n_customers",
    "n_rows",
    "converged",
    "penalizer",
    "attempts",
    "fit_message",
)
PARAMETER_DTYPES: dict[str, str] = {
    "estimate": "float64",
    "standard_error": "float64",
    "ci_lower": "float64",
    "ci_upper": "float64",
    "log_likelihood": "float64",
    "n_customers": "float64",
    "n_rows": "int64",
    "converged": "bool",
    "penalizer": "float64",
    "attempts": "int64",
}
BGNBD_INPUT_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "recency", "T", "customers")
TRANSACTION_INPUT_COLUMNS = BGNBD_INPUT_COLUMNS
GAMMA_GAMMA_INPUT_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "monetary_value", "customers")
PROFILE_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "recency", "T", "monetary_value")

FloatArray = NDArray[np.float64]
_Result = TypeVar("_Result")


class ModelFitError(RuntimeError):
    """A model that cannot be fitted; the message names the dataset, the model and why.

    ``reasons`` lists why (one per failed attempt, or the input problem); ``attempts`` is the
    number of fitting attempts made (0 when the input was refused before any).
    """

    def __init__(
        self,
        message: str,
        *,
        dataset: str | None = None,
        model: str | None = None,
        reasons: Sequence[str] = (),
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.model = model
        self.reasons = tuple(reasons)
        self.attempts = attempts


@dataclass(frozen=True)
class FitResult:
    """One fitted model.

    ``params`` are in the model's units (see the module docstring). ``standard_errors`` come
    from the inverse Hessian of the minimised objective (the weighted negative log-likelihood
    of all customers, plus the penalty when ``penalizer > 0``) at the estimate; ``lower_95`` and
    ``upper_95`` are the Wald bounds ``estimate -/+ 1.96 * standard_error`` (they can fall below
    0 for weakly identified parameters). ``log_likelihood`` is the total over customers
    (weighted), without the penalty, with times in the model unit.
    """

    model: str
    params: dict[str, float]
    standard_errors: dict[str, float]
    lower_95: dict[str, float]
    upper_95: dict[str, float]
    log_likelihood: float
    n_customers: float
    n_rows: int
    converged: bool
    penalizer: float
    attempts: int
    message: str


class _AttemptError(Exception):
    """One penalizer's attempt failed; the message is the reason."""


# --------------------------------------------------------------------------------------------
# Log-likelihoods (model time unit, no penalty)
# --------------------------------------------------------------------------------------------


def bgnbd_log_likelihood(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
) -> float:
    """Total BG/NBD log-likelihood (Fader, Hardie and Lee 2005, eq. 6), weighted by customers.

    Times are in the model unit; the value depends on that unit (it is a density in time).
    """
    r, alpha, a, b = _unpack(params, BGNBD_PARAMETERS, BGNBD)
    x, t_x, age = _broadcast(frequency, recency, T)
    w = np.ones_like(x) if weights is None else _broadcast(weights, x)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
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
        per_row = common + np.where(x > 0, np.logaddexp(no_dropout, dropout), no_dropout)
    return float(np.sum(w * per_row))


def mbgnbd_log_likelihood(
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
    return _weighted_total(
        _mbgnbd_log_likelihood_rows,
        _unpack(params, MBGNBD_PARAMETERS, MBGNBD),
        frequency,
        recency,
        T,
        weights,
    )


def pareto_nbd_log_likelihood(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
) -> float:
    """Total Pareto/NBD log-likelihood (Fader and Hardie, note 009, eq. 18), weighted.

    Times are in the model unit. ``lifetimes``' ``ParetoNBDFitter._negative_log_likelihood``
    divides the weighted total by the *mean* weight (not the sum): this function returns the
    total itself.
    """
    return _weighted_total(
        _pareto_nbd_log_likelihood_rows,
        _unpack(params, PARETO_NBD_PARAMETERS, PARETO_NBD),
        frequency,
        recency,
        T,
        weights,
    )


def _weighted_total(
    rows: Callable[..., FloatArray],
    params: tuple[float, ...],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None,
) -> float:
    """Sum of ``rows(*params, x, t_x, T)`` (per-row log-likelihoods) weighted by customers."""
    x, t_x, age = _broadcast(frequency, recency, T)
    w = np.ones_like(x) if weights is None else _broadcast(weights, x)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = rows(*params, x, t_x, age)
    return float(np.sum(w * per_row))


def transaction_log_likelihood(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
    model: str = BGNBD,
) -> float:
    """Total log-likelihood of one of the `TRANSACTION_MODELS` (see the functions above)."""
    functions = {
        BGNBD: bgnbd_log_likelihood,
        PARETO_NBD: pareto_nbd_log_likelihood,
        MBGNBD: mbgnbd_log_likelihood,
    }
    return functions[_transaction_model(model)](params, frequency, recency, T, weights)


def gamma_gamma_log_likelihood(
    params: Mapping[str, float],
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total Gamma-Gamma log-likelihood of the mean purchase values (Hardie, note 025, eq. 1a).

    Only meaningful for repeat buyers (frequency > 0, monetary value > 0); weighted by customers.
    """
    p, q, v = _unpack(params, GAMMA_GAMMA_PARAMETERS, GAMMA_GAMMA)
    x, m = _broadcast(frequency, monetary_value)
    w = np.ones_like(x) if weights is None else _broadcast(weights, x)[0]
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


def _mbgnbd_log_likelihood_rows(
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


def _pareto_nbd_log_likelihood_rows(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: FloatArray,
    t_x: FloatArray,
    age: FloatArray,
) -> FloatArray:
    """Per-row Pareto/NBD log-likelihood (note 009, eq. 18): alive at T, or died in (t_x, T]."""
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    died = np.log(s) - np.log(r + s + x) + _pareto_nbd_log_a0(r, alpha, s, beta, x, t_x, age)
    return common + np.logaddexp(alive, died)


def _pareto_nbd_log_a0(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: FloatArray,
    t_x: FloatArray,
    age: FloatArray,
) -> FloatArray:
    """log A_0 of note 009 (eqs. 19-20): the integral over the death time in (t_x, T];
    -inf where ``t_x == T``."""
    rsx = r + s + x
    if alpha >= beta:
        larger, gap, second = alpha, alpha - beta, s + 1
    else:
        larger, gap, second = beta, beta - alpha, r + x
    at_recency = _log_hyp2f1(rsx, second, rsx + 1, gap / (larger + t_x)) - rsx * np.log(
        larger + t_x
    )
    at_age = _log_hyp2f1(rsx, second, rsx + 1, gap / (larger + age)) - rsx * np.log(larger + age)
    # A_0 = exp(at_recency) - exp(at_age) >= 0 (equal when t_x == T; rounding can invert them)
    return at_recency + np.log1p(-np.exp(np.minimum(at_age - at_recency, 0.0)))


def _log_hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    """log of Gauss's 2F1(a, b; c; z) for 0 <= z < 1.

    Where 2F1 overflows (or scipy gives up), Euler's transformation
    ``2F1(a, b; c; z) = (1 - z)**(c - a - b) * 2F1(c - a, c - b; c; z)`` is used, as lifetimes
    does for BG/NBD.
    """
    a, b, c, z = (np.asarray(value, dtype=float) for value in (a, b, c, z))
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(a, b, c, z))
        if np.all(np.isfinite(direct)):
            return direct
        euler = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
        return np.where(np.isfinite(direct), direct, euler)


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


def fit_transaction_model(
    model: str,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
    penalizer: float = 0.001,
    fallback_penalizers: Sequence[float] = DEFAULT_BGNBD_FALLBACKS,
    *,
    dataset: str | None = None,
) -> FitResult:
    """Fit one of the `TRANSACTION_MODELS` (``bgnbd``, ``pareto_nbd``, ``mbgnbd``) by maximum
    likelihood.

    Inputs are array-likes of equal length: ``frequency`` (repeat purchases, integers >= 0),
    ``recency`` and ``T`` (model time unit, ``0 <= recency <= T``, recency 0 when frequency is 0)
    and ``weights`` (customers per row, > 0; default 1). Identical rows are merged first.
    ``dataset`` only names the data in error messages.

    BG/NBD and MBG/NBD are fitted by ``lifetimes`` (``BetaGeoFitter``,
    ``ModifiedBetaGeoFitter``: BFGS on log-parameters with an exact Hessian). Pareto/NBD is
    fitted here: ``lifetimes.ParetoNBDFitter`` starts Nelder-Mead at a *random* point with a
    tolerance of 1e-4, does not report non-convergence, gives no standard errors and divides
    its penalised objective by the mean weight instead of the number of customers (so its
    penalty depends on how rows were merged). Here the objective is that of the other models
    (mean negative log-likelihood per customer plus ``penalizer * sum(params**2)`` with ``alpha``
    and ``beta`` in time rescaled to ``max(T) = 1``), minimised over log-parameters by
    Nelder-Mead from all parameters 1 (``PARETO_NBD_NELDER_MEAD_OPTIONS``), then polished by
    Newton steps on central-difference derivatives; the standard errors come from the
    central-difference Hessian. With ``penalizer = 0`` the estimate maximises the same
    likelihood as ``lifetimes``. On CDNOW: r = 0.553, alpha = 10.578, s = 0.606,
    beta = 11.668 (published 11.669; the likelihood is flat along beta/s).

    Fallback rule: the fit is tried with ``penalizer``, then with each of
    ``fallback_penalizers`` in turn, until one attempt is good. An attempt fails when the
    optimiser raises or reports no convergence (``lifetimes``' ``ConvergenceError``, or
    Nelder-Mead hitting its iteration limit), when a parameter is not finite and > 0, when a
    parameter has run off to the boundary (outside [MIN_PARAMETER, MAX_PARAMETER]), or when the
    log-likelihood at the estimate is not finite. A penalizer already tried is skipped. The
    first good attempt is returned with ``attempts`` (1 = first try) and ``message``
    (``'converged'`` or ``'retried with penalizer X after: <reasons>'``); ``converged`` is
    always True for a returned fit. Standard errors that are not finite (Hessian not positive
    definite) do not fail an attempt: they are NaN and the message says so.
    ``log_likelihood`` is the total weighted log-likelihood without the penalty, in the model
    time unit.

    Raises:
        ValueError: an unknown model or an invalid penalizer.
        ModelFitError: invalid or degenerate input, checked before any attempt (no rows; no
            repeat purchases at all, where the model is not identified: the likelihood keeps
            rising as ``r`` goes to 0), or every attempt failed (the message lists them all).
    """
    model = _transaction_model(model)
    x, t_x, age, w = _validated_transaction_inputs(model, frequency, recency, T, weights, dataset)
    rows = _merge_identical_rows({"frequency": x, "recency": t_x, "T": age}, w)
    x, t_x, age = rows["frequency"], rows["recency"], rows["T"]
    w = rows["weights"]

    def attempt(pen: float) -> tuple[dict[str, float], dict[str, float]]:
        if model == PARETO_NBD:
            return _call_quietly(_fit_pareto_nbd, x, t_x, age, w, pen)
        fitter = _lifetimes_fitter(model)(penalizer_coef=pen)
        _call_quietly(
            fitter.fit, pd.Series(x), pd.Series(t_x), pd.Series(age), weights=pd.Series(w)
        )
        return _params_and_errors(fitter, MODEL_PARAMETERS[model])

    def log_likelihood(params: Mapping[str, float]) -> float:
        return transaction_log_likelihood(params, x, t_x, age, w, model=model)

    return _fit_with_fallback(
        model, dataset, penalizer, fallback_penalizers, attempt, log_likelihood, w
    )


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
    penalizer: float = 0.001,
    fallback_penalizers: Sequence[float] = DEFAULT_BGNBD_FALLBACKS,
    *,
    dataset: str | None = None,
) -> FitResult:
    """Fit BG/NBD by maximum likelihood (``lifetimes.BetaGeoFitter``).

    ``fit_transaction_model('bgnbd', ...)``: see there for the inputs, the fallback rule and
    the errors. (On success lifetimes exposes no optimiser result: a returned fit had
    ``scipy.optimize.minimize(...).success``, so ``converged`` is always True.)

    Raises:
        ModelFitError: invalid or degenerate input, or every attempt failed.
    """
    return fit_transaction_model(
        BGNBD, frequency, recency, T, weights, penalizer, fallback_penalizers, dataset=dataset
    )


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    fallback_penalizers: Sequence[float] = DEFAULT_GAMMA_GAMMA_FALLBACKS,
    *,
    dataset: str | None = None,
) -> FitResult:
    """Fit Gamma-Gamma by maximum likelihood (``lifetimes.GammaGammaFitter``).

    The model is defined for repeat buyers only: rows with ``frequency == 0`` are dropped here
    (whatever their monetary value), and the remaining rows need a finite ``monetary_value > 0``
    (mean value of the repeat purchases, currency units). ``weights`` are customers per row
    (> 0; default 1); identical rows are merged first. ``dataset`` only names the data in error
    messages. The fallback rule is that of `fit_transaction_model`, plus: an attempt with
    ``q <= 1`` fails.

    A very small sample (one repeat buyer, or all monetary values equal) has no finite
    unpenalised maximum: the attempt with penalizer 0 fails to converge, a positive penalizer
    gives an estimate dominated by the penalty. An attempt with ``q <= 1`` fails: the population
    mean purchase value ``p * v / (q - 1)``, which `expected_average_profit` uses for one-time
    buyers, is then undefined.

    Raises:
        ModelFitError: no rows, no repeat buyers, invalid values, or every attempt failed.
    """
    model = GAMMA_GAMMA
    x, m, w = _validated_gamma_gamma_inputs(frequency, monetary_value, weights, dataset)
    rows = _merge_identical_rows({"frequency": x, "monetary_value": m}, w)
    x, m, w = rows["frequency"], rows["monetary_value"], rows["weights"]

    def attempt(pen: float) -> tuple[dict[str, float], dict[str, float]]:
        fitter = GammaGammaFitter(penalizer_coef=pen)
        _call_quietly(fitter.fit, pd.Series(x), pd.Series(m), weights=pd.Series(w))
        return _params_and_errors(fitter, GAMMA_GAMMA_PARAMETERS)

    def log_likelihood(params: Mapping[str, float]) -> float:
        return gamma_gamma_log_likelihood(params, x, m, w)

    return _fit_with_fallback(
        model, dataset, penalizer, fallback_penalizers, attempt, log_likelihood, w
    )


def _fit_with_fallback(
    model: str,
    dataset: str | None,
    penalizer: float,
    fallback_penalizers: Sequence[float],
    attempt: Callable[[float], tuple[dict[str, float], dict[str, float]]],
    log_likelihood: Callable[[Mapping[str, float]], float],
    weights: FloatArray,
) -> FitResult:
    """Run ``attempt`` for each penalizer in turn and wrap the first good one (see
    fit_transaction_model)."""
    penalizers: list[float] = []
    for pen in (float(penalizer), *(float(pen) for pen in fallback_penalizers)):
        if pen not in penalizers:
            penalizers.append(pen)
    for pen in penalizers:
        if not math.isfinite(pen) or pen < 0:
            raise ValueError(f"penalizers must be finite and >= 0, got {pen!r}")
    reasons: list[str] = []
    for number, pen in enumerate(penalizers, start=1):
        try:
            params, errors = attempt(pen)
            bad = [name for name, value in params.items() if not (np.isfinite(value) and value > 0)]
            if bad:
                listed = ", ".join(f"{name}={params[name]!r}" for name in bad)
                raise _AttemptError(f"parameters not finite and positive: {listed}")
            collapsed = [
                name
                for name, value in params.items()
                if not MIN_PARAMETER <= value <= MAX_PARAMETER
            ]
            if collapsed:
                listed = ", ".join(f"{name}={params[name]:.3g}" for name in collapsed)
                raise _AttemptError(f"degenerate estimate at the boundary: {listed}")
            if model == GAMMA_GAMMA and params["q"] <= 1:
                raise _AttemptError(
                    f"q = {params['q']:.4g} <= 1: the mean spend p*v/(q-1) is undefined"
                )
            ll = log_likelihood(params)
            if not math.isfinite(ll):
                raise _AttemptError(f"log-likelihood not finite ({ll!r})")
        except _AttemptError as failure:
            reasons.append(f"penalizer {pen:g}: {failure}")
            continue
        message = "converged"
        if reasons:
            message = f"retried with penalizer {pen:g} after: " + "; ".join(reasons)
        bad_errors = [name for name, value in errors.items() if not np.isfinite(value)]
        if bad_errors:
            message += (
                f"; standard errors not finite for {', '.join(bad_errors)} "
                "(Hessian not positive definite)"
            )
        return FitResult(
            model=model,
            params=params,
            standard_errors=errors,
            lower_95={name: params[name] - Z_95 * errors[name] for name in params},
            upper_95={name: params[name] + Z_95 * errors[name] for name in params},
            log_likelihood=ll,
            n_customers=float(np.sum(weights)),
            n_rows=int(weights.size),
            converged=True,
            penalizer=pen,
            attempts=number,
            message=message,
        )
    raise _fit_error(
        model,
        dataset,
        "no attempt succeeded: " + "; ".join(reasons),
        reasons,
        attempts=len(penalizers),
    )


def _call_quietly(function: Callable[..., _Result], *args: object, **kwargs: object) -> _Result:
    """Call a fitting function quietly; any exception becomes `_AttemptError` with a reason.

    lifetimes prints scipy's result to stdout before raising ``ConvergenceError``: the print is
    captured and its ``message:`` line becomes part of the reason.
    """
    printed = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(printed),
            warnings.catch_warnings(),
            np.errstate(all="ignore"),
        ):
            warnings.simplefilter("ignore")
            return function(*args, **kwargs)
    except _AttemptError:
        raise
    except ConvergenceError as error:
        found = re.search(r"message:\s*(.+)", printed.getvalue())
        detail = f" (scipy: {found.group(1).strip()})" if found else ""
        raise _AttemptError(f"the optimiser did not converge{detail}") from error
    except Exception as error:  # lifetimes/scipy/numpy may raise anything: record it, move on
        text = " ".join(str(error).split())
        raise _AttemptError(f"{type(error).__name__}: {text}") from error


def _lifetimes_fitter(model: str) -> type[BetaGeoFitter]:
    """The lifetimes fitter class of BG/NBD or MBG/NBD (looked up when called, so tests can
    substitute it)."""
    return BetaGeoFitter if model == BGNBD else ModifiedBetaGeoFitter


def _params_and_errors(
    fitter: BetaGeoFitter | GammaGammaFitter, names: tuple[str, ...]
) -> tuple[dict[str, float], dict[str, float]]:
    """Estimates and standard errors of a fitted lifetimes fitter.

    lifetimes computes ``se = params * sqrt(diag(inv(H)) / sum(weights))`` where ``H`` is the
    exact (autograd) Hessian of its objective (the weighted mean negative log-likelihood plus
    the penalty) in log-parameters: the delta method, correct with weights (tested against
    finite differences). It is NaN where the inverse Hessian has a negative diagonal.
    """
    params = {name: float(fitter.params_[name]) for name in names}
    with np.errstate(all="ignore"):
        errors = {name: float(fitter.standard_errors_[name]) for name in names}
    return params, errors


def _fit_pareto_nbd(
    x: FloatArray, t_x: FloatArray, age: FloatArray, weights: FloatArray, penalizer: float
) -> tuple[dict[str, float], dict[str, float]]:
    """One penalised Pareto/NBD fit: estimates and standard errors (see fit_transaction_model).

    Works in log-parameters with time rescaled to ``max(T) = 1`` (as lifetimes does), so the
    optimiser sees parameters of order 1 whatever the time unit.
    """
    scale = 1.0 / float(np.max(age))
    scaled_t_x, scaled_age = t_x * scale, age * scale
    total = float(np.sum(weights))

    def objective(theta: FloatArray) -> float:
        r, alpha, s, beta = np.exp(theta)
        with np.errstate(all="ignore"):
            rows = _pareto_nbd_log_likelihood_rows(r, alpha, s, beta, x, scaled_t_x, scaled_age)
            value = -float(np.sum(weights * rows)) / total
            value += penalizer * float(np.sum(np.exp(2 * theta)))
        return value if math.isfinite(value) else math.inf

    start = np.zeros(4)
    simplex = np.vstack([start, start + 0.5 * np.eye(4)])
    result = minimize(
        objective,
        start,
        method="Nelder-Mead",
        options={**PARETO_NBD_NELDER_MEAD_OPTIONS, "initial_simplex": simplex},
    )
    if not result.success:
        raise _AttemptError(f"the optimiser did not converge (scipy: {result.message})")
    if not math.isfinite(result.fun):
        raise _AttemptError("the log-likelihood is not finite anywhere the optimiser looked")
    theta = _newton_polish(objective, np.asarray(result.x, dtype=float))
    estimate = np.exp(theta) / np.array([1.0, scale, 1.0, scale])
    errors = _delta_method_errors(estimate, _central_hessian(objective, theta), total)
    return (
        dict(zip(PARETO_NBD_PARAMETERS, estimate.tolist(), strict=True)),
        dict(zip(PARETO_NBD_PARAMETERS, errors.tolist(), strict=True)),
    )


def _newton_polish(objective: Callable[[FloatArray], float], theta: FloatArray) -> FloatArray:
    """Newton steps from a Nelder-Mead estimate, on central-difference derivatives.

    Nelder-Mead stops where its simplex is small; along the flat ridge of the Pareto/NBD
    likelihood (s and beta grow together) that leaves the estimate up to ~5e-7 (relative) off
    the maximum on CDNOW subsamples. A step is taken only while the Hessian is positive definite
    and the objective does not rise beyond rounding; the polish stops after a step below
    ``PARETO_NBD_NEWTON_TOLERANCE`` (the rounding of the central-difference gradient moves the
    estimate by ~1e-8 in log-parameters on CDNOW, so smaller steps are noise).
    """
    value = objective(theta)
    for _ in range(PARETO_NBD_NEWTON_STEPS):
        hessian = _central_hessian(objective, theta)
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            break
        step = np.linalg.solve(hessian, _central_gradient(objective, theta))
        candidate = theta - step
        candidate_value = objective(candidate)
        if not candidate_value <= value + 1e-12 * abs(value):
            break
        theta, value = candidate, candidate_value
        if float(np.max(np.abs(step))) < PARETO_NBD_NEWTON_TOLERANCE:
            break
    return theta


def _central_gradient(objective: Callable[[FloatArray], float], theta: FloatArray) -> FloatArray:
    """The gradient of ``objective`` at ``theta`` by central differences."""
    gradient = np.empty(theta.size)
    for i in range(theta.size):
        shift = np.zeros(theta.size)
        shift[i] = _GRADIENT_STEP
        gradient[i] = (objective(theta + shift) - objective(theta - shift)) / (2 * _GRADIENT_STEP)
    return gradient


def _central_hessian(objective: Callable[[FloatArray], float], theta: FloatArray) -> FloatArray:
    """The Hessian of ``objective`` at ``theta`` by central differences."""
    n, h = theta.size, _HESSIAN_STEP
    unit = np.eye(n) * h
    centre = objective(theta)
    hessian = np.empty((n, n))
    for i in range(n):
        hessian[i, i] = (
            objective(theta + unit[i]) - 2 * centre + objective(theta - unit[i])
        ) / h**2
        for j in range(i):
            hessian[i, j] = hessian[j, i] = (
                objective(theta + unit[i] + unit[j])
                - objective(theta + unit[i] - unit[j])
                - objective(theta - unit[i] + unit[j])
                + objective(theta - unit[i] - unit[j])
            ) / (4 * h**2)
    return hessian


def _delta_method_errors(estimate: FloatArray, hessian: FloatArray, total: float) -> FloatArray:
    """``estimate * sqrt(diag(inv(hessian)) / total)``: the standard errors of parameters from
    the Hessian of the mean objective in log-parameters (lifetimes' formula); NaN where the
    inverse Hessian has a negative diagonal or the Hessian is singular."""
    with np.errstate(all="ignore"):
        try:
            variances = np.diag(np.linalg.inv(hessian)) / total
        except np.linalg.LinAlgError:
            variances = np.full(estimate.size, np.nan)
        return estimate * np.sqrt(variances)


# --------------------------------------------------------------------------------------------
# Predictions (vectorised; results equal the lifetimes methods to rounding)
# --------------------------------------------------------------------------------------------


def probability_alive(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    model: str = BGNBD,
) -> FloatArray:
    """P(customer still alive at T | frequency, recency, T) under a transaction model.

    Equals ``conditional_probability_alive`` of the model's lifetimes fitter. BG/NBD (Hardie,
    note 021): 1 for frequency 0 (customers can only drop out right after a repeat purchase),
    also when ``T == 0``. MBG/NBD: below 1 for one-time buyers too (``b / (a + b)`` at
    ``T == 0``). Pareto/NBD (note 009, eq. 37): 1 when ``recency == T`` (including ``T == 0``).
    """
    model = _transaction_model(model)
    x, t_x, age = _broadcast(frequency, recency, T)
    with np.errstate(all="ignore"):
        if model == PARETO_NBD:
            r, alpha, s, beta = _unpack(params, PARETO_NBD_PARAMETERS, model)
            log_div = (
                np.log(s)
                - np.log(r + s + x)
                + (r + x) * np.log(alpha + age)
                + s * np.log(beta + age)
                + _pareto_nbd_log_a0(r, alpha, s, beta, x, t_x, age)
            )
            return np.atleast_1d(expit(-log_div))
        r, alpha, a, b = _unpack(params, MODEL_PARAMETERS[model], model)
        if model == MBGNBD:
            log_div = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(a / (b + x))
            return np.atleast_1d(expit(-log_div))
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
    model: str = BGNBD,
) -> FloatArray:
    """Expected repeat purchases in ``(T, T + horizon]`` given the history.

    ``horizon`` (a number, or an array broadcast with the customers), ``recency`` and ``T`` are
    in the model time unit. Equals
    ``conditional_expected_number_of_purchases_up_to_time(horizon, ...)`` of the model's
    lifetimes fitter: BG/NBD eq. 10 (Fader, Hardie and Lee 2005), MBG/NBD (Wagner and Hoppe
    2008), Pareto/NBD (note 009, eq. 41). For a customer with ``T == 0`` (first purchase on the
    analysis date, so frequency 0) this is the unconditional expectation for a newly acquired
    customer (`expected_purchases_since_acquisition`): no special case is needed.
    Non-decreasing in ``horizon``; 0 at ``horizon == 0``. The closed forms need ``a != 1``
    (BG/NBD, MBG/NBD); Pareto/NBD's ``s == 1`` uses the limit.
    """
    model = _transaction_model(model)
    horizons = _as_float_array(horizon)
    if not np.all(np.isfinite(horizons) & (horizons >= 0)):
        raise ValueError(f"horizon must be finite and >= 0, got {horizon!r}")
    x, t_x, age, t = _broadcast(frequency, recency, T, horizons)
    with np.errstate(all="ignore"):
        if model == PARETO_NBD:
            r, alpha, s, beta = _unpack(params, PARETO_NBD_PARAMETERS, model)
            alive = probability_alive(params, x, t_x, age, model)
            rate = (r + x) * (beta + age) / (alpha + age)
            return np.atleast_1d(
                alive * rate * _one_minus_power_over(s - 1, (beta + age) / (beta + age + t))
            )
        r, alpha, a, b = _unpack(params, MODEL_PARAMETERS[model], model)
        z = t / (alpha + age + t)
        log_decay = (r + x) * np.log((alpha + age) / (alpha + t + age))
        if model == MBGNBD:
            ln_hyp = _log_hyp2f1(r + x, b + x + 1, a + b + x, z)
            if_alive = (a + b + x) / (a - 1) * -np.expm1(ln_hyp + log_decay)
            return np.atleast_1d(if_alive * probability_alive(params, x, t_x, age, model))
        ln_hyp = _log_hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - np.exp(ln_hyp + log_decay)
        odds_dead = np.where(
            x > 0, (a / (b + x - 1)) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0
        )
        return np.atleast_1d((first * second) / (1 + odds_dead))


def expected_purchases_since_acquisition(
    params: Mapping[str, float], t: ArrayLike, model: str = BGNBD
) -> FloatArray:
    """Unconditional E[X(t)]: expected repeat purchases of a customer in the ``t`` model time
    units after the first purchase.

    ``t`` is any array (the result has its shape, at least 1-D), >= 0. Equals
    ``expected_number_of_purchases_up_to_time(t)`` of the model's lifetimes fitter: BG/NBD
    eq. 9, ``(a+b-1)/(a-1) * (1 - (alpha/(alpha+t))**r * 2F1(r, b; a+b-1; t/(alpha+t)))``;
    MBG/NBD ``b/(a-1) * (1 - (alpha/(alpha+t))**r * 2F1(r, b+1; a+b; t/(alpha+t)))``;
    Pareto/NBD (note 009, eq. 27) ``r*beta/(alpha*(s-1)) * (1 - (beta/(beta+t))**(s-1))``.
    """
    model = _transaction_model(model)
    t = np.atleast_1d(_as_float_array(t))
    if not np.all(np.isfinite(t) & (t >= 0)):
        raise ValueError("t must be finite and >= 0")
    with np.errstate(all="ignore"):
        if model == PARETO_NBD:
            r, alpha, s, beta = _unpack(params, PARETO_NBD_PARAMETERS, model)
            return r * beta / alpha * _one_minus_power_over(s - 1, beta / (beta + t))
        r, alpha, a, b = _unpack(params, MODEL_PARAMETERS[model], model)
        z = t / (alpha + t)
        log_decay = r * np.log(alpha / (alpha + t))
        if model == MBGNBD:
            return b / (a - 1) * -np.expm1(_log_hyp2f1(r, b + 1, a + b, z) + log_decay)
        return (a + b - 1) / (a - 1) * -np.expm1(_log_hyp2f1(r, b, a + b - 1, z) + log_decay)


def probability_of_repeat_purchases(
    params: Mapping[str, float],
    T: ArrayLike,  # noqa: N803 (the literature's name)
    n: ArrayLike,
    model: str = BGNBD,
) -> FloatArray:
    """P(X(T) = n): the probability that a customer makes exactly ``n`` repeat purchases in the
    ``T`` model time units after the first purchase.

    ``T`` (>= 0) and ``n`` (integers >= 0) are broadcast together. BG/NBD (Fader, Hardie and
    Lee 2005, eq. 8) and MBG/NBD (the same with the dropout after the first purchase) equal
    ``probability_of_n_purchases_up_to_time(T, n)`` of the lifetimes fitters, written with the
    regularised incomplete beta function instead of ``1 - sum`` (no cancellation).
    ``lifetimes.ParetoNBDFitter`` has only the conditional version; Pareto/NBD here is the
    published closed form (Fader and Hardie 2006, "Deriving an expression for P(X(t) = x) under
    the Pareto/NBD model"): ``NBD(n; T) * (beta/(beta+T))**s + alpha**r * beta**s *
    B(r+n, s+1)/B(r, s) * (B1 - sum_{j<=n} (r+s)_j T**j / j! * B2_j)`` with the 2F1 terms B1,
    B2_j on ``|alpha-beta|/alpha`` or ``/beta``. Its subtraction loses relative (not absolute)
    precision for probabilities below ~1e-8; values are clipped to [0, 1].
    """
    model = _transaction_model(model)
    age, count = _broadcast(T, n)
    if not np.all(np.isfinite(age) & (age >= 0)):
        raise ValueError("T must be finite and >= 0")
    if not np.all(np.isfinite(count) & (count >= 0) & (count == np.round(count))):
        raise ValueError("n must be integers >= 0")
    names = MODEL_PARAMETERS[model]
    r, alpha, third, fourth = _unpack(params, names, model)
    with np.errstate(all="ignore"):
        repeat_share = age / (alpha + age)  # the NBD's "failure" probability
        log_nbd = (
            gammaln(r + count)
            - gammaln(r)
            - gammaln(count + 1)
            + r * np.log(alpha / (alpha + age))
            + xlogy(count, repeat_share)
        )
        at_least_n = betainc(np.maximum(count, 1), r, repeat_share)  # P(NBD count >= n), n >= 1
        if model == BGNBD:
            a, b = third, fourth
            alive = np.exp(betaln(a, b + count) - betaln(a, b) + log_nbd)
            died = np.exp(betaln(a + 1, b + np.maximum(count, 1) - 1) - betaln(a, b)) * at_least_n
            result = alive + np.where(count > 0, died, 0.0)
        elif model == MBGNBD:
            a, b = third, fourth
            alive = np.exp(betaln(a, b + count + 1) - betaln(a, b) + log_nbd)
            died = np.exp(betaln(a + 1, b + count) - betaln(a, b))
            result = alive + died * np.where(count > 0, at_least_n, 1.0)
        else:
            result = _pareto_nbd_pmf(r, alpha, third, fourth, age, count, log_nbd)
    return np.atleast_1d(np.clip(result, 0.0, 1.0))


def _pareto_nbd_pmf(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    age: FloatArray,
    count: FloatArray,
    log_nbd: FloatArray,
) -> FloatArray:
    """Pareto/NBD P(X(T) = n) (see probability_of_repeat_purchases); ``log_nbd`` is the log of
    the NBD probability of n purchases in T."""
    alive = np.exp(log_nbd + s * np.log(beta / (beta + age)))
    if alpha >= beta:
        larger, gap, second = alpha, alpha - beta, np.full_like(count, s + 1)
    else:
        larger, gap, second = beta, beta - alpha, r + count
    c = r + s + count + 1
    log_front = r * np.log(alpha) + s * np.log(beta) + betaln(r + count, s + 1) - betaln(r, s)
    total = np.exp(
        log_front + _log_hyp2f1(r + s, second, c, gap / larger) - (r + s) * np.log(larger)
    )
    for j in range(int(np.max(count, initial=0)) + 1):
        log_term = (
            gammaln(r + s + j)
            - gammaln(r + s)
            - gammaln(j + 1)
            + xlogy(j, age)
            + _log_hyp2f1(r + s + j, second, c, gap / (larger + age))
            - (r + s + j) * np.log(larger + age)
        )
        total = total - np.where(j <= count, np.exp(log_front + log_term), 0.0)
    return alive + total


def _one_minus_power_over(k: float, y: FloatArray) -> FloatArray:
    """``(1 - y**k) / k`` for y > 0, and its limit ``-log(y)`` at k = 0."""
    log_y = np.log(y)
    if k == 0:
        return -log_y
    return -np.expm1(k * log_y) / k


def expected_average_profit(
    gg_params: Mapping[str, float], frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Expected mean value of a customer's future purchases (Gamma-Gamma, note 025 eq. 5).

    Currency units. A weighted mean of the population mean ``p * v / (q - 1)`` and the
    customer's observed mean ``monetary_value``, the weight of the latter growing with
    ``frequency``. For frequency 0 it is the population mean and ``monetary_value`` is ignored
    (it may be 0 or NaN there). Equals ``GammaGammaFitter.conditional_expected_average_profit``.
    Needs ``q > 1`` for the population mean to exist (otherwise the result is meaningless).
    """
    p, q, v = _unpack(gg_params, GAMMA_GAMMA_PARAMETERS, GAMMA_GAMMA)
    x, m = _broadcast(frequency, monetary_value)
    with np.errstate(all="ignore"):
        individual_weight = p * x / (p * x + q - 1)
        population_mean = v * p / (q - 1)
        blended = (1 - individual_weight) * population_mean + individual_weight * m
        return np.atleast_1d(np.where(x == 0, population_mean, blended))


def customer_lifetime_value(
    bgnbd_params: Mapping[str, float],
    gg_params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    monetary_value: ArrayLike,
    months: int = 3,
    monthly_discount_rate: float = 0.01,
    units_per_month: float = 4.345,
    model: str = BGNBD,
) -> FloatArray:
    """Discounted expected value of a customer's purchases over the next ``months`` months.

    Currency units. ``bgnbd_params`` are the parameters of the transaction model ``model``
    (BG/NBD by default; the name is kept for backward compatibility). ``lifetimes``'
    definition: for each month ``k = 1..months`` the expected purchases between ``(k-1)`` and
    ``k`` months after ``T`` (months of ``units_per_month`` model time units; 4.345 for weeks)
    times `expected_average_profit`, divided by ``(1 + monthly_discount_rate) ** k``, summed.
    With weeks as the unit this equals ``GammaGammaFitter.customer_lifetime_value(...,
    time=months, discount_rate=..., freq='W')``. Revenue, not profit: apply a margin
    downstream if wanted.
    """
    if int(months) != months or months < 0:
        raise ValueError(f"months must be an integer >= 0, got {months!r}")
    if not (math.isfinite(units_per_month) and units_per_month > 0):
        raise ValueError(f"units_per_month must be finite and > 0, got {units_per_month!r}")
    if not (math.isfinite(monthly_discount_rate) and monthly_discount_rate > -1):
        raise ValueError(f"monthly_discount_rate must be > -1, got {monthly_discount_rate!r}")
    x, t_x, age, m = _broadcast(frequency, recency, T, monetary_value)
    profit = expected_average_profit(gg_params, x, m)
    clv = np.zeros_like(profit)
    previous = expected_purchases(bgnbd_params, 0.0, x, t_x, age, model)
    for month in range(1, int(months) + 1):
        cumulative = expected_purchases(bgnbd_params, month * units_per_month, x, t_x, age, model)
        clv = clv + (profit * (cumulative - previous)) / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return clv


# --------------------------------------------------------------------------------------------
# Tables for the dbt Python models
# --------------------------------------------------------------------------------------------


def fit_models(
    bgnbd_inputs: pd.DataFrame,
    gamma_gamma_inputs: pd.DataFrame,
    bgnbd_penalizer: float,
    gamma_gamma_penalizer: float,
    transaction_model: str | Mapping[str, str] = BGNBD,
) -> pd.DataFrame:
    """Fit a transaction model (BG/NBD by default) and Gamma-Gamma for every dataset in
    ``bgnbd_inputs``, each dataset on its own.

    ``transaction_model`` is one model name for every dataset, or a mapping from dataset name
    to model name (datasets it does not name get BG/NBD), as `validation.chosen_models` returns.

    ``bgnbd_inputs``: columns ``dataset, frequency, recency, T, customers`` (distinct rows and
    their customer counts; times in the model unit), used by whichever ``transaction_model``
    (one of `TRANSACTION_MODELS`) is fitted, with ``bgnbd_penalizer``.
    ``gamma_gamma_inputs``: columns ``dataset, frequency, monetary_value, customers`` (repeat
    buyers; rows with frequency 0 are ignored). Penalizers may arrive as strings from dbt config:
    they are converted with ``float``. The fallback penalizers are 0 (the unpenalised fit), then
    the penalizer times 10, 100, 1000 (transaction model) or 10, 100 (Gamma-Gamma); with a
    penalizer of 0 they are the defaults of `fit_transaction_model` / `fit_gamma_gamma`.

    Returns one row per dataset, model and parameter with the columns of `PARAMETER_COLUMNS`,
    sorted by dataset, then the transaction model's rows before Gamma-Gamma's, in parameter
    order. Datasets that appear only in ``gamma_gamma_inputs`` are ignored.

    Raises:
        ModelFitError: naming the dataset and model, when a model cannot be fitted.
        ValueError: an unknown transaction model or missing columns.
    """
    if isinstance(transaction_model, str):
        models_by_dataset: dict[str, str] = {}
        default_model = _transaction_model(transaction_model)
    else:
        models_by_dataset = {
            str(name): _transaction_model(model) for name, model in transaction_model.items()
        }
        default_model = BGNBD
    _require_columns(bgnbd_inputs, BGNBD_INPUT_COLUMNS, "bgnbd_inputs")
    _require_columns(gamma_gamma_inputs, GAMMA_GAMMA_INPUT_COLUMNS, "gamma_gamma_inputs")
    transaction_pen = float(bgnbd_penalizer)
    gamma_gamma_pen = float(gamma_gamma_penalizer)
    transaction_fallbacks = _fallbacks(
        transaction_pen, BGNBD_FALLBACK_FACTORS, DEFAULT_BGNBD_FALLBACKS
    )
    gamma_gamma_fallbacks = _fallbacks(
        gamma_gamma_pen, GAMMA_GAMMA_FALLBACK_FACTORS, DEFAULT_GAMMA_GAMMA_FALLBACKS
    )
    records: list[dict[str, object]] = []
    for dataset in _datasets(bgnbd_inputs):
        purchases = bgnbd_inputs[bgnbd_inputs["dataset"] == dataset]
        spend = gamma_gamma_inputs[gamma_gamma_inputs["dataset"] == dataset]
        name = str(dataset)
        fit_transactions = _transaction_fitter(models_by_dataset.get(name, default_model))
        fits = (
            fit_transactions(
                purchases["frequency"],
                purchases["recency"],
                purchases["T"],
                purchases["customers"],
                penalizer=transaction_pen,
                fallback_penalizers=transaction_fallbacks,
                dataset=name,
            ),
            fit_gamma_gamma(
                spend["frequency"],
                spend["monetary_value"],
                spend["customers"],
                penalizer=gamma_gamma_pen,
                fallback_penalizers=gamma_gamma_fallbacks,
                dataset=name,
            ),
        )
        for fit in fits:
            records.extend(_parameter_records(dataset, fit))
    table = pd.DataFrame.from_records(records, columns=list(PARAMETER_COLUMNS))
    return table.astype(PARAMETER_DTYPES)


def score_profiles(
    profiles: pd.DataFrame,
    parameters: pd.DataFrame,
    horizons: Mapping[str, float],
    clv_months: int,
    monthly_discount_rate: float,
    units_per_month: float,
) -> pd.DataFrame:
    """Score each profile row with the fitted models of its dataset.

    ``profiles``: columns ``dataset, frequency, recency, T, monetary_value`` (times in the model
    unit; any other columns are kept). ``parameters``: the output of `fit_models` (columns
    ``dataset, model, parameter, estimate`` are used); each dataset's transaction model is the
    one model of `TRANSACTION_MODELS` found for it there. ``horizons`` maps output column names
    to horizons in the model time unit. Valid rows have ``frequency >= 0``,
    ``0 <= recency <= T`` and a finite ``monetary_value`` when ``frequency > 0``; ``T == 0`` is
    valid (first purchase on the analysis date): such a customer gets the probability alive and
    expected purchases of a newly acquired customer (``probability_alive`` 1 under BG/NBD and
    Pareto/NBD). For frequency 0 the monetary value is ignored and ``expected_average_profit``
    is the population mean ``p * v / (q - 1)``.

    Returns a copy of ``profiles`` (same index and row order) with the added float columns
    ``probability_alive``, one per horizon (in the mapping's order),
    ``expected_average_profit`` and ``clv`` (see `customer_lifetime_value`).

    Raises:
        ValueError: missing columns or parameters, no or several transaction models for a
            dataset, invalid rows, or a non-finite score (the message names the dataset).
    """
    _require_columns(profiles, PROFILE_COLUMNS, "profiles")
    _require_columns(parameters, ("dataset", "model", "parameter", "estimate"), "parameters")
    added = ["probability_alive", *horizons, "expected_average_profit", "clv"]
    clashes = sorted(set(added) & set(profiles.columns))
    if clashes or len(set(added)) != len(added):
        raise ValueError(f"output column names clash with each other or the profiles: {clashes}")
    horizon_values = {name: float(value) for name, value in horizons.items()}
    scores = {name: np.full(len(profiles), np.nan) for name in added}
    dataset_column = profiles["dataset"].to_numpy()
    for dataset in _datasets(profiles):
        rows = np.flatnonzero(dataset_column == dataset)
        part = profiles.iloc[rows]
        model = _transaction_model_of(parameters, dataset)
        transaction_params = _parameters_of(parameters, dataset, model)
        gg_params = _parameters_of(parameters, dataset, GAMMA_GAMMA)
        x, t_x, age, m = _validated_profiles(part, dataset)
        scores["probability_alive"][rows] = probability_alive(
            transaction_params, x, t_x, age, model
        )
        for name, horizon in horizon_values.items():
            scores[name][rows] = expected_purchases(transaction_params, horizon, x, t_x, age, model)
        scores["expected_average_profit"][rows] = expected_average_profit(gg_params, x, m)
        scores["clv"][rows] = customer_lifetime_value(
            transaction_params,
            gg_params,
            x,
            t_x,
            age,
            m,
            months=int(clv_months),
            monthly_discount_rate=float(monthly_discount_rate),
            units_per_month=float(units_per_month),
            model=model,
        )
        for name in added:
            bad = int(np.sum(~np.isfinite(scores[name][rows])))
            if bad:
                raise ValueError(
                    f"dataset {dataset!r}: {bad} profile(s) got a non-finite {name}; "
                    f"parameters {MODEL_LABELS[model]} {transaction_params}, "
                    f"Gamma-Gamma {gg_params}"
                )
    result = profiles.copy()
    for name in added:
        result[name] = scores[name]
    return result


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _as_float_array(values: ArrayLike) -> FloatArray:
    """A float numpy array from a Series (nullable or Decimal values too) or an array-like."""
    if isinstance(values, pd.DataFrame):
        raise TypeError("pass a Series or an array, not a DataFrame")
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _broadcast(*arrays: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays broadcast to one shape (at least 1-D)."""
    return [np.atleast_1d(a) for a in np.broadcast_arrays(*(_as_float_array(a) for a in arrays))]


def _transaction_model(model: str) -> str:
    """``model`` if it is one of `TRANSACTION_MODELS`, else a ValueError."""
    if model not in TRANSACTION_MODELS:
        raise ValueError(f"unknown transaction model {model!r}; use one of {TRANSACTION_MODELS}")
    return model


def _transaction_fitter(model: str) -> Callable[..., FitResult]:
    """The fitting function of a transaction model: `fit_bgnbd` for BG/NBD (looked up when
    called, so tests can substitute it), else `fit_transaction_model` bound to the model."""
    if model == BGNBD:
        return fit_bgnbd
    return functools.partial(fit_transaction_model, model)


def _unpack(params: Mapping[str, float], names: tuple[str, ...], model: str) -> tuple[float, ...]:
    """The named parameters as floats; each must be present, finite and positive."""
    missing = [name for name in names if name not in params]
    if missing:
        raise ValueError(f"{MODEL_LABELS[model]} parameters missing: {missing}")
    values = tuple(float(params[name]) for name in names)
    if not all(math.isfinite(value) and value > 0 for value in values):
        raise ValueError(f"{MODEL_LABELS[model]} parameters must be finite and > 0: {params}")
    return values


def _fit_error(
    model: str,
    dataset: str | None,
    reason: str,
    reasons: Sequence[str] = (),
    attempts: int = 0,
) -> ModelFitError:
    """A ModelFitError whose message names the dataset and the model."""
    where = f" for dataset {dataset!r}" if dataset is not None else ""
    return ModelFitError(
        f"{MODEL_LABELS[model]} model cannot be fitted{where}: {reason}",
        dataset=dataset,
        model=model,
        reasons=reasons or (reason,),
        attempts=attempts,
    )


def _validated_columns(
    model: str, dataset: str | None, columns: Mapping[str, ArrayLike], weights: ArrayLike | None
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Equal-length 1-D float columns and weights (default 1), with the checks shared by all
    models: at least one row, finite values, integer frequency >= 0, finite weights > 0."""
    arrays = {name: _as_float_array(values).ravel() for name, values in columns.items()}
    n = len(next(iter(arrays.values())))
    w = np.ones(n) if weights is None else _as_float_array(weights).ravel()
    lengths = {name: len(a) for name, a in arrays.items()} | {"weights": len(w)}
    if len(set(lengths.values())) != 1:
        raise _fit_error(model, dataset, f"inputs differ in length: {lengths}")
    if n == 0:
        raise _fit_error(model, dataset, "no rows")
    x = arrays["frequency"]
    checks = {
        "non-finite frequency": ~np.isfinite(x),
        "negative or non-integer frequency": np.isfinite(x) & ((x < 0) | (x != np.round(x))),
        "non-finite or non-positive weights": ~(np.isfinite(w) & (w > 0)),
    }
    _raise_on_bad_rows(model, dataset, checks)
    return arrays, w


def _validated_transaction_inputs(
    model: str,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None,
    dataset: str | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Transaction-model inputs as float arrays, or a ModelFitError saying what is wrong."""
    arrays, w = _validated_columns(
        model, dataset, {"frequency": frequency, "recency": recency, "T": T}, weights
    )
    x, t_x, age = arrays["frequency"], arrays["recency"], arrays["T"]
    finite = np.isfinite(t_x) & np.isfinite(age)
    checks = {
        "non-finite recency or T": ~finite,
        "negative recency": finite & (t_x < 0),
        "recency greater than T": finite & (t_x > age),
        "non-zero recency with frequency 0": finite & (x == 0) & (t_x != 0),
    }
    _raise_on_bad_rows(model, dataset, checks)
    if not np.any(x > 0):
        raise _fit_error(
            model,
            dataset,
            "no repeat purchases at all (every frequency is 0), so the purchase rate and the "
            "dropout process are not identified",
        )
    if not np.any(age > 0):
        raise _fit_error(model, dataset, "every T is 0 (no observation time)")
    return x, t_x, age, w


def _validated_gamma_gamma_inputs(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None,
    dataset: str | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gamma-Gamma inputs of the repeat buyers, or a ModelFitError saying what is wrong."""
    arrays, w = _validated_columns(
        GAMMA_GAMMA, dataset, {"frequency": frequency, "monetary_value": monetary_value}, weights
    )
    repeat = arrays["frequency"] > 0
    x, m, w = arrays["frequency"][repeat], arrays["monetary_value"][repeat], w[repeat]
    if x.size == 0:
        raise _fit_error(
            GAMMA_GAMMA, dataset, "no repeat buyers (every frequency is 0); the model needs some"
        )
    checks = {
        "non-finite or non-positive monetary_value of repeat buyers": ~(np.isfinite(m) & (m > 0))
    }
    _raise_on_bad_rows(GAMMA_GAMMA, dataset, checks)
    return x, m, w


def _raise_on_bad_rows(
    model: str, dataset: str | None, checks: Mapping[str, NDArray[np.bool_]]
) -> None:
    """Raise a ModelFitError listing how many rows fail each named check."""
    problems = [
        f"{int(mask.sum())} row(s) with {what}" for what, mask in checks.items() if mask.any()
    ]
    if problems:
        raise _fit_error(model, dataset, "invalid input: " + "; ".join(problems))


def _merge_identical_rows(
    columns: Mapping[str, FloatArray], weights: FloatArray
) -> dict[str, FloatArray]:
    """Identical rows merged into one, their weights summed (sorted by the columns)."""
    frame = pd.DataFrame(dict(columns))
    frame["weights"] = weights
    merged = frame.groupby(list(columns), sort=True, as_index=False)["weights"].sum()
    return {name: merged[name].to_numpy(dtype=float) for name in merged.columns}


def _fallbacks(
    penalizer: float, factors: tuple[float, ...], defaults: tuple[float, ...]
) -> tuple[float, ...]:
    """The fallback penalizers of fit_models.

    After a penalized attempt: the unpenalised maximum-likelihood fit (what the literature
    reports; on the 2009-2010 sheet BG/NBD with the course's 0.001 does not converge, and
    larger penalizers only collapse a and b to 0), then larger multiples of the penalizer.
    After an unpenalised attempt: the defaults.
    """
    if penalizer > 0:
        return (0.0, *(penalizer * factor for factor in factors))
    return defaults


def _parameter_records(dataset: object, fit: FitResult) -> list[dict[str, object]]:
    """The long-table rows of one fit."""
    return [
        {
            "dataset": dataset,
            "model": fit.model,
            "parameter": name,
            "estimate": value,
            "standard_error": fit.standard_errors[name],
            "ci_lower": fit.lower_95[name],
            "ci_upper": fit.upper_95[name],
            "log_likelihood": fit.log_likelihood,
            "n_customers": fit.n_customers,
            "n_rows": fit.n_rows,
            "converged": fit.converged,
            "penalizer": fit.penalizer,
            "attempts": fit.attempts,
            "fit_message": fit.message,
        }
        for name, value in fit.params.items()
    ]


def _parameters_of(parameters: pd.DataFrame, dataset: object, model: str) -> dict[str, float]:
    """One dataset's estimates of one model from a fit_models table."""
    rows = parameters[(parameters["dataset"] == dataset) & (parameters["model"] == model)]
    found = dict(zip(rows["parameter"], rows["estimate"].astype(float), strict=True))
    names = MODEL_PARAMETERS[model]
    if set(found) != set(names) or len(rows) != len(names):
        raise ValueError(
            f"dataset {dataset!r}: expected one estimate of each {MODEL_LABELS[model]} "
            f"parameter {list(names)}, found {rows['parameter'].tolist()}"
        )
    return found


def _transaction_model_of(parameters: pd.DataFrame, dataset: object) -> str:
    """The one transaction model with parameters for ``dataset`` in a fit_models table."""
    rows = parameters[
        (parameters["dataset"] == dataset) & parameters["model"].isin(TRANSACTION_MODELS)
    ]
    models = sorted(set(rows["model"]), key=TRANSACTION_MODELS.index)
    if not models:
        raise ValueError(
            f"dataset {dataset!r}: expected one estimate of each parameter of one transaction "
            f"model {list(TRANSACTION_MODELS)}, found none"
        )
    if len(models) > 1:
        raise ValueError(
            f"dataset {dataset!r}: parameters of several transaction models {models}; "
            "score with one"
        )
    return str(models[0])


def _validated_profiles(
    part: pd.DataFrame, dataset: object
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One dataset's profile columns as float arrays, or a ValueError naming the bad rows."""
    x = _as_float_array(part["frequency"])
    t_x = _as_float_array(part["recency"])
    age = _as_float_array(part["T"])
    m = _as_float_array(part["monetary_value"])
    finite = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(age)
    checks = {
        "non-finite frequency, recency or T": ~finite,
        "negative frequency": finite & (x < 0),
        "recency outside [0, T]": finite & ((t_x < 0) | (t_x > age)),
        "non-finite monetary_value with frequency > 0": finite & (x > 0) & ~np.isfinite(m),
    }
    problems = [
        f"{int(mask.sum())} row(s) with {what}" for what, mask in checks.items() if mask.any()
    ]
    if problems:
        raise ValueError(f"dataset {dataset!r}: invalid profiles: " + "; ".join(problems))
    return x, t_x, age, m


def _datasets(frame: pd.DataFrame) -> list[object]:
    """The distinct dataset values of a frame, sorted; a null dataset is an error."""
    values = frame["dataset"]
    if values.isna().any():
        raise ValueError("the dataset column has nulls")
    return sorted(values.unique().tolist(), key=str)


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise a ValueError naming the columns ``frame`` lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}; it has {list(frame.columns)}")
