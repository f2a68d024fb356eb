"""The table functions the project's dbt Python models call: pandas in, pandas out, one loop per
dataset, with the SQL column names.

SQL builds the inputs (distinct rows with their customer counts in ``customers``) and
aggregates what these functions return into the marts. Times are in the model time unit
(weeks by default: the ``time_unit_days`` var = 7); the customer's age, the math's ``T`` (time
from the first purchase to the end of the observation period), is the column ``customer_age``
here, as in SQL. ``birth_offset_days`` and calendar weeks are in days / weeks whatever the
unit.

Production fits and scores:

* `fit_models`: a transaction model (BG/NBD unless told otherwise) and Gamma-Gamma per dataset.
* `score_profiles`: P(alive), expected purchases and discounted expected purchases (the CLV's
  transaction factor) per distinct (frequency, recency, T) profile.

Validation (calibration / holdout backtests and diagnostics):

* `fit_validation_models`: every transaction model for every dataset, with AIC and BIC. A
  model that cannot be fitted for a dataset gets rows with NaN estimates and the error in
  ``fit_message`` instead of failing: comparing models, a failing alternative is information.
* `holdout_predictions`: conditional expected purchases over each profile's holdout period.
* `holdout_log_probabilities`: the log-probability of each observed holdout count given the
  calibration history (the terms of the holdout log-likelihood that selects the model).
* `period_transaction_probabilities`: P(X(customer_age) = x), the expected histogram of
  calibration-period repeat purchases, with a final "max_repeat or more" bucket.
* `tracking_expectations`: expected cumulative repeat purchases of one customer by the end of
  each calendar week, by first-purchase day (the tracking plot is their sum over customers).

The last four use, per dataset, every transaction model with a good fit in ``fits`` (a
`fit_validation_models` or `fit_models` table): converged, with one finite positive estimate
for each parameter. Datasets without one are skipped (their failure is in ``fits``). Extra
input columns (e.g. the integer ``recency_days`` / ``customer_age_days`` that SQL joins on) are
passed through; each input row gets its block of output rows (exact duplicate rows are dropped
first in `period_transaction_probabilities` and `tracking_expectations`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import numpy as np
import pandas as pd
from scipy.stats import norm, poisson

from crm_analytics.btyd import gamma_gamma, registry
from crm_analytics.btyd.clv import discounted_expected_purchases
from crm_analytics.btyd.concurrency import run_side_by_side
from crm_analytics.btyd.engine import (
    DEFAULT_TRANSACTION_FALLBACKS,
    TRANSACTION_FALLBACK_FACTORS,
    FitResult,
    ModelFitError,
    fallback_penalizers,
)
from crm_analytics.btyd.names import BGNBD, MBGNBD, MODEL_LABELS, PARETO_NBD, TRANSACTION_MODELS
from crm_analytics.btyd.numerics import FloatArray, Params, as_float_array
from crm_analytics.btyd.registry import MODEL_PARAMETERS
from crm_analytics.units import DAYS_PER_WEEK

# Row i of a fit's log-parameter covariance (`FitResult.log_covariance`), in parameter order;
# NaN beyond the model's parameters (Gamma-Gamma has 3) or where it is not available.
LOG_COVARIANCE_COLUMNS: tuple[str, ...] = tuple(f"log_covariance_{j}" for j in range(1, 5))
# A fit is flagged weakly identified when a parameter's relative standard error exceeds this
# (the dbt var weak_identification_relative_se) or is not finite, or when it sits near a limit
# of the model: a shape parameter below LIMIT_SMALL_SHAPE where that is a limit (a of BG/NBD
# and MBG/NBD, s of Pareto/NBD -> 0: nobody drops out, the NBD), or any shape above
# LIMIT_LARGE_SHAPE (heterogeneity vanishing: a point mass).
DEFAULT_MAX_RELATIVE_STANDARD_ERROR = 1.0
# Per-customer prediction intervals (score_profiles): the level (the dbt var
# prediction_interval_level) and the step of the central differences in log-parameters that
# give each prediction's gradient (the delta method: 2 evaluations per parameter instead of
# hundreds of parameter draws, so the cost stays a few times that of the point prediction).
DEFAULT_INTERVAL_LEVEL = 0.90
LOG_PARAMETER_STEP = 1e-4
LIMIT_SMALL_SHAPE = 0.01
LIMIT_LARGE_SHAPE = 1000.0
_DROPOUT_SHAPES: dict[str, str] = {BGNBD: "a", MBGNBD: "a", PARETO_NBD: "s"}
_SHAPES: tuple[str, ...] = ("r", "a", "b", "s", "p", "q")
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
    "relative_standard_error",
    "weakly_identified",
    "identification_note",
    *LOG_COVARIANCE_COLUMNS,
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
    "relative_standard_error": "float64",
    "weakly_identified": "bool",
    **dict.fromkeys(LOG_COVARIANCE_COLUMNS, "float64"),
}
FIT_COLUMNS: tuple[str, ...] = (*PARAMETER_COLUMNS, "n_parameters", "aic", "bic")
FIT_DTYPES: dict[str, str] = {
    **PARAMETER_DTYPES,
    "n_parameters": "int64",
    "aic": "float64",
    "bic": "float64",
}
TRANSACTION_INPUT_COLUMNS: tuple[str, ...] = (
    "dataset",
    "frequency",
    "recency",
    "customer_age",
    "customers",
)
GAMMA_GAMMA_INPUT_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "monetary_value", "customers")
PROFILE_COLUMNS: tuple[str, ...] = ("dataset", "frequency", "recency", "customer_age")
HOLDOUT_PROFILE_COLUMNS: tuple[str, ...] = (
    "dataset",
    "frequency",
    "recency",
    "customer_age",
    "duration_holdout",
)
# The model name of the Poisson baseline's rows in `holdout_log_probabilities`.
POISSON_BASELINE = "calibration_rate_poisson"
HOLDOUT_COUNT_COLUMNS: tuple[str, ...] = (*HOLDOUT_PROFILE_COLUMNS, "holdout_purchases")
# The smallest probability whose log a holdout count gets: a count the model gives a probability
# that underflows to 0 scores log(1e-300) = -690.8 instead of -inf (one customer would
# otherwise make a model's total -inf); no fitted model on the project's data comes near it.
MIN_LOG_PROBABILITY_ARGUMENT = 1e-300
AGE_COLUMNS: tuple[str, ...] = ("dataset", "customer_age")
BIRTH_COLUMNS: tuple[str, ...] = ("dataset", "birth_offset_days")
WEEK_COLUMNS: tuple[str, ...] = ("dataset", "weeks")
FIT_TABLE_COLUMNS: tuple[str, ...] = ("dataset", "model", "parameter", "estimate", "converged")


# --------------------------------------------------------------------------------------------
# Production fits and scores
# --------------------------------------------------------------------------------------------


def fit_models(
    transaction_inputs: pd.DataFrame,
    gamma_gamma_inputs: pd.DataFrame,
    transaction_model_penalizer: float,
    gamma_gamma_penalizer: float,
    transaction_model: str | Mapping[str, str] = BGNBD,
    max_relative_standard_error: float = DEFAULT_MAX_RELATIVE_STANDARD_ERROR,
) -> pd.DataFrame:
    """Fit a transaction model (BG/NBD by default) and Gamma-Gamma for every dataset in
    ``transaction_inputs``, each dataset on its own.

    ``transaction_model`` is one model name (of `TRANSACTION_MODELS`) for every dataset, or a
    mapping from dataset name to model name (datasets it does not name get BG/NBD), as
    `chosen_models` returns.

    ``transaction_inputs``: columns ``dataset, frequency, recency, customer_age, customers``
    (distinct rows and their customer counts; times in the model unit), used by whichever
    transaction model is fitted, with ``transaction_model_penalizer``.
    ``gamma_gamma_inputs``: columns ``dataset, frequency, monetary_value, customers`` (repeat
    buyers; rows with frequency 0 are ignored). Penalizers may arrive as strings from dbt
    config: they are converted with ``float``. The fallback penalizers are 0 (the unpenalised
    fit), then the penalizer times 10, 100, 1000 (transaction model) or 10, 100 (Gamma-Gamma);
    with a penalizer of 0 they are the defaults of the models' ``fit`` functions.

    ``max_relative_standard_error``: the threshold of the ``weakly_identified`` flag (see
    `identification`).

    Returns one row per dataset, model and parameter with the columns of `PARAMETER_COLUMNS`,
    sorted by dataset, then the transaction model's rows before Gamma-Gamma's, in parameter
    order. Datasets that appear only in ``gamma_gamma_inputs`` are ignored. The fits run side
    by side on up to `fit_threads` threads (``CRM_FIT_THREADS``), with results identical to the
    last bit to fitting them one after another.

    Raises:
        ModelFitError: naming the dataset and model, when a model cannot be fitted.
        ValueError: an unknown transaction model or missing columns.
    """
    if isinstance(transaction_model, str):
        models_by_dataset: dict[str, str] = {}
        default_model = _transaction_model_name(transaction_model)
    else:
        models_by_dataset = {
            str(name): _transaction_model_name(model) for name, model in transaction_model.items()
        }
        default_model = BGNBD
    _require_columns(transaction_inputs, TRANSACTION_INPUT_COLUMNS, "transaction_inputs")
    _require_columns(gamma_gamma_inputs, GAMMA_GAMMA_INPUT_COLUMNS, "gamma_gamma_inputs")
    transaction_pen = float(transaction_model_penalizer)
    gamma_gamma_pen = float(gamma_gamma_penalizer)
    transaction_fallbacks = fallback_penalizers(
        transaction_pen, TRANSACTION_FALLBACK_FACTORS, DEFAULT_TRANSACTION_FALLBACKS
    )
    gamma_gamma_fallbacks = fallback_penalizers(
        gamma_gamma_pen, gamma_gamma.FALLBACK_FACTORS, gamma_gamma.DEFAULT_FALLBACKS
    )
    calls: list[Callable[[], FitResult]] = []
    datasets = _datasets(transaction_inputs)
    for dataset in datasets:
        purchases = transaction_inputs[transaction_inputs["dataset"] == dataset]
        spend = gamma_gamma_inputs[gamma_gamma_inputs["dataset"] == dataset]
        name = str(dataset)
        calls.append(
            partial(
                _fit_transaction_rows,
                models_by_dataset.get(name, default_model),
                purchases,
                transaction_pen,
                transaction_fallbacks,
                name,
            )
        )
        calls.append(
            partial(
                gamma_gamma.fit,
                spend["frequency"],
                spend["monetary_value"],
                spend["customers"],
                penalizer=gamma_gamma_pen,
                fallback_penalizers=gamma_gamma_fallbacks,
                dataset=name,
            )
        )
    # independent fits: side by side on threads, identical to fitting them one by one; the
    # first failure (in dataset, then model order) is raised (run_side_by_side)
    fits = run_side_by_side(calls)
    records: list[dict[str, object]] = []
    for index, fit in enumerate(fits):
        dataset = datasets[index // 2]
        records.extend(_parameter_records(dataset, fit, float(max_relative_standard_error)))
    table = pd.DataFrame.from_records(records, columns=list(PARAMETER_COLUMNS))
    return table.astype(PARAMETER_DTYPES)


def score_profiles(
    profiles: pd.DataFrame,
    parameters: pd.DataFrame,
    horizons: Mapping[str, float],
    clv_months: int,
    monthly_discount_rate: float,
    units_per_month: float,
    interval_horizon: str | None = None,
    interval_level: float = DEFAULT_INTERVAL_LEVEL,
) -> pd.DataFrame:
    """Score each transaction profile with the fitted transaction model of its dataset.

    ``profiles``: columns ``dataset, frequency, recency, customer_age`` (times in the model
    unit; any other columns are kept), one row per distinct profile: what is scored here
    depends on nothing else, so the work is bounded by the distinct profiles, not by the
    customers. ``parameters``: the output of `fit_models` (columns ``dataset, model,
    parameter, estimate`` are used); each dataset's transaction model is the one model of
    `TRANSACTION_MODELS` found for it there. ``horizons`` maps output column names to horizons
    in the model time unit. Valid rows have ``frequency >= 0`` and
    ``0 <= recency <= customer_age``; ``customer_age == 0`` is valid (first purchase on the
    analysis date): such a customer gets the probability alive and expected purchases of a
    newly acquired customer (``probability_alive`` 1 under BG/NBD and Pareto/NBD).

    Returns a copy of ``profiles`` (same index and row order) with the added float columns
    ``probability_alive``, one per horizon (in the mapping's order), and
    ``discounted_expected_purchases`` (purchases over ``clv_months`` months of
    ``units_per_month`` model time units, each month discounted; see
    `discounted_expected_purchases`). The CLV is that times Gamma-Gamma's expected spend per
    purchase, a closed form per customer that SQL computes (cltv_predictions).

    Prediction intervals from parameter uncertainty: with ``interval_horizon`` (a key of
    ``horizons``), the delta method on the log scale. The log-parameters are asymptotically
    normal with the fit's covariance (the ``log_covariance_*`` columns of ``parameters``:
    `FitResult.log_covariance`); the gradient of ln(prediction) in them comes from central
    differences (step `LOG_PARAMETER_STEP`, 2 evaluations per parameter, vectorised over the
    profiles: the work is a few times the point prediction's, per distinct profile), and its
    quadratic form with the covariance is the variance of ln(prediction). Added columns:
    ``<interval_horizon>_lower`` / ``_upper`` = prediction x exp(-/+ z x sd), with z the
    standard normal quantile of ``(1 + interval_level) / 2`` (so the bounds stay positive);
    ``log_discounted_expected_purchases_sd``, the same sd for the discounted expected
    purchases (SQL combines it with the spend's into the CLV interval); and ``interval_z``,
    that z. All NaN for a dataset whose fit has no covariance (a standard error not finite).

    Raises:
        ValueError: missing columns or parameters, no or several transaction models for a
            dataset, invalid rows, or a non-finite score (the message names the dataset).
    """
    _require_columns(profiles, PROFILE_COLUMNS, "profiles")
    _require_columns(parameters, ("dataset", "model", "parameter", "estimate"), "parameters")
    added = ["probability_alive", *horizons, "discounted_expected_purchases"]
    interval_columns: list[str] = []
    if interval_horizon is not None:
        if interval_horizon not in horizons:
            raise ValueError(
                f"interval_horizon {interval_horizon!r} is not one of {list(horizons)}"
            )
        if not 0 < float(interval_level) < 1:
            raise ValueError(f"interval_level must be in (0, 1), got {interval_level!r}")
        interval_columns = [
            f"{interval_horizon}_lower",
            f"{interval_horizon}_upper",
            "log_discounted_expected_purchases_sd",
            "interval_z",
        ]
    clashes = sorted(set(added) & set(profiles.columns))
    if clashes or len(set(added)) != len(added):
        raise ValueError(f"output column names clash with each other or the profiles: {clashes}")
    horizon_values = {name: float(value) for name, value in horizons.items()}
    scores = {name: np.full(len(profiles), np.nan) for name in [*added, *interval_columns]}
    dataset_column = profiles["dataset"].to_numpy()
    frequency_column = as_float_array(profiles["frequency"])
    age_column = as_float_array(profiles["customer_age"])
    for dataset in _datasets(profiles):
        rows = np.flatnonzero(dataset_column == dataset)
        # equal (frequency, customer_age) side by side: their hypergeometric terms are then
        # computed once (numerics.log_hyp2f1); the scores go back to the rows' own positions
        rows = rows[np.lexsort((age_column[rows], frequency_column[rows]))]
        part = profiles.iloc[rows]
        model = _transaction_model_of(parameters, dataset)
        transactions = registry.transaction_model(model)
        transaction_params = _parameters_of(parameters, dataset, model)
        x, t_x, age = _validated_profiles(part, dataset)
        scores["probability_alive"][rows] = transactions.probability_alive(
            transaction_params, x, t_x, age
        )
        for name, horizon in horizon_values.items():
            scores[name][rows] = transactions.expected_purchases(
                transaction_params, horizon, x, t_x, age
            )
        scores["discounted_expected_purchases"][rows] = discounted_expected_purchases(
            transaction_params,
            x,
            t_x,
            age,
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
                    f"parameters {MODEL_LABELS[model]} {transaction_params}"
                )
        if interval_horizon is None:
            continue
        covariance = _log_covariance_of(parameters, dataset, model)
        if covariance is None:
            continue
        names = MODEL_PARAMETERS[model]
        log_estimate = np.log(np.array([transaction_params[name] for name in names]))

        # gradients of ln(prediction) in the log-parameters, by central differences
        gradient_expected = np.empty((len(names), rows.size))
        gradient_discounted = np.empty((len(names), rows.size))
        for k in range(len(names)):
            step = np.zeros(len(names))
            step[k] = LOG_PARAMETER_STEP
            up_expected, up_discounted = _log_predictions(
                model,
                names,
                log_estimate + step,
                horizon_values[interval_horizon],
                x,
                t_x,
                age,
                (int(clv_months), float(monthly_discount_rate), float(units_per_month)),
            )
            down_expected, down_discounted = _log_predictions(
                model,
                names,
                log_estimate - step,
                horizon_values[interval_horizon],
                x,
                t_x,
                age,
                (int(clv_months), float(monthly_discount_rate), float(units_per_month)),
            )
            gradient_expected[k] = (up_expected - down_expected) / (2 * LOG_PARAMETER_STEP)
            gradient_discounted[k] = (up_discounted - down_discounted) / (2 * LOG_PARAMETER_STEP)
        with np.errstate(all="ignore"):
            sd_expected = np.sqrt(
                np.einsum("ir,ij,jr->r", gradient_expected, covariance, gradient_expected)
            )
            spread = np.sqrt(
                np.einsum("ir,ij,jr->r", gradient_discounted, covariance, gradient_discounted)
            )
        z = float(norm.ppf((1 + float(interval_level)) / 2))
        point = scores[interval_horizon][rows]
        # 0 expected purchases (a zero horizon): ln is -inf and the difference NaN; no spread
        sd_expected = np.where(np.isfinite(sd_expected), sd_expected, 0.0)
        lower = point * np.exp(-z * sd_expected)
        upper = point * np.exp(z * sd_expected)
        scores[interval_columns[0]][rows] = lower
        scores[interval_columns[1]][rows] = upper
        # no purchases expected (months = 0): ln is -inf, no spread
        scores[interval_columns[2]][rows] = np.where(np.isfinite(spread), spread, 0.0)
        scores[interval_columns[3]][rows] = z
    result = profiles.copy()
    for name in [*added, *interval_columns]:
        result[name] = scores[name]
    return result


def _log_predictions(
    model: str,
    names: Sequence[str],
    log_params: FloatArray,
    horizon: float,
    x: FloatArray,
    t_x: FloatArray,
    age: FloatArray,
    clv_terms: tuple[int, float, float],
) -> tuple[FloatArray, FloatArray]:
    """ln of the expected purchases over ``horizon`` and of the discounted expected purchases
    (``clv_terms`` = months, monthly discount rate, model units per month) of profiles
    (x, t_x, age) under the parameters ``exp(log_params)`` of ``model``."""
    params = dict(zip(names, np.exp(log_params).tolist(), strict=True))
    months, monthly_discount_rate, units_per_month = clv_terms
    with np.errstate(all="ignore"):
        expected = registry.transaction_model(model).expected_purchases(
            params, horizon, x, t_x, age
        )
        discounted = discounted_expected_purchases(
            params,
            x,
            t_x,
            age,
            months=months,
            monthly_discount_rate=monthly_discount_rate,
            units_per_month=units_per_month,
            model=model,
        )
        return np.log(expected), np.log(discounted)


def chosen_models(summary: pd.DataFrame, transaction_model: str) -> dict[str, str]:
    """The transaction model behind the predictions of each dataset.

    ``transaction_model`` is a model name (used for every dataset) or ``'auto'``: then each
    dataset gets the model that ``summary`` (the cltv_validation_summary mart: columns
    ``dataset, model, is_selected``) marks as selected - the fitted model with the highest
    holdout log-likelihood, or the lowest BIC where there is no holdout. A dataset without a
    selected model falls back to BG/NBD.
    """
    name = str(transaction_model).strip().lower()
    datasets = [str(dataset) for dataset in summary["dataset"].drop_duplicates()]
    if name != "auto":
        return dict.fromkeys(datasets, _transaction_model_name(name))
    selected = summary[summary["is_selected"].fillna(False).astype(bool)]
    chosen = {str(row.dataset): str(row.model) for row in selected.itertuples()}
    return {dataset: chosen.get(dataset, BGNBD) for dataset in datasets}


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def fit_validation_models(
    inputs: pd.DataFrame, models: Sequence[str], penalizer: float
) -> pd.DataFrame:
    """Fit every model in ``models`` (of `TRANSACTION_MODELS`) to every dataset.

    ``inputs``: columns ``dataset, frequency, recency, customer_age, customers`` (distinct
    calibration rows and their customer counts; times in the model unit). ``penalizer`` may be
    a string from dbt config; the fallback penalizers are those of `fit_models` (0, then the
    penalizer times 10, 100, 1000; with 0: 0.01, 0.1, 1).

    Returns one row per dataset, model and parameter (datasets sorted, models in the given
    order, parameters in model order) with the columns of `PARAMETER_COLUMNS` plus
    ``n_parameters`` (k), ``aic = 2k - 2 LL`` and ``bic = k ln(n_customers) - 2 LL``, where LL is
    the total unpenalised log-likelihood in the model time unit (comparable across models fitted
    to the same rows; when a fallback penalizer was needed, LL is at that penalised estimate).
    A model that cannot be fitted (`ModelFitError`) gets its parameter rows with NaN
    ``estimate``, ``standard_error``, ``ci_lower``, ``ci_upper``, ``log_likelihood``,
    ``penalizer``, ``aic``, ``bic``; ``converged`` False; ``attempts`` the number of attempts
    made (0 when the input was refused); ``fit_message`` the error message; ``n_customers`` and
    ``n_rows`` those of the input (distinct rows). The fits run side by side on up to
    `fit_threads` threads (``CRM_FIT_THREADS``), with results identical to the last bit to
    fitting them one after another.

    Raises:
        ValueError: missing columns, an unknown or repeated model, or an invalid penalizer.
    """
    _require_columns(inputs, TRANSACTION_INPUT_COLUMNS, "inputs")
    chosen = _model_names(models)
    pen = float(penalizer)
    if not (math.isfinite(pen) and pen >= 0):
        raise ValueError(f"penalizer must be finite and >= 0, got {penalizer!r}")
    fallbacks = fallback_penalizers(
        pen, TRANSACTION_FALLBACK_FACTORS, DEFAULT_TRANSACTION_FALLBACKS
    )

    def fit_or_error(model: str, dataset: object, part: pd.DataFrame) -> FitResult | ModelFitError:
        try:
            return _fit_transaction_rows(model, part, pen, fallbacks, str(dataset))
        except ModelFitError as error:
            return error

    jobs = [
        (dataset, model, inputs[inputs["dataset"] == dataset])
        for dataset in _datasets(inputs)
        for model in chosen
    ]
    # independent fits: side by side on threads, identical to fitting them one by one
    outcomes = run_side_by_side(
        [partial(fit_or_error, model, dataset, part) for dataset, model, part in jobs]
    )
    records: list[dict[str, object]] = []
    for (dataset, model, part), fit in zip(jobs, outcomes, strict=True):
        if isinstance(fit, ModelFitError):
            records.extend(_failure_records(dataset, model, part, fit))
            continue
        k = len(fit.params)
        deviance = -2.0 * fit.log_likelihood
        for record in _parameter_records(dataset, fit):
            record["n_parameters"] = k
            record["aic"] = 2.0 * k + deviance
            record["bic"] = k * math.log(fit.n_customers) + deviance
            records.append(record)
    table = pd.DataFrame.from_records(records, columns=list(FIT_COLUMNS))
    return table.astype(FIT_DTYPES)


def _fit_transaction_rows(
    model: str,
    rows: pd.DataFrame,
    penalizer: float,
    fallbacks: Sequence[float],
    dataset: str,
) -> FitResult:
    """`registry.fit_transaction_model` on distinct rows with the columns ``frequency,
    recency, customer_age, customers`` (times in the model unit; customers as weights)."""
    return registry.fit_transaction_model(
        model,
        rows["frequency"],
        rows["recency"],
        rows["customer_age"],
        rows["customers"],
        penalizer=penalizer,
        fallback_penalizers=fallbacks,
        dataset=dataset,
    )


def holdout_predictions(profiles: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """Conditional expected purchases over each profile's holdout period, per fitted model.

    ``profiles``: columns ``dataset, frequency, recency, customer_age`` (calibration period,
    model time unit) and ``duration_holdout`` (length of the holdout period, same unit, >= 0),
    plus any extra columns. ``fits``: a `fit_validation_models` (or `fit_models`) table.

    Returns, for every dataset, every model with a good fit and every profile row:
    ``dataset, model, frequency, recency, customer_age, duration_holdout``, the extra columns,
    then ``expected_holdout_purchases`` = E[repeat purchases in (customer_age, customer_age +
    duration_holdout] | frequency, recency, customer_age] (the model's ``expected_purchases``).

    Raises:
        ValueError: missing or clashing columns, invalid rows or a non-finite prediction (the
            message names the dataset and model).
    """
    _require_columns(profiles, HOLDOUT_PROFILE_COLUMNS, "profiles")
    added = ("model", "expected_holdout_purchases")
    extras = _extra_columns(profiles, HOLDOUT_PROFILE_COLUMNS, added)
    good = _good_fits(fits)
    frames = [profiles.iloc[:0].assign(model="", expected_holdout_purchases=np.nan)]
    for dataset in _datasets(profiles):
        if dataset not in good:
            continue
        part = profiles[profiles["dataset"] == dataset]
        x, t_x, age = _validated_history(part, dataset)
        horizon = as_float_array(part["duration_holdout"])
        _refuse_rows(
            dataset,
            {"non-finite or negative duration_holdout": ~(np.isfinite(horizon) & (horizon >= 0))},
        )
        for model, params in good[dataset].items():
            predict = registry.transaction_model(model).expected_purchases
            expected = predict(params, horizon, x, t_x, age)
            if not _all_finite(expected, dataset, model, "expected_holdout_purchases"):
                continue
            frames.append(part.assign(model=model, expected_holdout_purchases=expected))
    leading = ["dataset", "model", "frequency", "recency", "customer_age", "duration_holdout"]
    return _stacked(frames, [*leading, *extras, "expected_holdout_purchases"])


def holdout_log_probabilities(
    counts: pd.DataFrame, fits: pd.DataFrame, baseline_rate: str | None = None
) -> pd.DataFrame:
    """The log-probability of each observed holdout count under each fitted model: the
    per-customer terms of the holdout log-likelihood, a proper scoring rule for count
    forecasts (a forecast of 0 purchases cannot win it unless nobody buys).

    ``counts``: columns ``dataset, frequency, recency, customer_age`` (calibration period,
    model time unit), ``duration_holdout`` (same unit, >= 0) and ``holdout_purchases`` (the
    repeat purchases observed in the holdout, integers >= 0), plus any extra columns (e.g. a
    customer count to weight the rows by in SQL). ``fits``: a `fit_validation_models` table.
    ``baseline_rate``: the name of a column of ``counts`` holding a purchase rate per model
    time unit (e.g. the dataset's pooled calibration rate); when given, every dataset also
    gets the rows of the model `POISSON_BASELINE`: the counts scored as Poisson with mean
    rate x duration_holdout, the same for every customer history (a baseline that has a
    likelihood, where "no purchases" has none).

    Returns, for every dataset, every model with a good fit and every row: ``dataset, model``,
    the input columns, ``holdout_probability`` = P(holdout_purchases purchases in
    (customer_age, customer_age + duration_holdout] | frequency, recency, customer_age) (the
    model's ``conditional_probability_of_purchases``) and ``holdout_log_probability`` = its
    natural log (the probability floored at `MIN_LOG_PROBABILITY_ARGUMENT`).

    Raises:
        ValueError: missing or clashing columns, invalid rows.
    """
    _require_columns(counts, HOLDOUT_COUNT_COLUMNS, "counts")
    added = ("model", "holdout_probability", "holdout_log_probability")
    extras = _extra_columns(counts, HOLDOUT_COUNT_COLUMNS, added)
    good = _good_fits(fits)
    frames = [counts.iloc[:0].assign(model="", holdout_probability=np.nan)]
    for dataset in _datasets(counts):
        if dataset not in good:
            continue
        part = counts[counts["dataset"] == dataset]
        x, t_x, age = _validated_history(part, dataset)
        horizon = as_float_array(part["duration_holdout"])
        observed = as_float_array(part["holdout_purchases"])
        _refuse_rows(
            dataset,
            {
                "non-finite or negative duration_holdout": ~(np.isfinite(horizon) & (horizon >= 0)),
                "negative or non-integer holdout_purchases": ~(
                    np.isfinite(observed) & (observed >= 0) & (observed == np.round(observed))
                ),
            },
        )
        for model, params in good[dataset].items():
            score = registry.transaction_model(model).conditional_probability_of_purchases
            probability = score(params, horizon, observed, x, t_x, age)
            if not _all_finite(probability, dataset, model, "holdout_probability"):
                continue
            frames.append(part.assign(model=model, holdout_probability=probability))
    if baseline_rate is not None:
        _require_columns(counts, [baseline_rate], "counts")
        for dataset in _datasets(counts):
            part = counts[counts["dataset"] == dataset]
            rate = as_float_array(part[baseline_rate])
            _refuse_rows(
                dataset,
                {f"non-finite or negative {baseline_rate}": ~(np.isfinite(rate) & (rate >= 0))},
            )
            mean = rate * as_float_array(part["duration_holdout"])
            probability = poisson.pmf(as_float_array(part["holdout_purchases"]), mean)
            frames.append(part.assign(model=POISSON_BASELINE, holdout_probability=probability))
    leading = ["dataset", "model", *HOLDOUT_COUNT_COLUMNS[1:]]
    table = _stacked(frames, [*leading, *extras, "holdout_probability"])
    floored = np.maximum(as_float_array(table["holdout_probability"]), MIN_LOG_PROBABILITY_ARGUMENT)
    return table.assign(holdout_log_probability=np.log(floored))


def period_transaction_probabilities(
    ages: pd.DataFrame, fits: pd.DataFrame, max_repeat: int = 7
) -> pd.DataFrame:
    """P(X(customer_age) = x): the distribution of calibration-period repeat purchases by
    customer age.

    ``ages``: columns ``dataset, customer_age`` (time from the first purchase to the
    calibration end, in the model time unit, >= 0), plus any extra columns; exact duplicate
    rows are dropped. ``fits``: a `fit_validation_models` (or `fit_models`) table.
    ``max_repeat`` >= 1.

    Returns, for every dataset, every model with a good fit and every distinct row:
    ``dataset, model, customer_age``, the extra columns, ``repeat_purchases`` 0 .. max_repeat
    and ``probability``: P(X = x) for x < max_repeat (the model's
    ``probability_of_repeat_purchases``) and, in the row ``repeat_purchases = max_repeat``, the
    rest, P(X >= max_repeat) = 1 - the sum (clipped at 0). The probabilities of a row's block
    sum to 1. Weighting them by the customers of each age gives the expected histogram of
    repeat purchases.

    Raises:
        ValueError: missing or clashing columns, an invalid ``max_repeat`` or customer_age.
    """
    _require_columns(ages, AGE_COLUMNS, "ages")
    if isinstance(max_repeat, bool) or int(max_repeat) != max_repeat or max_repeat < 1:
        raise ValueError(f"max_repeat must be an integer >= 1, got {max_repeat!r}")
    max_repeat = int(max_repeat)
    added = ("model", "repeat_purchases", "probability")
    extras = _extra_columns(ages, AGE_COLUMNS, added)
    good = _good_fits(fits)
    buckets = np.arange(max_repeat + 1)
    frames = [ages.iloc[:0].assign(model="", repeat_purchases=0, probability=np.nan)]
    for dataset in _datasets(ages):
        if dataset not in good:
            continue
        part = ages[ages["dataset"] == dataset].drop_duplicates()
        age = as_float_array(part["customer_age"])
        _refuse_rows(
            dataset, {"non-finite or negative customer_age": ~(np.isfinite(age) & (age >= 0))}
        )
        repeated = part.iloc[np.repeat(np.arange(len(part)), buckets.size)]
        for model, params in good[dataset].items():
            exact = registry.transaction_model(model).probability_of_repeat_purchases(
                params, age[:, np.newaxis], buckets[np.newaxis, :-1]
            )
            rest = np.clip(1.0 - exact.sum(axis=1, keepdims=True), 0.0, 1.0)
            probability = np.hstack([exact, rest])
            if not _all_finite(probability, dataset, model, "probability"):
                continue
            frames.append(
                repeated.assign(
                    model=model,
                    repeat_purchases=np.tile(buckets, len(part)),
                    probability=probability.ravel(),
                )
            )
    leading = ["dataset", "model", "customer_age"]
    return _stacked(frames, [*leading, *extras, "repeat_purchases", "probability"])


def tracking_expectations(
    births: pd.DataFrame,
    weeks: pd.DataFrame,
    fits: pd.DataFrame,
    time_unit_days: float = 7.0,
) -> pd.DataFrame:
    """Expected cumulative repeat purchases of one customer, by first-purchase day and week.

    ``births``: columns ``dataset, birth_offset_days`` (days from the dataset's period start to
    a customer's first purchase day, >= 0), plus any extra columns; exact duplicate rows are
    dropped. ``weeks``: columns ``dataset, weeks``: the number of calendar weeks to track from
    the period start (one row per dataset; an integer >= 0). ``fits``: a
    `fit_validation_models` (or `fit_models`) table, in the model time unit of
    ``time_unit_days`` days.

    Returns, for every dataset, every model with a good fit, every distinct birth row and every
    week ``w = 1 .. weeks``: ``dataset, model, birth_offset_days``, the extra columns, ``week``
    and ``expected_cumulative_repeat_purchases`` = E[X(t)] with
    ``t = (7 w - birth_offset_days) / time_unit_days`` (the model's
    ``expected_purchases_since_acquisition``) when ``7 w > birth_offset_days``, else 0: the end
    of week ``w`` is ``7 w`` days after the period start. The sum over customers (weighting
    each birth row by its customers) is the expected cumulative repeat purchases of the
    cohort by the end of each week.

    Raises:
        ValueError: missing or clashing columns, a dataset of ``births`` with good fits but no
            (or conflicting) ``weeks`` row, invalid values.
    """
    _require_columns(births, BIRTH_COLUMNS, "births")
    _require_columns(weeks, WEEK_COLUMNS, "weeks")
    unit = float(time_unit_days)
    if not (math.isfinite(unit) and unit > 0):
        raise ValueError(f"time_unit_days must be finite and > 0, got {time_unit_days!r}")
    added = ("model", "week", "expected_cumulative_repeat_purchases")
    extras = _extra_columns(births, BIRTH_COLUMNS, added)
    good = _good_fits(fits)
    week_counts = _weeks_per_dataset(weeks)
    frames = [births.iloc[:0].assign(model="", week=0, expected_cumulative_repeat_purchases=np.nan)]
    for dataset in _datasets(births):
        if dataset not in good:
            continue
        if dataset not in week_counts:
            raise ValueError(f"weeks has no row for dataset {dataset!r}")
        part = births[births["dataset"] == dataset].drop_duplicates()
        offsets = as_float_array(part["birth_offset_days"])
        _refuse_rows(
            dataset,
            {"non-finite or negative birth_offset_days": ~(np.isfinite(offsets) & (offsets >= 0))},
        )
        week = np.arange(1, week_counts[dataset] + 1)
        days = DAYS_PER_WEEK * week[np.newaxis, :] - offsets[:, np.newaxis]
        born = days > 0
        t = np.where(born, days, 0.0) / unit
        repeated = part.iloc[np.repeat(np.arange(len(part)), week.size)]
        for model, params in good[dataset].items():
            since_birth = registry.transaction_model(model).expected_purchases_since_acquisition
            expected = np.where(born, since_birth(params, t), 0.0)
            if not _all_finite(expected, dataset, model, "expected_cumulative_repeat_purchases"):
                continue
            frames.append(
                repeated.assign(
                    model=model,
                    week=np.tile(week, len(part)),
                    expected_cumulative_repeat_purchases=expected.ravel(),
                )
            )
    leading = ["dataset", "model", "birth_offset_days"]
    return _stacked(frames, [*leading, *extras, "week", "expected_cumulative_repeat_purchases"])


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _transaction_model_name(name: str) -> str:
    """``name`` if it is one of `TRANSACTION_MODELS`, else a ValueError."""
    return registry.transaction_model(name).name


def _model_names(models: Sequence[str]) -> list[str]:
    """The requested transaction models (a single name is accepted), validated, in order."""
    names = [models] if isinstance(models, str) else [str(model) for model in models]
    if not names:
        raise ValueError("no models to fit")
    for name in names:
        _transaction_model_name(name)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"models listed more than once: {repeated}")
    return names


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


def identification(
    fit: FitResult, max_relative_standard_error: float = DEFAULT_MAX_RELATIVE_STANDARD_ERROR
) -> tuple[bool, str]:
    """Whether a fit is weakly identified, and why (``''`` when it is not).

    Weak: a parameter's relative standard error (standard error / estimate, the standard error
    of its log) above ``max_relative_standard_error`` or not finite; or the fit near a limit of
    the model (the dropout shape - a of BG/NBD and MBG/NBD, s of Pareto/NBD - below
    `LIMIT_SMALL_SHAPE`: almost nobody drops out, the NBD limit, where the dropout process is
    barely identified; any shape parameter above `LIMIT_LARGE_SHAPE`: its heterogeneity
    vanishes). The estimates are then a point on a flat ridge of the likelihood: predictions may
    still be fine, the parameters should not be read one by one.
    """
    reasons: list[str] = []
    for name, value in fit.params.items():
        relative = fit.standard_errors[name] / value
        if not math.isfinite(relative):
            reasons.append(f"{name}: standard error not finite")
        elif relative > max_relative_standard_error:
            reasons.append(
                f"{name}: relative standard error {relative:.2g} > {max_relative_standard_error:g}"
            )
    dropout = _DROPOUT_SHAPES.get(fit.model)
    if dropout is not None and fit.params[dropout] < LIMIT_SMALL_SHAPE:
        reasons.append(
            f"{dropout} = {fit.params[dropout]:.2g} < {LIMIT_SMALL_SHAPE:g}: near the NBD limit "
            "(almost no dropout)"
        )
    for name in _SHAPES:
        if fit.params.get(name, 0.0) > LIMIT_LARGE_SHAPE:
            reasons.append(
                f"{name} = {fit.params[name]:.3g} > {LIMIT_LARGE_SHAPE:g}: no heterogeneity"
            )
    return bool(reasons), "; ".join(reasons)


def _parameter_records(
    dataset: object,
    fit: FitResult,
    max_relative_standard_error: float = DEFAULT_MAX_RELATIVE_STANDARD_ERROR,
) -> list[dict[str, object]]:
    """The long-table rows of one fit."""
    weak, note = identification(fit, max_relative_standard_error)
    covariance = fit.log_covariance
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
            "relative_standard_error": fit.standard_errors[name] / value,
            "weakly_identified": weak,
            "identification_note": note,
            **{
                column: (
                    covariance[i][j] if covariance is not None and j < len(covariance) else np.nan
                )
                for j, column in enumerate(LOG_COVARIANCE_COLUMNS)
            },
        }
        for i, (name, value) in enumerate(fit.params.items())
    ]


def _failure_records(
    dataset: object, model: str, part: pd.DataFrame, error: ModelFitError
) -> list[dict[str, object]]:
    """The NaN rows of a model that could not be fitted to a dataset."""
    customers = as_float_array(part["customers"])
    n_rows = len(part[["frequency", "recency", "customer_age"]].drop_duplicates())
    return [
        {
            "dataset": dataset,
            "model": model,
            "parameter": name,
            "estimate": np.nan,
            "standard_error": np.nan,
            "ci_lower": np.nan,
            "ci_upper": np.nan,
            "log_likelihood": np.nan,
            "n_customers": float(np.sum(customers)),
            "n_rows": n_rows,
            "converged": False,
            "penalizer": np.nan,
            "attempts": error.attempts,
            "fit_message": str(error),
            "relative_standard_error": np.nan,
            "weakly_identified": False,
            "identification_note": "",
            **dict.fromkeys(LOG_COVARIANCE_COLUMNS, np.nan),
            "n_parameters": len(MODEL_PARAMETERS[model]),
            "aic": np.nan,
            "bic": np.nan,
        }
        for name in MODEL_PARAMETERS[model]
    ]


def _parameters_of(parameters: pd.DataFrame, dataset: object, model: str) -> Params:
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


def _log_covariance_of(parameters: pd.DataFrame, dataset: object, model: str) -> FloatArray | None:
    """One dataset's log-parameter covariance of one model from a fit_models table (rows in
    parameter order), or None where it is missing or not finite."""
    names = MODEL_PARAMETERS[model]
    columns = list(LOG_COVARIANCE_COLUMNS[: len(names)])
    if not set(columns) <= set(parameters.columns):
        return None
    rows = parameters[(parameters["dataset"] == dataset) & (parameters["model"] == model)]
    rows = rows.set_index("parameter").reindex(list(names))
    matrix = rows[columns].to_numpy(dtype=float)
    if not np.all(np.isfinite(matrix)):
        return None
    return (matrix + matrix.T) / 2


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
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One dataset's profile columns as float arrays, or a ValueError naming the bad rows."""
    x = as_float_array(part["frequency"])
    t_x = as_float_array(part["recency"])
    age = as_float_array(part["customer_age"])
    finite = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(age)
    checks = {
        "non-finite frequency, recency or customer_age": ~finite,
        "negative frequency": finite & (x < 0),
        "recency outside [0, customer_age]": finite & ((t_x < 0) | (t_x > age)),
    }
    problems = [
        f"{int(mask.sum())} row(s) with {what}" for what, mask in checks.items() if mask.any()
    ]
    if problems:
        raise ValueError(f"dataset {dataset!r}: invalid profiles: " + "; ".join(problems))
    return x, t_x, age


def _good_fits(fits: pd.DataFrame) -> dict[object, dict[str, Params]]:
    """``{dataset: {model: params}}`` of the transaction models fitted well in ``fits``
    (converged, each parameter of the model once with a finite positive estimate), models in
    `TRANSACTION_MODELS` order."""
    _require_columns(fits, FIT_TABLE_COLUMNS, "fits")
    good: dict[object, dict[str, Params]] = {}
    for model in TRANSACTION_MODELS:
        rows = fits[fits["model"] == model]
        for dataset in _datasets(rows):
            block = rows[rows["dataset"] == dataset]
            names = MODEL_PARAMETERS[model]
            estimates = as_float_array(block["estimate"])
            converged = block["converged"].fillna(False).astype(bool)
            if (
                len(block) == len(names)
                and set(block["parameter"]) == set(names)
                and bool(converged.all())
                and bool(np.all(np.isfinite(estimates) & (estimates > 0)))
            ):
                params = dict(zip(block["parameter"], estimates.tolist(), strict=True))
                good.setdefault(dataset, {})[model] = params
    return good


def _weeks_per_dataset(weeks: pd.DataFrame) -> dict[object, int]:
    """The ``weeks`` table as ``{dataset: weeks}``; one value per dataset, integers >= 0."""
    result: dict[object, int] = {}
    for dataset in _datasets(weeks):
        values = set(as_float_array(weeks.loc[weeks["dataset"] == dataset, "weeks"]).tolist())
        if len(values) != 1:
            raise ValueError(f"weeks: dataset {dataset!r} has conflicting values {sorted(values)}")
        value = values.pop()
        if not (math.isfinite(value) and value >= 0 and value == round(value)):
            raise ValueError(f"weeks: dataset {dataset!r} needs an integer >= 0, got {value!r}")
        result[dataset] = int(value)
    return result


def _validated_history(
    part: pd.DataFrame, dataset: object
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One dataset's frequency, recency, customer_age as float arrays, or a ValueError naming
    bad rows."""
    x = as_float_array(part["frequency"])
    t_x = as_float_array(part["recency"])
    age = as_float_array(part["customer_age"])
    finite = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(age)
    _refuse_rows(
        dataset,
        {
            "non-finite frequency, recency or customer_age": ~finite,
            "negative or non-integer frequency": finite & ((x < 0) | (x != np.round(x))),
            "recency outside [0, customer_age]": finite & ((t_x < 0) | (t_x > age)),
        },
    )
    return x, t_x, age


def _refuse_rows(dataset: object, checks: Mapping[str, np.ndarray]) -> None:
    """Raise a ValueError listing how many rows fail each named check."""
    problems = [
        f"{int(mask.sum())} row(s) with {what}" for what, mask in checks.items() if mask.any()
    ]
    if problems:
        raise ValueError(f"dataset {dataset!r}: invalid rows: " + "; ".join(problems))


def _all_finite(values: np.ndarray, dataset: object, model: str, what: str) -> bool:
    """True when every prediction is finite; otherwise say so on stderr and return False.

    A fitted model can still predict non-finite values: BG/NBD with a + b < 1 (the 2009-2010
    Online Retail II calibration fit has a = 0.003, b = 0.20) puts a pole of the hypergeometric
    function in reach for customers without repeat purchases. Validation compares models, so
    such a model is left out of that table (its holdout metrics stay null in
    cltv_validation_summary) instead of failing the build or writing NaN that SQL would
    average into garbage.
    """
    bad = int(np.sum(~np.isfinite(values)))
    if bad:
        print(
            f"validation: dataset {dataset!r}, model {model!r}: {bad} non-finite {what} "
            "value(s); the model is left out of this table",
            file=sys.stderr,
        )
    return bad == 0


def _extra_columns(frame: pd.DataFrame, required: Sequence[str], added: Sequence[str]) -> list[str]:
    """The columns of ``frame`` passed through, or a ValueError if one clashes with an output."""
    clashes = [column for column in added if column in frame.columns]
    if clashes:
        raise ValueError(f"input columns clash with output columns: {clashes}")
    return [column for column in frame.columns if column not in required]


def _stacked(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """The frames one under the other with the given columns, on a fresh index (the first frame
    is an empty template that fixes the columns of an empty result)."""
    if len(frames) > 1:
        frames = frames[1:]
    return pd.concat(frames, ignore_index=True)[columns]
