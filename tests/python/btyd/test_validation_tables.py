"""Tests of the validation table functions of crm_analytics.btyd.tables on the CDNOW sample:
the published calibration/holdout and tracking figures of Fader, Hardie and Lee (2005), the
expected histogram of repeat purchases, weights, and failing models.

The data are rebuilt from the transactions (``CDNOW_sample.txt``, shipped inside lifetimes) the
way the project's SQL does: purchases collapsed to distinct days, calibration period
1997-01-01 .. 1997-09-30 (39 weeks), holdout 1997-10-01 .. 1998-06-30 (39 weeks), times in
weeks (days / 7). The tables take and return the SQL column name ``customer_age`` (the math's
T).
"""

from __future__ import annotations

from pathlib import Path

import lifetimes
import lifetimes.datasets
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from cdnow_reference import PUBLISHED_BGNBD, reference_pmf, simulate_repeat_purchases

from crm_analytics import btyd
from crm_analytics.btyd import mbgnbd

PERIOD_START = pd.Timestamp("1997-01-01")
CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
HOLDOUT_WEEKS = 39.0
TRACKING_WEEKS = 78
MODELS = ("bgnbd", "pareto_nbd", "mbgnbd")
# Fader, Hardie and Lee (2005), "Counting your customers the easy way", Figure 4: mean repeat
# purchases in the holdout weeks by calibration frequency 0, 1, ..., 6, 7+
PUBLISHED_HOLDOUT_ACTUAL = [0.237, 0.697, 1.393, 1.560, 2.532, 2.947, 3.862, 6.359]
PUBLISHED_HOLDOUT_BGNBD = [0.225, 0.523, 1.044, 1.520, 2.164, 2.654, 3.504, 6.157]


# --------------------------------------------------------------------------------------------
# Data, built like the project's SQL
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    """The CDNOW transactions: one row per line (customer, date, value)."""
    path = Path(lifetimes.datasets.__file__).parent / "CDNOW_sample.txt"
    columns = ["master_id", "customer_id", "date", "cds", "value"]
    lines = pd.read_csv(path, sep=r"\s+", header=None, names=columns, dtype={"date": str})
    lines["date"] = pd.to_datetime(lines["date"], format="%Y%m%d")
    return lines[["customer_id", "date", "value"]]


@pytest.fixture(scope="module")
def customers(purchases: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: the calibration lifetime table (integer days and weeks), the
    first-purchase day offset and the holdout repeat purchase days."""
    days = purchases[["customer_id", "date"]].drop_duplicates()
    calibration = days[days["date"] <= CALIBRATION_END].groupby("customer_id")["date"]
    first, last = calibration.min(), calibration.max()
    table = pd.DataFrame(
        {
            "dataset": "cdnow",
            "frequency": calibration.size() - 1,
            "recency_days": (last - first).dt.days,
            "customer_age_days": (CALIBRATION_END - first).dt.days,
            "birth_offset_days": (first - PERIOD_START).dt.days,
        }
    )
    table["recency"] = table["recency_days"] / 7
    table["customer_age"] = table["customer_age_days"] / 7
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= HOLDOUT_END)]
    table["holdout_days"] = (
        holdout.groupby("customer_id").size().reindex(table.index, fill_value=0).astype(int)
    )
    return table


@pytest.fixture(scope="module")
def inputs(customers: pd.DataFrame) -> pd.DataFrame:
    """int_..._counted: distinct (frequency, recency, customer_age) rows with their customer
    counts."""
    return customers.groupby(
        ["dataset", "frequency", "recency", "customer_age"], as_index=False
    ).agg(customers=("frequency", "size"))


@pytest.fixture(scope="module")
def fits(inputs: pd.DataFrame) -> pd.DataFrame:
    return btyd.fit_validation_models(inputs, MODELS, penalizer=0.0)


def estimates(fits: pd.DataFrame, model: str, dataset: str = "cdnow") -> dict[str, float]:
    rows = fits[(fits["dataset"] == dataset) & (fits["model"] == model)]
    return dict(zip(rows["parameter"], rows["estimate"], strict=True))


def by_calibration_frequency(values: pd.Series, frequency: pd.Series) -> list[float]:
    """Means by calibration frequency 0, 1, ..., 6, 7+."""
    return values.groupby(frequency.clip(upper=7)).mean().tolist()


def test_the_rebuilt_calibration_table_is_the_lifetimes_summary(customers: pd.DataFrame) -> None:
    summary = lifetimes.datasets.load_cdnow_summary(index_col=[0])  # rounded to 2 decimals
    assert len(customers) == 2357 and (customers.index == summary.index).all()
    assert (customers["frequency"] == summary["frequency"]).all()
    assert np.max(np.abs(customers["recency"] - summary["recency"])) <= 0.005
    assert np.max(np.abs(customers["customer_age"] - summary["T"])) <= 0.005
    assert customers["birth_offset_days"].between(0, 83).all()  # first purchases in Q1 1997


# --------------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------------


def test_fit_validation_models_on_cdnow(inputs: pd.DataFrame, fits: pd.DataFrame) -> None:
    assert list(fits.columns) == list(btyd.FIT_COLUMNS)
    assert fits[["model", "parameter"]].values.tolist() == [
        [model, name] for model in MODELS for name in btyd.MODEL_PARAMETERS[model]
    ]
    assert not fits.isna().any().any()
    assert fits["converged"].all() and (fits["fit_message"] == "converged").all()
    assert (fits["n_customers"] == 2357.0).all() and (fits["penalizer"] == 0.0).all()
    assert (fits["n_parameters"] == 4).all() and (fits["attempts"] == 1).all()

    pareto = estimates(fits, "pareto_nbd")
    assert {name: round(pareto[name], 3) for name in ("r", "alpha", "s")} == {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
    }
    assert pareto["beta"] == pytest.approx(11.669, abs=0.05)
    bgnbd = {name: round(value, 3) for name, value in estimates(fits, "bgnbd").items()}
    assert bgnbd == PUBLISHED_BGNBD

    per_model = fits.groupby("model", sort=False).first()
    ll = per_model["log_likelihood"]
    assert ll.round(1).to_dict() == {"bgnbd": -9582.4, "pareto_nbd": -9595.0, "mbgnbd": -9582.1}
    assert per_model["aic"].to_numpy() == pytest.approx(8 - 2 * ll.to_numpy(), rel=1e-14)
    assert per_model["bic"].to_numpy() == pytest.approx(
        4 * np.log(2357) - 2 * ll.to_numpy(), rel=1e-14
    )
    # the rows are those of fit_transaction_model
    direct = btyd.fit_transaction_model(
        "mbgnbd",
        *(inputs[name] for name in ("frequency", "recency", "customer_age", "customers")),
        0.0,
    )
    mbgnbd = fits[fits["model"] == "mbgnbd"]
    assert mbgnbd["estimate"].tolist() == list(direct.params.values())
    assert mbgnbd["standard_error"].tolist() == list(direct.standard_errors.values())
    assert mbgnbd["ci_upper"].tolist() == list(direct.upper_95.values())


def test_weighted_rows_fit_like_one_row_per_customer(
    customers: pd.DataFrame, inputs: pd.DataFrame
) -> None:
    per_customer = customers[["dataset", "frequency", "recency", "customer_age"]].assign(
        customers=1
    )
    models = ["pareto_nbd", "mbgnbd"]
    weighted = btyd.fit_validation_models(inputs, models, 0.001)
    unweighted = btyd.fit_validation_models(per_customer, models, "0.001")
    assert weighted["converged"].all() and (weighted["penalizer"] == 0.001).all()
    pd.testing.assert_frame_equal(
        weighted.drop(columns=["estimate", "standard_error", "ci_lower", "ci_upper"]),
        unweighted.drop(columns=["estimate", "standard_error", "ci_lower", "ci_upper"]),
        rtol=1e-9,
    )
    for column in ("estimate", "standard_error", "ci_lower", "ci_upper"):
        relative = (weighted[column] - unweighted[column]).abs() / unweighted[column].abs()
        assert relative.max() < 1e-6, column
    assert (weighted["n_rows"] == len(inputs)).all()


class BrokenModifiedBetaGeoFitter(lifetimes.ModifiedBetaGeoFitter):
    def fit(self, *args: object, **kwargs: object) -> BrokenModifiedBetaGeoFitter:
        raise FloatingPointError(f"overflow at {self.penalizer_coef}")


def test_a_failing_model_gives_nan_rows_not_an_exception(
    monkeypatch: pytest.MonkeyPatch, customers: pd.DataFrame, inputs: pd.DataFrame
) -> None:
    one_timers = pd.DataFrame(
        {
            "dataset": ["new_shop", "new_shop"],
            "frequency": [0, 0],
            "recency": [0.0, 0.0],
            "customer_age": [3.0, 5.0],
            "customers": [4, 2],
        }
    )
    monkeypatch.setattr(mbgnbd, "ModifiedBetaGeoFitter", BrokenModifiedBetaGeoFitter)
    table = btyd.fit_validation_models(pd.concat([one_timers, inputs]), MODELS, 0.001)
    assert list(table.columns) == list(btyd.FIT_COLUMNS)
    assert table.groupby(["dataset", "model"], sort=False).size().to_dict() == {
        (dataset, model): 4 for dataset in ("cdnow", "new_shop") for model in MODELS
    }
    failed = table[(table["dataset"] == "new_shop") | (table["model"] == "mbgnbd")]
    nan_columns = [
        "estimate",
        "standard_error",
        "ci_lower",
        "ci_upper",
        "log_likelihood",
        "penalizer",
        "aic",
        "bic",
    ]
    assert failed[nan_columns].isna().all().all()
    assert not failed["converged"].any() and (failed["n_parameters"] == 4).all()
    new_shop = failed[failed["dataset"] == "new_shop"].groupby("model", sort=False).first()
    assert (new_shop["attempts"] == 0).all()
    assert (new_shop["n_customers"] == 6.0).all() and (new_shop["n_rows"] == 2).all()
    assert new_shop["fit_message"].to_dict() == {
        model: f"{label} model cannot be fitted for dataset 'new_shop': no repeat purchases at "
        "all (every frequency is 0), so the purchase rate and the dropout process are not "
        "identified"
        for model, label in (
            ("bgnbd", "BG/NBD"),
            ("pareto_nbd", "Pareto/NBD"),
            ("mbgnbd", "MBG/NBD"),
        )
    }
    broken = failed[(failed["dataset"] == "cdnow")].iloc[0]
    assert broken["attempts"] == 5 and broken["n_customers"] == 2357.0
    assert broken["fit_message"] == (
        "MBG/NBD model cannot be fitted for dataset 'cdnow': no attempt succeeded: "
        + "; ".join(
            f"penalizer {pen}: FloatingPointError: overflow at {value}"
            for pen, value in (
                ("0.001", 0.001),
                ("0", 0.0),
                ("0.01", 0.01),
                ("0.1", 0.1),
                ("1", 1.0),
            )
        )
    )
    good = table[(table["dataset"] == "cdnow") & (table["model"] != "mbgnbd")]
    assert good["converged"].all() and good["estimate"].notna().all()

    # the tables downstream use the models that were fitted, and skip the others
    profiles = customers.head(50).assign(duration_holdout=HOLDOUT_WEEKS)
    predictions = btyd.holdout_predictions(profiles, table)
    assert predictions.groupby(["dataset", "model"]).size().to_dict() == {
        ("cdnow", "bgnbd"): 50,
        ("cdnow", "pareto_nbd"): 50,
    }
    ages = pd.DataFrame({"dataset": ["cdnow", "new_shop"], "customer_age": [10.0, 3.0]})
    assert btyd.period_transaction_probabilities(ages, table)["model"].unique().tolist() == [
        "bgnbd",
        "pareto_nbd",
    ]
    # a dataset without any good fit gives no rows, but the columns are there
    births = pd.DataFrame({"dataset": ["new_shop"], "birth_offset_days": [3], "customers": [6]})
    weeks = pd.DataFrame({"dataset": ["new_shop"], "weeks": [10]})
    empty = btyd.tracking_expectations(births, weeks, table)
    assert empty.empty and list(empty.columns) == [
        "dataset",
        "model",
        "birth_offset_days",
        "customers",
        "week",
        "expected_cumulative_repeat_purchases",
    ]


def test_invalid_validation_inputs_are_refused(inputs: pd.DataFrame, fits: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown transaction model 'bg'"):
        btyd.fit_validation_models(inputs, ["bgnbd", "bg"], 0.0)
    with pytest.raises(ValueError, match=r"more than once: \['bgnbd'\]"):
        btyd.fit_validation_models(inputs, ["bgnbd", "mbgnbd", "bgnbd"], 0.0)
    with pytest.raises(ValueError, match="penalizer must be finite"):
        btyd.fit_validation_models(inputs, ["bgnbd"], -1)
    with pytest.raises(ValueError, match=r"inputs lacks columns \['customers'\]"):
        btyd.fit_validation_models(inputs.drop(columns="customers"), ["bgnbd"], 0.0)
    profiles = inputs.drop(columns="customers").assign(duration_holdout=HOLDOUT_WEEKS)
    with pytest.raises(ValueError, match=r"1 row.* non-finite or negative duration_holdout"):
        btyd.holdout_predictions(
            profiles.assign(duration_holdout=[np.inf, *[39.0] * (len(profiles) - 1)]), fits
        )
    with pytest.raises(ValueError, match=r"recency outside \[0, customer_age\]"):
        btyd.holdout_predictions(profiles.assign(recency=profiles["customer_age"] + 1), fits)
    with pytest.raises(ValueError, match=r"clash with output columns: \['model'\]"):
        btyd.holdout_predictions(profiles.assign(model="x"), fits)
    ages = pd.DataFrame({"dataset": ["cdnow"], "customer_age": [10.0]})
    with pytest.raises(ValueError, match="max_repeat must be an integer >= 1"):
        btyd.period_transaction_probabilities(ages, fits, max_repeat=0)
    with pytest.raises(ValueError, match="non-finite or negative customer_age"):
        btyd.period_transaction_probabilities(ages.assign(customer_age=-1.0), fits)
    births = pd.DataFrame({"dataset": ["cdnow"], "birth_offset_days": [3]})
    with pytest.raises(ValueError, match="weeks has no row for dataset 'cdnow'"):
        btyd.tracking_expectations(births, pd.DataFrame({"dataset": ["x"], "weeks": [5]}), fits)
    with pytest.raises(ValueError, match="conflicting values"):
        btyd.tracking_expectations(
            births, pd.DataFrame({"dataset": ["cdnow", "cdnow"], "weeks": [5, 6]}), fits
        )
    with pytest.raises(ValueError, match="fits lacks columns"):
        btyd.tracking_expectations(
            births,
            pd.DataFrame({"dataset": ["cdnow"], "weeks": [5]}),
            fits.drop(columns="converged"),
        )


# --------------------------------------------------------------------------------------------
# Calibration / holdout
# --------------------------------------------------------------------------------------------


def test_holdout_conditional_expectations_by_calibration_frequency(
    customers: pd.DataFrame, purchases: pd.DataFrame, fits: pd.DataFrame
) -> None:
    # the actual holdout purchases count distinct purchase days, like the calibration period
    actual = by_calibration_frequency(customers["holdout_days"], customers["frequency"])
    assert np.round(actual, 3).tolist() == PUBLISHED_HOLDOUT_ACTUAL
    lines = purchases[(purchases["date"] > CALIBRATION_END) & (purchases["date"] <= HOLDOUT_END)]
    line_counts = lines.groupby("customer_id").size().reindex(customers.index, fill_value=0)
    by_lines = by_calibration_frequency(line_counts, customers["frequency"])
    assert round(by_lines[7], 3) == 6.859  # counting transactions instead does not match

    keys = ["dataset", "frequency", "recency_days", "customer_age_days", "recency", "customer_age"]
    profiles = customers[keys].drop_duplicates().assign(duration_holdout=HOLDOUT_WEEKS)
    predictions = btyd.holdout_predictions(profiles.iloc[::-1], fits)
    assert list(predictions.columns) == [
        "dataset",
        "model",
        "frequency",
        "recency",
        "customer_age",
        "duration_holdout",
        "recency_days",
        "customer_age_days",
        "expected_holdout_purchases",
    ]
    assert predictions.index.equals(pd.RangeIndex(3 * len(profiles)))
    assert predictions["model"].unique().tolist() == list(MODELS)
    joined = customers.merge(
        predictions, on=["dataset", "frequency", "recency_days", "customer_age_days"]
    )
    assert len(joined) == 3 * len(customers)
    expected = {
        model: by_calibration_frequency(part["expected_holdout_purchases"], part["frequency"])
        for model, part in joined.groupby("model")
    }
    assert expected["bgnbd"] == pytest.approx(PUBLISHED_HOLDOUT_BGNBD, abs=0.005)
    for model in MODELS:
        part = predictions[predictions["model"] == model]
        assert part["expected_holdout_purchases"].to_numpy() == pytest.approx(
            btyd.expected_purchases(
                estimates(fits, model),
                HOLDOUT_WEEKS,
                part["frequency"],
                part["recency"],
                part["customer_age"],
                model,
            ),
            rel=1e-12,
        )

    # a fit_models table works too (its Gamma-Gamma rows are ignored)
    from_fit_models = btyd.holdout_predictions(
        profiles, pd.concat([fits[fits["model"] == "bgnbd"], fits.assign(model="gamma_gamma")])
    )
    assert from_fit_models["model"].unique().tolist() == ["bgnbd"]


# --------------------------------------------------------------------------------------------
# Expected histogram of calibration-period repeat purchases
# --------------------------------------------------------------------------------------------


def test_period_transaction_probabilities_and_the_expected_histogram(
    customers: pd.DataFrame, fits: pd.DataFrame
) -> None:
    ages = customers.groupby(["dataset", "customer_age_days", "customer_age"], as_index=False).agg(
        customers=("frequency", "size")
    )
    duplicated = pd.concat([ages, ages.head(3)])  # exact duplicates are dropped
    table = btyd.period_transaction_probabilities(duplicated, fits)
    assert list(table.columns) == [
        "dataset",
        "model",
        "customer_age",
        "customer_age_days",
        "customers",
        "repeat_purchases",
        "probability",
    ]
    assert len(table) == 3 * len(ages) * 8
    assert table["repeat_purchases"].tolist()[:9] == [0, 1, 2, 3, 4, 5, 6, 7, 0]
    assert (table["probability"] >= 0).all()
    sums = table.groupby(["model", "customer_age"])["probability"].sum()
    assert len(sums) == 3 * len(ages)
    assert np.max(np.abs(sums - 1)) < 1e-12

    # each probability against lifetimes / numerical integration, at a few ages
    for model in MODELS:
        params = estimates(fits, model)
        part = table[table["model"] == model]
        for age in ages["customer_age"].iloc[[0, len(ages) // 2, -1]]:
            block = part[part["customer_age"] == age]["probability"].to_numpy()
            reference = [reference_pmf(model, params, age, n) for n in range(7)]
            assert block[:7] == pytest.approx(reference, rel=1e-9, abs=1e-14)
            assert block[7] == pytest.approx(1 - sum(reference), rel=1e-9)

    # the expected histogram (customers weighted) against a simulation of the same customers
    weighted = table.assign(expected=table["probability"] * table["customers"])
    histogram = weighted.pivot_table(
        index="repeat_purchases", columns="model", values="expected", aggfunc="sum"
    )
    assert histogram.sum().to_numpy() == pytest.approx([2357.0] * 3, rel=1e-12)
    age_of_each = customers["customer_age"].to_numpy()
    rng = np.random.default_rng(97)
    replications = 40
    for model in MODELS:
        draws = np.concatenate(
            [
                simulate_repeat_purchases(model, estimates(fits, model), age_of_each, rng)
                for _ in range(replications)
            ]
        )
        simulated = np.bincount(np.minimum(draws, 7), minlength=8) / replications
        share = histogram[model].to_numpy() / 2357
        error = 2357 * np.sqrt(share * (1 - share) / (2357 * replications))
        assert np.all(np.abs(simulated - histogram[model].to_numpy()) < 5 * error), model
    # BG/NBD, as in Fader, Hardie and Lee (2005, Figure 3): close to the actual counts
    actual = customers["frequency"].clip(upper=7).value_counts().sort_index().to_numpy()
    assert np.round(histogram["bgnbd"].to_numpy(), 1).tolist() == [
        1407.7,
        460.3,
        192.5,
        101.2,
        59.8,
        38.1,
        25.5,
        71.9,
    ]
    assert actual.tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]


# --------------------------------------------------------------------------------------------
# Tracking cumulative repeat purchases
# --------------------------------------------------------------------------------------------


def test_tracking_cumulative_repeat_purchases_to_week_78(
    customers: pd.DataFrame, purchases: pd.DataFrame, fits: pd.DataFrame
) -> None:
    assert PERIOD_START + pd.Timedelta(weeks=TRACKING_WEEKS) == HOLDOUT_END + pd.Timedelta(days=1)
    births = customers.groupby(["dataset", "birth_offset_days"], as_index=False).agg(
        customers=("frequency", "size")
    )
    weeks = pd.DataFrame({"dataset": ["cdnow"], "weeks": [TRACKING_WEEKS]})
    table = btyd.tracking_expectations(births, weeks, fits)
    assert list(table.columns) == [
        "dataset",
        "model",
        "birth_offset_days",
        "customers",
        "week",
        "expected_cumulative_repeat_purchases",
    ]
    assert len(table) == 3 * len(births) * TRACKING_WEEKS
    # nothing before (and in the week of) a birth at the end of that week; E[X(t)] after it
    offsets, week = table["birth_offset_days"], table["week"]
    unborn = table[7 * week <= offsets]
    assert len(unborn) > 0 and (unborn["expected_cumulative_repeat_purchases"] == 0).all()
    for model in MODELS:
        part = table[(table["model"] == model) & (7 * table["week"] > table["birth_offset_days"])]
        t = (7 * part["week"] - part["birth_offset_days"]).to_numpy() / 7
        fitter = {
            "bgnbd": lifetimes.BetaGeoFitter,
            "pareto_nbd": lifetimes.ParetoNBDFitter,
            "mbgnbd": lifetimes.ModifiedBetaGeoFitter,
        }[model]()
        fitter.params_ = pd.Series(estimates(fits, model))
        assert part["expected_cumulative_repeat_purchases"].to_numpy() == pytest.approx(
            fitter.expected_number_of_purchases_up_to_time(t), rel=1e-9
        )
    increments = table.groupby(["model", "birth_offset_days"])[
        "expected_cumulative_repeat_purchases"
    ].diff()
    assert (increments.dropna() >= 0).all()

    totals = (
        table.assign(total=table["expected_cumulative_repeat_purchases"] * table["customers"])
        .groupby(["model", "week"])["total"]
        .sum()
    )
    # Fader, Hardie and Lee (2005), Figure 2: about 4,171 expected by week 78 (published,
    # rounded parameters; the unrounded estimates give 4,165.7)
    assert totals["bgnbd", TRACKING_WEEKS] == pytest.approx(4171, rel=0.005)
    published = fits.assign(
        estimate=fits["model"].map({"bgnbd": 1.0}) * fits["parameter"].map(PUBLISHED_BGNBD)
    )
    rounded = btyd.tracking_expectations(births, weeks, published)
    assert rounded["model"].unique().tolist() == ["bgnbd"]  # NaN estimates: not a good fit
    at_78 = rounded[rounded["week"] == TRACKING_WEEKS]
    assert round(float(at_78["expected_cumulative_repeat_purchases"] @ at_78["customers"])) == 4171

    # actual: repeat purchase *days* after each customer's first day, through 1998-06-30
    tracked = purchases[purchases["date"] <= HOLDOUT_END]
    first_day = tracked.groupby("customer_id")["date"].transform("min")
    repeat_lines = tracked[tracked["date"] > first_day]
    assert len(repeat_lines[["customer_id", "date"]].drop_duplicates()) == 4339
    assert len(repeat_lines) == 4520  # counting transactions (lines) instead
    assert len(tracked) - tracked["customer_id"].nunique() == 4562  # every line but the first


def test_a_model_with_non_finite_predictions_is_left_out_not_averaged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the 2009-2010 Online Retail II calibration fit: a + b < 1, so the hypergeometric function
    # in BG/NBD's conditional expectation meets a pole for some customers without repeats
    fits = pd.DataFrame(
        {
            "dataset": "retail",
            "model": "bgnbd",
            "parameter": ["r", "alpha", "a", "b"],
            "estimate": [0.77, 9.61, 0.002847, 0.203828],
            "converged": True,
        }
    )
    profiles = pd.DataFrame(
        {
            "dataset": "retail",
            "frequency": [0.0, 0.0],
            "recency": [0.0, 0.0],
            "customer_age": [1.0, 30.0],
            "duration_holdout": [13.0, 13.0],
        }
    )
    raw = btyd.expected_purchases(
        dict(zip(fits["parameter"], fits["estimate"], strict=True)),
        13.0,
        profiles["frequency"],
        profiles["recency"],
        profiles["customer_age"],
    )
    assert not np.isfinite(raw).all()  # the premise: the model itself gives a NaN here
    predictions = btyd.holdout_predictions(profiles, fits)
    assert predictions.empty
    assert "non-finite expected_holdout_purchases" in capsys.readouterr().err


def test_holdout_log_likelihood_on_cdnow(customers: pd.DataFrame, fits: pd.DataFrame) -> None:
    # per customer, directly from the models' conditional distribution and scipy's Poisson
    rate = customers["frequency"].sum() / customers["customer_age"].sum()
    per_customer = customers.assign(duration_holdout=HOLDOUT_WEEKS)
    direct = {
        model: np.log(
            btyd.conditional_probability_of_purchases(
                estimates(fits, model),
                HOLDOUT_WEEKS,
                per_customer["holdout_days"],
                per_customer["frequency"],
                per_customer["recency"],
                per_customer["customer_age"],
                model=model,
            )
        ).sum()
        for model in MODELS
    }
    poisson = scipy.stats.poisson.logpmf(per_customer["holdout_days"], rate * HOLDOUT_WEEKS).sum()
    # the table on distinct (profile, holdout count) rows, weighted by customers as SQL does
    keys = ["dataset", "frequency", "recency", "customer_age", "holdout_days"]
    counts = (
        per_customer.groupby(keys, as_index=False)
        .agg(customers=("frequency", "size"))
        .rename(columns={"holdout_days": "holdout_purchases"})
        .assign(duration_holdout=HOLDOUT_WEEKS, calibration_rate=rate)
    )
    scored = btyd.holdout_log_probabilities(counts, fits, baseline_rate="calibration_rate")
    totals = (
        scored.assign(weighted=scored["customers"] * scored["holdout_log_probability"])
        .groupby("model")["weighted"]
        .sum()
    )
    assert set(totals.index) == {*MODELS, "calibration_rate_poisson"}
    for model in MODELS:
        assert totals[model] == pytest.approx(direct[model], rel=1e-10)
    assert totals["calibration_rate_poisson"] == pytest.approx(poisson, rel=1e-10)
    # every model beats the baseline by far; BG/NBD per customer on the published split (pinned)
    assert totals[list(MODELS)].min() > poisson + 0.1 * len(customers)
    assert round(totals["bgnbd"] / len(customers), 4) == pytest.approx(-0.9845, abs=5e-4)


def test_fits_side_by_side_equal_fits_one_by_one(
    monkeypatch: pytest.MonkeyPatch, inputs: pd.DataFrame, fits: pd.DataFrame
) -> None:
    """The three models fitted on three threads (and a failing one among them) give the same
    table, to the last bit, as fitted one after another on the calling thread."""
    one_timers = pd.DataFrame(
        {
            "dataset": ["new_shop"],
            "frequency": [0],
            "recency": [0.0],
            "customer_age": [3.0],
            "customers": [4],
        }
    )
    with_failure = pd.concat([one_timers, inputs])
    tables = {}
    for threads in ("1", "3"):
        monkeypatch.setenv("CRM_FIT_THREADS", threads)
        tables[threads] = btyd.fit_validation_models(with_failure, MODELS, 0.0)
    pd.testing.assert_frame_equal(tables["1"], tables["3"], check_exact=True)
    cdnow = tables["3"][tables["3"]["dataset"] == "cdnow"].reset_index(drop=True)
    pd.testing.assert_frame_equal(cdnow, fits.reset_index(drop=True), check_exact=True)
    assert tables["3"].loc[tables["3"]["dataset"] == "new_shop", "estimate"].isna().all()
