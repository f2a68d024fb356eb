"""Model validation as tables: model comparison, calibration/holdout backtests and diagnostics.

The table-level functions the project's thin dbt Python models call: pandas in, pandas out, one
loop per dataset. SQL builds the calibration-period lifetime tables (distinct rows with their
customer counts) and aggregates what these functions return into the validation marts; the
models and formulas are those of `crm_analytics.btyd` (``lifetimes`` stays behind it).

Times are in the model time unit (weeks by default: ``time_unit_days = 7``), like the ``recency``
and ``T`` columns SQL hands over; ``birth_offset_days`` and calendar weeks are in days / weeks
whatever the unit.

* `fit_validation_models`: every transaction model (BG/NBD, Pareto/NBD, MBG/NBD) for every
  dataset, with AIC and BIC. A model that cannot be fitted for a dataset gets rows with NaN
  estimates and the error in ``fit_message`` instead of failing the validation: comparing
  models, a failing alternative is information.
* `holdout_predictions`: conditional expected purchases over each profile's holdout period
  (to compare with the actual holdout purchases, e.g. averaged by calibration frequency).
* `period_transaction_probabilities`: P(X(T) = x) by customer age T (the expected histogram of
  calibration-period repeat purchases, with a final "max_repeat or more" bucket).
* `tracking_expectations`: expected cumulative repeat purchases of one customer by the end of
  each calendar week, by first-purchase day (the tracking plot is their sum over customers).

The later three use, per dataset, every transaction model with a good fit in ``fits`` (a
`fit_validation_models` or `btyd.fit_models` table): converged, with one finite positive
estimate for each parameter. Datasets without one are skipped (their failure is in ``fits``).
Extra input columns (e.g. the integer ``recency_days`` / ``customer_age_days`` that SQL joins
on) are passed through; each input row gets its block of output rows (exact duplicate rows are
dropped first in `period_transaction_probabilities` and `tracking_expectations`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crm_analytics.btyd import (
    BGNBD,
    BGNBD_FALLBACK_FACTORS,
    DEFAULT_BGNBD_FALLBACKS,
    MODEL_PARAMETERS,
    PARAMETER_COLUMNS,
    PARAMETER_DTYPES,
    TRANSACTION_INPUT_COLUMNS,
    TRANSACTION_MODELS,
    FloatArray,
    ModelFitError,
    _as_float_array,
    _datasets,
    _fallbacks,
    _parameter_records,
    _require_columns,
    _transaction_model,
    expected_purchases,
    expected_purchases_since_acquisition,
    fit_transaction_model,
    probability_of_repeat_purchases,
)

DAYS_PER_WEEK = 7.0
FIT_COLUMNS: tuple[str, ...] = (*PARAMETER_COLUMNS, "n_parameters", "aic", "bic")
FIT_DTYPES: dict[str, str] = {
    **PARAMETER_DTYPES,
    "n_parameters": "int64",
    "aic": "float64",
    "bic": "float64",
}
HOLDOUT_PROFILE_COLUMNS: tuple[str, ...] = (
    "dataset",
    "frequency",
    "recency",
    "T",
    "duration_holdout",
)
AGE_COLUMNS: tuple[str, ...] = ("dataset", "T")
BIRTH_COLUMNS: tuple[str, ...] = ("dataset", "birth_offset_days")
WEEK_COLUMNS: tuple[str, ...] = ("dataset", "weeks")
FIT_TABLE_COLUMNS: tuple[str, ...] = ("dataset", "model", "parameter", "estimate", "converged")

Params = dict[str, float]


def fit_validation_models(
    inputs: pd.DataFrame, models: Sequence[str], penalizer: float
) -> pd.DataFrame:
    """Fit every model in ``models`` (of `btyd.TRANSACTION_MODELS`) to every dataset.

    ``inputs``: columns ``dataset, frequency, recency, T, customers`` (distinct calibration
    rows and their customer counts; times in the model unit). ``penalizer`` may be a string
    from dbt config; the fallback penalizers are those of `btyd.fit_models` (0, then the
    penalizer times 10, 100, 1000; with 0: 0.01, 0.1, 1).

    Returns one row per dataset, model and parameter (datasets sorted, models in the given
    order, parameters in model order) with the columns of `btyd.PARAMETER_COLUMNS` plus
    ``n_parameters`` (k), ``aic = 2k - 2 LL`` and ``bic = k ln(n_customers) - 2 LL``, where LL is
    the total unpenalised log-likelihood in the model time unit (comparable across models fitted
    to the same rows; when a fallback penalizer was needed, LL is at that penalised estimate).
    A model that cannot be fitted (`btyd.ModelFitError`) gets its parameter rows with NaN
    ``estimate``, ``standard_error``, ``ci_lower``, ``ci_upper``, ``log_likelihood``,
    ``penalizer``, ``aic``, ``bic``; ``converged`` False; ``attempts`` the number of attempts
    made (0 when the input was refused); ``fit_message`` the error message; ``n_customers`` and
    ``n_rows`` those of the input (distinct rows).

    Raises:
        ValueError: missing columns, an unknown or repeated model, or an invalid penalizer.
    """
    _require_columns(inputs, TRANSACTION_INPUT_COLUMNS, "inputs")
    chosen = _model_names(models)
    pen = float(penalizer)
    if not (math.isfinite(pen) and pen >= 0):
        raise ValueError(f"penalizer must be finite and >= 0, got {penalizer!r}")
    fallbacks = _fallbacks(pen, BGNBD_FALLBACK_FACTORS, DEFAULT_BGNBD_FALLBACKS)
    records: list[dict[str, object]] = []
    for dataset in _datasets(inputs):
        part = inputs[inputs["dataset"] == dataset]
        for model in chosen:
            try:
                fit = fit_transaction_model(
                    model,
                    part["frequency"],
                    part["recency"],
                    part["T"],
                    part["customers"],
                    penalizer=pen,
                    fallback_penalizers=fallbacks,
                    dataset=str(dataset),
                )
            except ModelFitError as error:
                records.extend(_failure_records(dataset, model, part, error))
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


def holdout_predictions(profiles: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """Conditional expected purchases over each profile's holdout period, per fitted model.

    ``profiles``: columns ``dataset, frequency, recency, T`` (calibration period, model time
    unit) and ``duration_holdout`` (length of the holdout period, same unit, >= 0), plus any
    extra columns. ``fits``: a `fit_validation_models` (or `btyd.fit_models`) table.

    Returns, for every dataset, every model with a good fit and every profile row:
    ``dataset, model, frequency, recency, T, duration_holdout``, the extra columns, then
    ``expected_holdout_purchases`` = E[repeat purchases in (T, T + duration_holdout] |
    frequency, recency, T] (`btyd.expected_purchases`).

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
        horizon = _as_float_array(part["duration_holdout"])
        _refuse_rows(
            dataset,
            {"non-finite or negative duration_holdout": ~(np.isfinite(horizon) & (horizon >= 0))},
        )
        for model, params in good[dataset].items():
            expected = expected_purchases(params, horizon, x, t_x, age, model)
            if not _all_finite(expected, dataset, model, "expected_holdout_purchases"):
                continue
            frames.append(part.assign(model=model, expected_holdout_purchases=expected))
    leading = ["dataset", "model", "frequency", "recency", "T", "duration_holdout"]
    return _stacked(frames, [*leading, *extras, "expected_holdout_purchases"])


def period_transaction_probabilities(
    ages: pd.DataFrame, fits: pd.DataFrame, max_repeat: int = 7
) -> pd.DataFrame:
    """P(X(T) = x): the distribution of calibration-period repeat purchases by customer age.

    ``ages``: columns ``dataset, T`` (time from the first purchase to the calibration end, in
    the model time unit, >= 0), plus any extra columns; exact duplicate rows are dropped.
    ``fits``: a `fit_validation_models` (or `btyd.fit_models`) table. ``max_repeat`` >= 1.

    Returns, for every dataset, every model with a good fit and every distinct row:
    ``dataset, model, T``, the extra columns, ``repeat_purchases`` 0 .. max_repeat and
    ``probability``: P(X(T) = x) for x < max_repeat (`btyd.probability_of_repeat_purchases`)
    and, in the row ``repeat_purchases = max_repeat``, the rest, P(X(T) >= max_repeat) =
    1 - the sum (clipped at 0). The probabilities of a row's block sum to 1. Weighting them
    by the customers of each age gives the expected histogram of repeat purchases.

    Raises:
        ValueError: missing or clashing columns, an invalid ``max_repeat`` or T.
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
        age = _as_float_array(part["T"])
        _refuse_rows(dataset, {"non-finite or negative T": ~(np.isfinite(age) & (age >= 0))})
        repeated = part.iloc[np.repeat(np.arange(len(part)), buckets.size)]
        for model, params in good[dataset].items():
            exact = probability_of_repeat_purchases(
                params, age[:, np.newaxis], buckets[np.newaxis, :-1], model
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
    leading = ["dataset", "model", "T"]
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
    `fit_validation_models` (or `btyd.fit_models`) table, in the model time unit of
    ``time_unit_days`` days.

    Returns, for every dataset, every model with a good fit, every distinct birth row and every
    week ``w = 1 .. weeks``: ``dataset, model, birth_offset_days``, the extra columns, ``week``
    and ``expected_cumulative_repeat_purchases`` = E[X(t)] with
    ``t = (7 w - birth_offset_days) / time_unit_days`` (`btyd.
    expected_purchases_since_acquisition`) when ``7 w > birth_offset_days``, else 0: the end
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
        offsets = _as_float_array(part["birth_offset_days"])
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
            expected = np.where(born, expected_purchases_since_acquisition(params, t, model), 0.0)
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


def _model_names(models: Sequence[str]) -> list[str]:
    """The requested transaction models (a single name is accepted), validated, in order."""
    names = [models] if isinstance(models, str) else [str(model) for model in models]
    if not names:
        raise ValueError("no models to fit")
    for name in names:
        _transaction_model(name)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"models listed more than once: {repeated}")
    return names


def _failure_records(
    dataset: object, model: str, part: pd.DataFrame, error: ModelFitError
) -> list[dict[str, object]]:
    """The NaN rows of a model that could not be fitted to a dataset."""
    customers = _as_float_array(part["customers"])
    n_rows = len(part[["frequency", "recency", "T"]].drop_duplicates())
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
            "n_parameters": len(MODEL_PARAMETERS[model]),
            "aic": np.nan,
            "bic": np.nan,
        }
        for name in MODEL_PARAMETERS[model]
    ]


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
            estimates = _as_float_array(block["estimate"])
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
        values = set(_as_float_array(weeks.loc[weeks["dataset"] == dataset, "weeks"]).tolist())
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
    """One dataset's frequency, recency, T as float arrays, or a ValueError naming bad rows."""
    x = _as_float_array(part["frequency"])
    t_x = _as_float_array(part["recency"])
    age = _as_float_array(part["T"])
    finite = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(age)
    _refuse_rows(
        dataset,
        {
            "non-finite frequency, recency or T": ~finite,
            "negative or non-integer frequency": finite & ((x < 0) | (x != np.round(x))),
            "recency outside [0, T]": finite & ((t_x < 0) | (t_x > age)),
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


def chosen_models(summary: pd.DataFrame, transaction_model: str) -> dict[str, str]:
    """The transaction model behind the predictions of each dataset.

    ``transaction_model`` is a model name (used for every dataset) or ``'auto'``: then each
    dataset gets the model that ``summary`` (the cltv_validation_summary mart: columns
    ``dataset, model, is_selected``) marks as selected - the fitted model with the lowest
    holdout MAE, or the lowest BIC where there is no holdout. A dataset without a selected
    model falls back to BG/NBD.
    """
    name = str(transaction_model).strip().lower()
    datasets = [str(dataset) for dataset in summary["dataset"].drop_duplicates()]
    if name != "auto":
        return dict.fromkeys(datasets, _transaction_model(name))
    selected = summary[summary["is_selected"].fillna(False).astype(bool)]
    chosen = {str(row.dataset): str(row.model) for row in selected.itertuples()}
    return {dataset: chosen.get(dataset, BGNBD) for dataset in datasets}
