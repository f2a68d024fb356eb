"""BTYD models: BG/NBD (purchase counts) and Gamma-Gamma (spend per purchase).

Fitting, predictions and the two table-level functions used by the project's dbt Python models.
The ``lifetimes`` package does the maximum-likelihood fits and is used only in this module, so it
can be swapped without touching the callers. The prediction formulas are written out here
(numpy / scipy); they equal the ``lifetimes`` methods of the same name to rounding.

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
* BG/NBD parameters ``r, alpha, a, b``: purchase rate ``lambda ~ Gamma(shape r, rate alpha)``
  with ``alpha`` in model time units; dropout probability after each repeat purchase
  ``p ~ Beta(a, b)``. Gamma-Gamma parameters ``p, q, v``: a purchase value is
  ``Gamma(shape p, rate nu)`` with ``nu ~ Gamma(shape q, rate v)``; ``v`` is in currency units.

The penalty is the one of ``lifetimes`` 0.11.3: ``penalizer * sum(params**2)`` added to the
*mean* negative log-likelihood per customer, so its weight does not shrink as the data grow. For
BG/NBD it applies to ``alpha`` in rescaled time (``alpha / max(T)``); for Gamma-Gamma it applies
to ``v`` in currency units, so even the course's ``penalizer = 0.01`` shrinks ``v`` and ``q``
strongly (CDNOW: q = 3.74 unpenalised, 0.97 with 0.01). A Gamma-Gamma attempt with ``q <= 1``
fails (its population mean purchase value does not exist, and the expected average profit of
one-time buyers would be negative), so the fallback goes on to the next penalizer.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, gammaln, hyp2f1

# lifetimes changes the global warning filters when imported (and warns about pandas options):
# keep both inside this block.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", module="lifetimes")
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import ConvergenceError

BGNBD = "bgnbd"
GAMMA_GAMMA = "gamma_gamma"
BGNBD_PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS: tuple[str, ...] = ("p", "q", "v")
MODEL_LABELS: dict[str, str] = {BGNBD: "BG/NBD", GAMMA_GAMMA: "Gamma-Gamma"}

DEFAULT_BGNBD_FALLBACKS: tuple[float, ...] = (0.01, 0.1, 1.0)
# Gamma-Gamma: a penalty only pulls q further below 1 (rejected), so its fallbacks stay small.
DEFAULT_GAMMA_GAMMA_FALLBACKS: tuple[float, ...] = (0.0001, 0.001)
# fit_models: after the configured penalizer, the unpenalised fit (0), then the configured
# penalizer times these factors.
BGNBD_FALLBACK_FACTORS: tuple[float, ...] = (10.0, 100.0, 1000.0)
GAMMA_GAMMA_FALLBACK_FACTORS: tuple[float, ...] = (10.0, 100.0)
# An estimate outside [MIN_PARAMETER, MAX_PARAMETER] has run off to the boundary of the
# parameter space (e.g. BG/NBD a = 3.8e-14 on the 2009-2010 sheet with penalizer 0.1): the
# optimiser "converged" on a degenerate model whose predictions overflow. Such an attempt fails.
MIN_PARAMETER = 1e-8
MAX_PARAMETER = 1e8
Z_95 = 1.96  # the normal quantile of lifetimes' "95% bound" columns

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
BGNBD_INPUT_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "recency", "T", "customers")
GAMMA_GAMMA_INPUT_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "monetary_value", "customers")
PROFILE_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "recency", "T", "monetary_value")

FloatArray = NDArray[np.float64]


class ModelFitError(RuntimeError):
    """A model that cannot be fitted; the message names the dataset, the model and why."""

    def __init__(
        self,
        message: str,
        *,
        dataset: str | None = None,
        model: str | None = None,
        reasons: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.model = model
        self.reasons = tuple(reasons)


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


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


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

    Inputs are array-likes of equal length: ``frequency`` (repeat purchases, integers >= 0),
    ``recency`` and ``T`` (model time unit, ``0 <= recency <= T``, recency 0 when frequency is 0)
    and ``weights`` (customers per row, > 0; default 1). Identical rows are merged first.
    ``dataset`` only names the data in error messages.

    Fallback rule: the fit is tried with ``penalizer``, then with each of
    ``fallback_penalizers`` in turn, until one attempt is good. An attempt fails when
    ``lifetimes`` raises (including its ``ConvergenceError`` when scipy's optimiser reports no
    convergence), when a parameter is not finite and > 0, when a parameter has run off to the
    boundary (outside [MIN_PARAMETER, MAX_PARAMETER]), when the log-likelihood at the estimate
    is not finite, or, for Gamma-Gamma, when q <= 1. A penalizer already tried is skipped.
    (On success lifetimes exposes no optimiser result: a returned fit
    had ``scipy.optimize.minimize(...).success``, so ``converged`` is always True.) The first
    good attempt is returned with ``attempts`` (1 = first try) and ``message``
    (``'converged'`` or ``'retried with penalizer X after: <reasons>'``). Standard errors that
    are not finite (Hessian not positive definite) do not fail an attempt: they are NaN and the
    message says so.

    Raises:
        ModelFitError: invalid or degenerate input, checked before any attempt (no rows; no
            repeat purchases at all, where the model is not identified: the likelihood keeps
            rising as ``r`` goes to 0), or every attempt failed (the message lists them all).
    """
    model = BGNBD
    x, t_x, age, w = _validated_bgnbd_inputs(frequency, recency, T, weights, dataset)
    rows = _merge_identical_rows({"frequency": x, "recency": t_x, "T": age}, w)
    x, t_x, age = rows["frequency"], rows["recency"], rows["T"]
    w = rows["weights"]

    def attempt(pen: float) -> tuple[dict[str, float], dict[str, float]]:
        fitter = BetaGeoFitter(penalizer_coef=pen)
        _call_lifetimes(
            fitter.fit, pd.Series(x), pd.Series(t_x), pd.Series(age), weights=pd.Series(w)
        )
        return _params_and_errors(fitter, BGNBD_PARAMETERS)

    def log_likelihood(params: Mapping[str, float]) -> float:
        return bgnbd_log_likelihood(params, x, t_x, age, w)

    return _fit_with_fallback(
        model, dataset, penalizer, fallback_penalizers, attempt, log_likelihood, w
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
    messages. The fallback rule is that of `fit_bgnbd`.

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
        _call_lifetimes(fitter.fit, pd.Series(x), pd.Series(m), weights=pd.Series(w))
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
    """Run ``attempt`` for each penalizer in turn and wrap the first good one (see fit_bgnbd)."""
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
    raise _fit_error(model, dataset, "no attempt succeeded: " + "; ".join(reasons), reasons)


def _call_lifetimes(fit: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Call a lifetimes ``fit`` quietly; any exception becomes `_AttemptError` with a reason.

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
            fit(*args, **kwargs)
    except ConvergenceError as error:
        found = re.search(r"message:\s*(.+)", printed.getvalue())
        detail = f" (scipy: {found.group(1).strip()})" if found else ""
        raise _AttemptError(f"the optimiser did not converge{detail}") from error
    except Exception as error:  # lifetimes/scipy/numpy may raise anything: record it, move on
        text = " ".join(str(error).split())
        raise _AttemptError(f"{type(error).__name__}: {text}") from error


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


# --------------------------------------------------------------------------------------------
# Predictions (vectorised; results equal the lifetimes methods to rounding)
# --------------------------------------------------------------------------------------------


def probability_alive(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
) -> FloatArray:
    """P(customer still alive at T | frequency, recency, T) under BG/NBD (Hardie, note 021).

    Equals ``BetaGeoFitter.conditional_probability_alive``; 1 for frequency 0 (BG/NBD customers
    can only drop out right after a repeat purchase), also when ``T == 0``.
    """
    r, alpha, a, b = _unpack(params, BGNBD_PARAMETERS, BGNBD)
    x, t_x, age = _broadcast(frequency, recency, T)
    with np.errstate(all="ignore"):
        log_div = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(
            a / (b + np.maximum(x, 1) - 1)
        )
        return np.atleast_1d(np.where(x == 0, 1.0, expit(-log_div)))


def expected_purchases(
    params: Mapping[str, float],
    horizon: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
) -> FloatArray:
    """Expected repeat purchases in ``(T, T + horizon]`` given the history (BG/NBD, eq. 10).

    ``horizon``, ``recency`` and ``T`` are in the model time unit. Equals
    ``BetaGeoFitter.conditional_expected_number_of_purchases_up_to_time(horizon, ...)``. For a
    customer with ``T == 0`` (first purchase on the analysis date, so frequency 0) this is the
    unconditional expectation for a newly acquired customer (eq. 9): no special case is needed.
    Non-decreasing in ``horizon``; 0 at ``horizon == 0``. Needs ``a != 1`` (``a == 1`` divides
    by zero in the closed form).
    """
    r, alpha, a, b = _unpack(params, BGNBD_PARAMETERS, BGNBD)
    t = float(horizon)
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"horizon must be finite and >= 0, got {horizon!r}")
    x, t_x, age = _broadcast(frequency, recency, T)
    with np.errstate(all="ignore"):
        hyp_a = r + x
        hyp_b = b + x
        hyp_c = a + b + x - 1
        z = t / (alpha + age + t)
        ln_hyp = np.log(hyp2f1(hyp_a, hyp_b, hyp_c, z))
        # Where 2F1 overflows, use Euler's transformation (as lifetimes does).
        ln_hyp_alt = np.log(hyp2f1(hyp_c - hyp_a, hyp_c - hyp_b, hyp_c, z)) + (
            hyp_c - hyp_a - hyp_b
        ) * np.log(1 - z)
        ln_hyp = np.where(np.isinf(ln_hyp), ln_hyp_alt, ln_hyp)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - np.exp(ln_hyp + (r + x) * np.log((alpha + age) / (alpha + t + age)))
        odds_dead = np.where(
            x > 0, (a / (b + x - 1)) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0
        )
        return np.atleast_1d((first * second) / (1 + odds_dead))


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
) -> FloatArray:
    """Discounted expected value of a customer's purchases over the next ``months`` months.

    Currency units. ``lifetimes``' definition: for each month ``k = 1..months`` the expected
    purchases between ``(k-1)`` and ``k`` months after ``T`` (months of ``units_per_month``
    model time units; 4.345 for weeks) times `expected_average_profit`, divided by
    ``(1 + monthly_discount_rate) ** k``, summed. With weeks as the unit this equals
    ``GammaGammaFitter.customer_lifetime_value(..., time=months, discount_rate=...,
    freq='W')``. Revenue, not profit: apply a margin downstream if wanted.
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
    previous = expected_purchases(bgnbd_params, 0.0, x, t_x, age)
    for month in range(1, int(months) + 1):
        cumulative = expected_purchases(bgnbd_params, month * units_per_month, x, t_x, age)
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
) -> pd.DataFrame:
    """Fit BG/NBD and Gamma-Gamma for every dataset in ``bgnbd_inputs``, each on its own.

    ``bgnbd_inputs``: columns ``dataset, frequency, recency, T, customers`` (distinct rows and
    their customer counts; times in the model unit). ``gamma_gamma_inputs``: columns
    ``dataset, frequency, monetary_value, customers`` (repeat buyers; rows with frequency 0 are
    ignored). Penalizers may arrive as strings from dbt config: they are converted with
    ``float``. The fallback penalizers are 0 (the unpenalised fit), then the penalizer times
    10, 100, 1000 (BG/NBD) or 10, 100 (Gamma-Gamma); with a penalizer of 0 they are the
    defaults of `fit_bgnbd` / `fit_gamma_gamma`.

    Returns one row per dataset, model (``bgnbd``, ``gamma_gamma``) and parameter with the
    columns of `PARAMETER_COLUMNS`, sorted by dataset, model, parameter order. Datasets that
    appear only in ``gamma_gamma_inputs`` are ignored.

    Raises:
        ModelFitError: naming the dataset and model, when a model cannot be fitted.
    """
    _require_columns(bgnbd_inputs, BGNBD_INPUT_COLUMNS, "bgnbd_inputs")
    _require_columns(gamma_gamma_inputs, GAMMA_GAMMA_INPUT_COLUMNS, "gamma_gamma_inputs")
    bgnbd_pen = float(bgnbd_penalizer)
    gamma_gamma_pen = float(gamma_gamma_penalizer)
    bgnbd_fallbacks = _fallbacks(bgnbd_pen, BGNBD_FALLBACK_FACTORS, DEFAULT_BGNBD_FALLBACKS)
    gamma_gamma_fallbacks = _fallbacks(
        gamma_gamma_pen, GAMMA_GAMMA_FALLBACK_FACTORS, DEFAULT_GAMMA_GAMMA_FALLBACKS
    )
    records: list[dict[str, object]] = []
    for dataset in _datasets(bgnbd_inputs):
        purchases = bgnbd_inputs[bgnbd_inputs["dataset"] == dataset]
        spend = gamma_gamma_inputs[gamma_gamma_inputs["dataset"] == dataset]
        name = str(dataset)
        fits = (
            fit_bgnbd(
                purchases["frequency"],
                purchases["recency"],
                purchases["T"],
                purchases["customers"],
                penalizer=bgnbd_pen,
                fallback_penalizers=bgnbd_fallbacks,
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
    return table.astype(
        {
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
    )


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
    ``dataset, model, parameter, estimate`` are used). ``horizons`` maps output column names to
    horizons in the model time unit. Valid rows have ``frequency >= 0``,
    ``0 <= recency <= T`` and a finite ``monetary_value`` when ``frequency > 0``; ``T == 0`` is
    valid (first purchase on the analysis date): such a customer gets ``probability_alive`` 1
    and the expected purchases of a newly acquired customer. For frequency 0 the monetary value
    is ignored and ``expected_average_profit`` is the population mean ``p * v / (q - 1)``.

    Returns a copy of ``profiles`` (same index and row order) with the added float columns
    ``probability_alive``, one per horizon (in the mapping's order),
    ``expected_average_profit`` and ``clv`` (see `customer_lifetime_value`).

    Raises:
        ValueError: missing columns or parameters, invalid rows, or a non-finite score (the
            message names the dataset).
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
        bgnbd_params = _parameters_of(parameters, dataset, BGNBD)
        gg_params = _parameters_of(parameters, dataset, GAMMA_GAMMA)
        x, t_x, age, m = _validated_profiles(part, dataset)
        scores["probability_alive"][rows] = probability_alive(bgnbd_params, x, t_x, age)
        for name, horizon in horizon_values.items():
            scores[name][rows] = expected_purchases(bgnbd_params, horizon, x, t_x, age)
        scores["expected_average_profit"][rows] = expected_average_profit(gg_params, x, m)
        scores["clv"][rows] = customer_lifetime_value(
            bgnbd_params,
            gg_params,
            x,
            t_x,
            age,
            m,
            months=int(clv_months),
            monthly_discount_rate=float(monthly_discount_rate),
            units_per_month=float(units_per_month),
        )
        for name in added:
            bad = int(np.sum(~np.isfinite(scores[name][rows])))
            if bad:
                raise ValueError(
                    f"dataset {dataset!r}: {bad} profile(s) got a non-finite {name}; "
                    f"parameters BG/NBD {bgnbd_params}, Gamma-Gamma {gg_params}"
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
    model: str, dataset: str | None, reason: str, reasons: Sequence[str] = ()
) -> ModelFitError:
    """A ModelFitError whose message names the dataset and the model."""
    where = f" for dataset {dataset!r}" if dataset is not None else ""
    return ModelFitError(
        f"{MODEL_LABELS[model]} model cannot be fitted{where}: {reason}",
        dataset=dataset,
        model=model,
        reasons=reasons or (reason,),
    )


def _validated_columns(
    model: str, dataset: str | None, columns: Mapping[str, ArrayLike], weights: ArrayLike | None
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Equal-length 1-D float columns and weights (default 1), with the checks shared by both
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


def _validated_bgnbd_inputs(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None,
    dataset: str | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """BG/NBD inputs as float arrays, or a ModelFitError saying what is wrong with them."""
    arrays, w = _validated_columns(
        BGNBD, dataset, {"frequency": frequency, "recency": recency, "T": T}, weights
    )
    x, t_x, age = arrays["frequency"], arrays["recency"], arrays["T"]
    finite = np.isfinite(t_x) & np.isfinite(age)
    checks = {
        "non-finite recency or T": ~finite,
        "negative recency": finite & (t_x < 0),
        "recency greater than T": finite & (t_x > age),
        "non-zero recency with frequency 0": finite & (x == 0) & (t_x != 0),
    }
    _raise_on_bad_rows(BGNBD, dataset, checks)
    if not np.any(x > 0):
        raise _fit_error(
            BGNBD,
            dataset,
            "no repeat purchases at all (every frequency is 0), so the purchase rate and the "
            "dropout probability are not identified",
        )
    if not np.any(age > 0):
        raise _fit_error(BGNBD, dataset, "every T is 0 (no observation time)")
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
    names = BGNBD_PARAMETERS if model == BGNBD else GAMMA_GAMMA_PARAMETERS
    if set(found) != set(names) or len(rows) != len(names):
        raise ValueError(
            f"dataset {dataset!r}: expected one estimate of each {MODEL_LABELS[model]} "
            f"parameter {list(names)}, found {rows['parameter'].tolist()}"
        )
    return found


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
