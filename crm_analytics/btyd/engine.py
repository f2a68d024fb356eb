"""The fitting engine shared by every BTYD model: input checks, the fallback-penalizer loop, the
``lifetimes`` adapters and the standard errors.

A model module supplies one *attempt* (fit with one penalizer, return estimates and standard
errors) and its log-likelihood; the engine checks and merges the input rows, runs the attempt
for the configured penalizer and then for each fallback penalizer until one gives a usable
estimate, and wraps it in a `FitResult`. ``lifetimes`` is imported here only, so it can be
swapped without touching the callers.

The penalty is the one of ``lifetimes`` 0.11.3: ``penalizer * sum(params**2)`` added to the
*mean* negative log-likelihood per customer, so its weight does not shrink as the data grow.
For the transaction models it applies to ``alpha`` (and ``beta``) in rescaled time
(``alpha / max(T)``); for Gamma-Gamma to ``v`` in currency units.
"""

from __future__ import annotations

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

from crm_analytics.btyd.concurrency import quiet_section
from crm_analytics.btyd.names import MODEL_LABELS
from crm_analytics.btyd.numerics import FloatArray, Params, as_float_array

# lifetimes changes the global warning filters when imported (and warns about pandas options):
# keep both inside this block. The model modules take the fitter classes from here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", module="lifetimes")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter
    from lifetimes.utils import ConvergenceError

__all__ = [
    "DEFAULT_TRANSACTION_FALLBACKS",
    "MAX_PARAMETER",
    "MIN_PARAMETER",
    "TRANSACTION_FALLBACK_FACTORS",
    "Z_95",
    "Attempt",
    "BetaGeoFitter",
    "FitAttemptError",
    "FitResult",
    "GammaGammaFitter",
    "ModelFitError",
    "ModifiedBetaGeoFitter",
    "TransactionAttempt",
    "call_quietly",
    "central_gradient",
    "central_hessian",
    "delta_method_errors",
    "fallback_penalizers",
    "fit_error",
    "fit_transaction_rows",
    "fit_with_fallback",
    "lifetimes_attempt",
    "log_parameter_covariance",
    "log_scale_interval",
    "merge_identical_rows",
    "newton_polish",
    "raise_on_bad_rows",
    "validated_columns",
    "validated_transaction_inputs",
]

# The transaction models' fallbacks: after an unpenalised first attempt, these penalizers; after
# a penalized one, 0 (the unpenalised fit) then the penalizer times these factors (fit_models).
DEFAULT_TRANSACTION_FALLBACKS: tuple[float, ...] = (0.01, 0.1, 1.0)
TRANSACTION_FALLBACK_FACTORS: tuple[float, ...] = (10.0, 100.0, 1000.0)
# An estimate outside [MIN_PARAMETER, MAX_PARAMETER] has run off to the boundary of the
# parameter space (e.g. BG/NBD a = 3.8e-14 on the 2009-2010 sheet with penalizer 0.1): the
# optimiser "converged" on a degenerate model whose predictions overflow. Such an attempt fails.
MIN_PARAMETER = 1e-8
MAX_PARAMETER = 1e8
Z_95 = 1.96  # the normal quantile of lifetimes' "95% bound" columns
_GRADIENT_STEP = 1e-5  # log-parameter steps of the central differences
_HESSIAN_STEP = 1e-4

_Result = TypeVar("_Result")
# One penalizer's attempt of a model on prepared rows: estimates and standard errors by name.
Attempt = Callable[[float], tuple[Params, Params]]
# A transaction model's attempt: (frequency, recency, T, weights, penalizer) -> the same.
TransactionAttempt = Callable[
    [FloatArray, FloatArray, FloatArray, FloatArray, float], tuple[Params, Params]
]
# A transaction model's total log-likelihood: (params, frequency, recency, T, weights).
TransactionLogLikelihood = Callable[
    [Mapping[str, float], FloatArray, FloatArray, FloatArray, FloatArray], float
]


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


class FitAttemptError(Exception):
    """One penalizer's attempt failed; the message is the reason (the fallback goes on)."""


@dataclass(frozen=True)
class FitResult:
    """One fitted model.

    ``params`` are in the model's units (see its module). ``standard_errors`` come from the
    inverse Hessian of the minimised objective (the weighted negative log-likelihood of all
    customers, plus the penalty when ``penalizer > 0``) at the estimate; ``lower_95`` and
    ``upper_95`` are the delta-method bounds on the log scale (`log_scale_interval`), which stay
    positive as the parameters are, unlike ``estimate -/+ 1.96 * standard_error`` (lifetimes'
    bounds, below 0 for weakly identified parameters). ``log_likelihood`` is the total over
    customers (weighted), without the penalty, with times in the model unit.

    ``log_covariance`` is the asymptotic covariance of the log-parameters (in ``params`` order):
    ``D R D`` with ``D = diag(standard_error / estimate)`` (the standard errors above, so the
    marginals agree with the intervals) and ``R`` the correlations of the inverse observed
    information of the unpenalised log-likelihood (central differences in log-parameters; the
    identity where that Hessian is not positive definite). None where a standard error is not
    finite. The prediction intervals (delta method) use it as the covariance of the log-parameters.
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
    log_covariance: tuple[tuple[float, ...], ...] | None = None


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def fit_error(
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


def raise_on_bad_rows(
    model: str, dataset: str | None, checks: Mapping[str, NDArray[np.bool_]]
) -> None:
    """Raise a ModelFitError listing how many rows fail each named check."""
    problems = [
        f"{int(mask.sum())} row(s) with {what}" for what, mask in checks.items() if mask.any()
    ]
    if problems:
        raise fit_error(model, dataset, "invalid input: " + "; ".join(problems))


def validated_columns(
    model: str, dataset: str | None, columns: Mapping[str, ArrayLike], weights: ArrayLike | None
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Equal-length 1-D float columns and weights (default 1), with the checks shared by all
    models: at least one row, finite values, integer frequency >= 0, finite weights > 0."""
    arrays = {name: as_float_array(values).ravel() for name, values in columns.items()}
    n = len(next(iter(arrays.values())))
    w = np.ones(n) if weights is None else as_float_array(weights).ravel()
    lengths = {name: len(a) for name, a in arrays.items()} | {"weights": len(w)}
    if len(set(lengths.values())) != 1:
        raise fit_error(model, dataset, f"inputs differ in length: {lengths}")
    if n == 0:
        raise fit_error(model, dataset, "no rows")
    x = arrays["frequency"]
    checks = {
        "non-finite frequency": ~np.isfinite(x),
        "negative or non-integer frequency": np.isfinite(x) & ((x < 0) | (x != np.round(x))),
        "non-finite or non-positive weights": ~(np.isfinite(w) & (w > 0)),
    }
    raise_on_bad_rows(model, dataset, checks)
    return arrays, w


def validated_transaction_inputs(
    model: str,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None,
    dataset: str | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """A transaction model's inputs as float arrays, or a ModelFitError saying what is wrong.

    ``frequency``: integers >= 0; ``recency`` and ``T`` (model time unit):
    ``0 <= recency <= T``, recency 0 when frequency is 0; at least one repeat purchase and one
    ``T > 0`` (otherwise the model is not identified).
    """
    arrays, w = validated_columns(
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
    raise_on_bad_rows(model, dataset, checks)
    if not np.any(x > 0):
        raise fit_error(
            model,
            dataset,
            "no repeat purchases at all (every frequency is 0), so the purchase rate and the "
            "dropout process are not identified",
        )
    if not np.any(age > 0):
        raise fit_error(model, dataset, "every T is 0 (no observation time)")
    return x, t_x, age, w


def merge_identical_rows(
    columns: Mapping[str, FloatArray], weights: FloatArray
) -> dict[str, FloatArray]:
    """Identical rows merged into one, their weights summed (sorted by the columns); the
    merged weights are under the key ``weights``."""
    frame = pd.DataFrame(dict(columns))
    frame["weights"] = weights
    merged = frame.groupby(list(columns), sort=True, as_index=False)["weights"].sum()
    return {name: merged[name].to_numpy(dtype=float) for name in merged.columns}


# --------------------------------------------------------------------------------------------
# The fallback-penalizer loop
# --------------------------------------------------------------------------------------------


def fallback_penalizers(
    penalizer: float, factors: tuple[float, ...], defaults: tuple[float, ...]
) -> tuple[float, ...]:
    """The fallback penalizers that the table functions use after ``penalizer``.

    After a penalized attempt: the unpenalised maximum-likelihood fit (what the literature
    reports; on the 2009-2010 sheet BG/NBD with the course's 0.001 does not converge, and
    larger penalizers only collapse a and b to 0), then ``penalizer`` times each of
    ``factors``. After an unpenalised attempt: ``defaults``.
    """
    if penalizer > 0:
        return (0.0, *(penalizer * factor for factor in factors))
    return defaults


def fit_with_fallback(
    model: str,
    dataset: str | None,
    penalizer: float,
    fallback_penalizers: Sequence[float],
    attempt: Attempt,
    log_likelihood: Callable[[Mapping[str, float]], float],
    weights: FloatArray,
    accept: Callable[[Mapping[str, float]], None] | None = None,
    log_likelihood_hessian: Callable[[Mapping[str, float]], FloatArray] | None = None,
) -> FitResult:
    """Run ``attempt`` for ``penalizer``, then each of ``fallback_penalizers`` in turn (one
    already tried is skipped), and wrap the first good estimate in a `FitResult`.

    An attempt fails when it raises `FitAttemptError` (`call_quietly` turns any optimiser
    failure into one), when a parameter is not finite and > 0, when a parameter has run off to
    the boundary (outside [MIN_PARAMETER, MAX_PARAMETER]), when ``accept`` (the model's own
    rule, e.g. Gamma-Gamma's q > 1) raises `FitAttemptError`, or when ``log_likelihood`` at the
    estimate (total, weighted, unpenalised) is not finite. ``weights`` are the customers per
    row of the data the attempts fit (for ``n_customers`` and ``n_rows``).
    ``log_likelihood_hessian``, where the model has it, is the exact Hessian of
    ``log_likelihood`` in the log-parameters (for ``log_covariance``; central differences of
    ``log_likelihood`` otherwise).

    The result has ``attempts`` (1 = first try) and ``message`` (``'converged'`` or
    ``'retried with penalizer X after: <reasons>'``); ``converged`` is always True. Standard
    errors that are not finite (Hessian not positive definite) do not fail an attempt: they
    are NaN and the message says so.

    Raises:
        ValueError: a penalizer that is not finite and >= 0.
        ModelFitError: every attempt failed (the message lists them all).
    """
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
                raise FitAttemptError(f"parameters not finite and positive: {listed}")
            collapsed = [
                name
                for name, value in params.items()
                if not MIN_PARAMETER <= value <= MAX_PARAMETER
            ]
            if collapsed:
                listed = ", ".join(f"{name}={params[name]:.3g}" for name in collapsed)
                raise FitAttemptError(f"degenerate estimate at the boundary: {listed}")
            if accept is not None:
                accept(params)
            ll = log_likelihood(params)
            if not math.isfinite(ll):
                raise FitAttemptError(f"log-likelihood not finite ({ll!r})")
        except FitAttemptError as failure:
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
        bounds = {name: log_scale_interval(params[name], errors[name]) for name in params}
        return FitResult(
            model=model,
            params=params,
            standard_errors=errors,
            lower_95={name: bound[0] for name, bound in bounds.items()},
            upper_95={name: bound[1] for name, bound in bounds.items()},
            log_likelihood=ll,
            n_customers=float(np.sum(weights)),
            n_rows=int(weights.size),
            converged=True,
            penalizer=pen,
            attempts=number,
            message=message,
            log_covariance=log_parameter_covariance(
                params, errors, log_likelihood, log_likelihood_hessian
            ),
        )
    raise fit_error(
        model,
        dataset,
        "no attempt succeeded: " + "; ".join(reasons),
        reasons,
        attempts=len(penalizers),
    )


def fit_transaction_rows(
    model: str,
    attempt: TransactionAttempt,
    log_likelihood: TransactionLogLikelihood,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None,
    penalizer: float,
    fallback_penalizers: Sequence[float],
    dataset: str | None,
) -> FitResult:
    """Fit a transaction model: check the rows (`validated_transaction_inputs`), merge
    identical ones, then `fit_with_fallback` with the model's ``attempt`` and
    ``log_likelihood`` on the merged rows (see the model modules' ``fit``)."""
    x, t_x, age, w = validated_transaction_inputs(model, frequency, recency, T, weights, dataset)
    rows = merge_identical_rows({"frequency": x, "recency": t_x, "T": age}, w)
    x, t_x, age, w = rows["frequency"], rows["recency"], rows["T"], rows["weights"]
    return fit_with_fallback(
        model,
        dataset,
        penalizer,
        fallback_penalizers,
        lambda pen: attempt(x, t_x, age, w, pen),
        lambda params: log_likelihood(params, x, t_x, age, w),
        w,
    )


# --------------------------------------------------------------------------------------------
# lifetimes adapters
# --------------------------------------------------------------------------------------------


def call_quietly(function: Callable[..., _Result], *args: object, **kwargs: object) -> _Result:
    """Call a fitting function quietly; any exception becomes `FitAttemptError` with a reason.

    lifetimes prints scipy's result to stdout before raising ``ConvergenceError``: the print is
    captured and its ``message:`` line becomes part of the reason. Safe to call from several
    threads at once (`concurrency.quiet_section`).
    """
    printed = io.StringIO()
    try:
        with quiet_section(printed), np.errstate(all="ignore"):
            return function(*args, **kwargs)
    except FitAttemptError:
        raise
    except ConvergenceError as error:
        found = re.search(r"message:\s*(.+)", printed.getvalue())
        detail = f" (scipy: {found.group(1).strip()})" if found else ""
        raise FitAttemptError(f"the optimiser did not converge{detail}") from error
    except Exception as error:  # lifetimes/scipy/numpy may raise anything: record it, move on
        text = " ".join(str(error).split())
        raise FitAttemptError(f"{type(error).__name__}: {text}") from error


def lifetimes_attempt(
    fitter_class: type[BetaGeoFitter] | type[GammaGammaFitter],
    names: tuple[str, ...],
    penalizer: float,
    columns: Sequence[FloatArray],
    weights: FloatArray,
) -> tuple[Params, Params]:
    """One attempt with a lifetimes fitter: ``fitter_class(penalizer_coef=penalizer)`` fitted
    (quietly, see `call_quietly`) to ``columns`` in the order of its ``fit`` method, as plain
    Series (lifetimes fails on one-column DataFrames), with ``weights``.

    Returns the estimates and standard errors of ``names``. lifetimes computes
    ``se = params * sqrt(diag(inv(H)) / sum(weights))`` where ``H`` is the exact (autograd)
    Hessian of its objective (the weighted mean negative log-likelihood plus the penalty) in
    log-parameters: the delta method, correct with weights (tested against finite
    differences). It is NaN where the inverse Hessian has a negative diagonal. (On success
    lifetimes exposes no optimiser result: a returned estimate had
    ``scipy.optimize.minimize(...).success``.)
    """
    fitter = fitter_class(penalizer_coef=penalizer)
    call_quietly(fitter.fit, *(pd.Series(column) for column in columns), weights=pd.Series(weights))
    params = {name: float(fitter.params_[name]) for name in names}
    with np.errstate(all="ignore"):
        errors = {name: float(fitter.standard_errors_[name]) for name in names}
    return params, errors


# --------------------------------------------------------------------------------------------
# Numerical derivatives and the delta method (for the models fitted without lifetimes)
# --------------------------------------------------------------------------------------------


def central_gradient(objective: Callable[[FloatArray], float], theta: FloatArray) -> FloatArray:
    """The gradient of ``objective`` at ``theta`` by central differences."""
    gradient = np.empty(theta.size)
    for i in range(theta.size):
        shift = np.zeros(theta.size)
        shift[i] = _GRADIENT_STEP
        gradient[i] = (objective(theta + shift) - objective(theta - shift)) / (2 * _GRADIENT_STEP)
    return gradient


def central_hessian(objective: Callable[[FloatArray], float], theta: FloatArray) -> FloatArray:
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


def newton_polish(
    objective: Callable[[FloatArray], float],
    theta: FloatArray,
    max_steps: int,
    tolerance: float,
) -> FloatArray:
    """Newton steps from an estimate (e.g. Nelder-Mead's), on central-difference derivatives.

    A step is taken only while the Hessian is positive definite and the objective does not
    rise beyond rounding; the polish stops after ``max_steps`` or after a step below
    ``tolerance`` (in the units of ``theta``, e.g. log-parameters).
    """
    value = objective(theta)
    for _ in range(max_steps):
        hessian = central_hessian(objective, theta)
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            break
        step = np.linalg.solve(hessian, central_gradient(objective, theta))
        candidate = theta - step
        candidate_value = objective(candidate)
        if not candidate_value <= value + 1e-12 * abs(value):
            break
        theta, value = candidate, candidate_value
        if float(np.max(np.abs(step))) < tolerance:
            break
    return theta


def log_scale_interval(
    estimate: float, standard_error: float, z: float = Z_95
) -> tuple[float, float]:
    """The interval ``estimate * exp(-/+ z * standard_error / estimate)`` of a positive
    parameter: the delta-method (Wald) interval of ``log(parameter)``, whose standard error is
    ``standard_error / estimate``, mapped back. It never leaves ``(0, inf)`` and is not
    symmetric: a relative standard error of 1 gives a factor ``exp(1.96) = 7.1`` either way.
    NaN bounds where the standard error is not finite."""
    if not (math.isfinite(standard_error) and estimate > 0):
        return math.nan, math.nan
    # capped below overflow: at a relative error of hundreds the bounds are 0+ and huge anyway
    spread = math.exp(min(z * standard_error / estimate, 700.0))
    return estimate / spread, estimate * spread


def log_parameter_covariance(
    params: Mapping[str, float],
    errors: Mapping[str, float],
    log_likelihood: Callable[[Mapping[str, float]], float],
    log_likelihood_hessian: Callable[[Mapping[str, float]], FloatArray] | None = None,
) -> tuple[tuple[float, ...], ...] | None:
    """The covariance of the log-parameters ``D R D`` (see `FitResult.log_covariance`):
    ``D`` from the standard errors, ``R`` the correlations of the inverse Hessian of
    ``-log_likelihood`` in log-parameters (the identity if it is not positive definite);
    None when a standard error is not finite. The Hessian is ``log_likelihood_hessian``'s
    (exact, in log-parameters) where given, central differences of ``log_likelihood`` (about
    1e-5 relative) otherwise."""
    names = list(params)
    estimate = np.array([params[name] for name in names], dtype=float)
    log_errors = np.array([errors[name] for name in names], dtype=float) / estimate
    if not np.all(np.isfinite(log_errors)):
        return None

    def objective(theta: FloatArray) -> float:
        return -log_likelihood(dict(zip(names, np.exp(theta).tolist(), strict=True)))

    correlation = np.eye(len(names))
    with np.errstate(all="ignore"):
        if log_likelihood_hessian is None:
            hessian = central_hessian(objective, np.log(estimate))
        else:
            hessian = -np.asarray(log_likelihood_hessian(dict(params)), dtype=float)
        try:
            np.linalg.cholesky(hessian)
            inverse = np.linalg.inv(hessian)
            scale = np.sqrt(np.diag(inverse))
            candidate = inverse / np.outer(scale, scale)
            if np.all(np.isfinite(candidate)):
                correlation = candidate
        except np.linalg.LinAlgError:
            pass
    covariance = correlation * np.outer(log_errors, log_errors)
    return tuple(tuple(float(value) for value in row) for row in covariance)


def delta_method_errors(estimate: FloatArray, hessian: FloatArray, total: float) -> FloatArray:
    """``estimate * sqrt(diag(inv(hessian)) / total)``: the standard errors of parameters from
    the Hessian of the mean objective in log-parameters (lifetimes' formula); NaN where the
    inverse Hessian has a negative diagonal or the Hessian is singular."""
    with np.errstate(all="ignore"):
        try:
            variances = np.diag(np.linalg.inv(hessian)) / total
        except np.linalg.LinAlgError:
            variances = np.full(estimate.size, np.nan)
        return estimate * np.sqrt(variances)
