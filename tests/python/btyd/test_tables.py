"""Tests of the production table functions of crm_analytics.btyd.tables (fit_models,
score_profiles, chosen_models) on CDNOW, with the SQL column names (customer_age)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from cdnow_reference import columns_of, load_cdnow, repeat_spend, with_monetary_value

from crm_analytics.btyd import (
    DEFAULT_TRANSACTION_FALLBACKS,
    PARAMETER_COLUMNS,
    FitResult,
    ModelFitError,
    chosen_models,
    expected_purchases,
    fit_models,
    gamma_gamma,
    pareto_nbd,
    probability_alive,
    registry,
    score_profiles,
)

HORIZONS = {
    "expected_purchases_week": 1.0,
    "expected_purchases_month": 4.0,
    "expected_purchases_quarter": 12.0,
}
BGNBD_PENALIZER = 0.001
GAMMA_GAMMA_PENALIZER = 0.001
ADDED_COLUMNS = ["probability_alive", *HORIZONS, "discounted_expected_purchases"]
CLV_MONTHS, MONTHLY_DISCOUNT_RATE, WEEKS_PER_MONTH = 3, 0.01, 4.345


def model_inputs(profiles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The SQL side's int_transaction_model_inputs_counted and int_gamma_gamma_inputs_counted."""
    bgnbd = profiles.groupby(
        ["dataset", "frequency", "recency", "customer_age"], as_index=False
    ).agg(customers=("frequency", "size"))
    repeat = profiles[profiles["frequency"] > 0]
    gamma_gamma = repeat.groupby(["dataset", "frequency", "monetary_value"], as_index=False).agg(
        customers=("frequency", "size")
    )
    return bgnbd, gamma_gamma


@pytest.fixture(scope="module")
def two_datasets() -> pd.DataFrame:
    """CDNOW as dataset 'cdnow' plus its odd-numbered customers as dataset 'odd', one row per
    customer with the columns of the SQL lifetime table."""
    cdnow = load_cdnow()
    cdnow_profiles = with_monetary_value(cdnow, repeat_spend(cdnow))
    odd = cdnow_profiles[cdnow_profiles.index % 2 == 1]
    both = pd.concat(
        [cdnow_profiles.assign(dataset="cdnow"), odd.assign(dataset="odd")], ignore_index=True
    )
    return both.rename(columns={"T": "customer_age"})[
        ["dataset", "frequency", "recency", "customer_age", "monetary_value"]
    ]


def score(profiles: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    return score_profiles(
        profiles, parameters, HORIZONS, CLV_MONTHS, MONTHLY_DISCOUNT_RATE, WEEKS_PER_MONTH
    )


def test_fit_models_and_score_profiles(two_datasets: pd.DataFrame) -> None:
    transaction_inputs, gamma_gamma_inputs = model_inputs(two_datasets)
    parameters = fit_models(
        transaction_inputs, gamma_gamma_inputs, BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER
    )
    assert list(parameters.columns) == list(PARAMETER_COLUMNS)
    assert parameters[["dataset", "model", "parameter"]].values.tolist() == [
        [dataset, model, parameter]
        for dataset in ("cdnow", "odd")
        for model, names in (("bgnbd", "r alpha a b"), ("gamma_gamma", "p q v"))
        for parameter in names.split()
    ]
    # every column is filled, except Gamma-Gamma's 4th covariance column (it has 3 parameters)
    filled = parameters.drop(columns="log_covariance_4")
    assert not filled.isna().any().any()
    is_gamma_gamma = parameters["model"] == "gamma_gamma"
    assert parameters.loc[is_gamma_gamma, "log_covariance_4"].isna().all()
    assert parameters.loc[~is_gamma_gamma, "log_covariance_4"].notna().all()
    # log-scale intervals: inside (0, inf), the estimate their geometric mean
    assert (parameters["ci_lower"] > 0).all()
    assert (parameters["ci_lower"] * parameters["ci_upper"]).to_numpy() == pytest.approx(
        (parameters["estimate"] ** 2).to_numpy(), rel=1e-9
    )
    assert parameters.groupby(["dataset", "model"])["n_customers"].first().to_dict() == {
        ("cdnow", "bgnbd"): 2357.0,
        ("cdnow", "gamma_gamma"): 946.0,
        ("odd", "bgnbd"): 1179.0,
        ("odd", "gamma_gamma"): float((two_datasets.query("dataset == 'odd'").frequency > 0).sum()),
    }
    assert (
        parameters["penalizer"]
        == np.where(parameters["model"] == "bgnbd", BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER)
    ).all()

    # a dataset's fit does not depend on the other datasets
    alone = fit_models(
        transaction_inputs[transaction_inputs["dataset"] == "cdnow"],
        gamma_gamma_inputs[gamma_gamma_inputs["dataset"] == "cdnow"],
        BGNBD_PENALIZER,
        GAMMA_GAMMA_PENALIZER,
    )
    pd.testing.assert_frame_equal(alone, parameters[parameters["dataset"] == "cdnow"])

    profiles = two_datasets.drop_duplicates().iloc[::-1]  # any row order, a non-default index
    scores = score(profiles, parameters)
    assert list(scores.columns) == [*profiles.columns, *ADDED_COLUMNS]
    pd.testing.assert_frame_equal(scores[list(profiles.columns)], profiles)
    assert np.isfinite(scores[ADDED_COLUMNS].to_numpy()).all()
    assert scores["probability_alive"].between(0, 1).all()
    week, month, quarter = (scores[name] for name in HORIZONS)
    assert (week <= month).all() and (month <= quarter).all() and (week > 0).all()
    assert (scores["discounted_expected_purchases"] > 0).all()
    # the discounted purchases by their definition: month k's expected purchases / 1.01^k
    cdnow_part = scores[scores["dataset"] == "cdnow"]
    bgnbd_params = alone.query("model == 'bgnbd'").set_index("parameter")["estimate"].to_dict()
    columns = columns_of(cdnow_part, "frequency", "recency", "customer_age")
    by_month = [
        expected_purchases(bgnbd_params, month * WEEKS_PER_MONTH, *columns)
        for month in range(CLV_MONTHS + 1)
    ]
    definition = sum(
        (by_month[month] - by_month[month - 1]) / (1 + MONTHLY_DISCOUNT_RATE) ** month
        for month in range(1, CLV_MONTHS + 1)
    )
    assert cdnow_part["discounted_expected_purchases"].to_numpy() == pytest.approx(
        definition, rel=1e-12
    )
    cdnow_scores = scores[scores["dataset"] == "cdnow"]
    pd.testing.assert_frame_equal(
        score(profiles[profiles["dataset"] == "cdnow"], alone), cdnow_scores
    )
    one_time = cdnow_scores[cdnow_scores["frequency"] == 0]
    assert (one_time["probability_alive"] == 1).all()
    # profiles are scored sorted (equal hypergeometric terms side by side): any input order
    # gives every row the same values, to the bit, at its own position
    shuffled = profiles.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(score(shuffled, parameters), scores.loc[shuffled.index])


def test_score_profiles_handles_customers_first_seen_on_the_analysis_date(
    two_datasets: pd.DataFrame,
) -> None:
    parameters = fit_models(*model_inputs(two_datasets), BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER)
    new = pd.DataFrame(
        {
            "dataset": ["odd", "odd"],
            "frequency": [0, 0],
            "recency": [0.0, 0.0],
            "customer_age": [0.0, 1e-9],
            "monetary_value": [np.nan, 0.0],
            "customers": [3, 1],
        }
    )
    scores = score(new, parameters)
    assert np.isfinite(scores[ADDED_COLUMNS].to_numpy()).all()
    assert scores["probability_alive"].tolist() == [1.0, 1.0]
    for name in [*HORIZONS, "discounted_expected_purchases"]:
        assert scores[name].iloc[0] == pytest.approx(scores[name].iloc[1], rel=1e-6)
    assert (scores["expected_purchases_week"] > 0).all()


def test_fit_models_names_the_dataset_that_cannot_be_fitted(two_datasets: pd.DataFrame) -> None:
    transaction_inputs, gamma_gamma_inputs = model_inputs(two_datasets)
    one_timers = pd.DataFrame(
        {
            "dataset": ["new_shop"],
            "frequency": [0],
            "recency": [0.0],
            "customer_age": [3.0],
            "customers": [5],
        }
    )
    with pytest.raises(ModelFitError, match=r"BG/NBD .* dataset 'new_shop'.*no repeat"):
        fit_models(
            pd.concat([transaction_inputs, one_timers]),
            gamma_gamma_inputs,
            BGNBD_PENALIZER,
            GAMMA_GAMMA_PENALIZER,
        )


def test_a_penalized_gamma_gamma_fit_with_q_below_one_falls_back_to_the_mle(
    two_datasets: pd.DataFrame,
) -> None:
    cdnow = two_datasets[two_datasets["dataset"] == "cdnow"]
    parameters = fit_models(*model_inputs(cdnow), BGNBD_PENALIZER, 0.01)
    gamma_gamma_rows = parameters[parameters["model"] == "gamma_gamma"].set_index("parameter")
    rounded = gamma_gamma_rows["estimate"].round(2).to_dict()
    assert rounded == {"p": 6.25, "q": 3.74, "v": 15.44}  # the published unpenalised estimates
    assert (gamma_gamma_rows["penalizer"] == 0.0).all()
    assert (gamma_gamma_rows["attempts"] == 2).all()
    assert gamma_gamma_rows["converged"].all()
    messages = gamma_gamma_rows["fit_message"].unique().tolist()
    assert len(messages) == 1
    assert re.fullmatch(
        r"retried with penalizer 0 after: penalizer 0\.01: q = 0\.9\d+ <= 1: "
        r"the mean spend p\*v/\(q-1\) is undefined",
        messages[0],
    ), messages[0]
    # the BG/NBD fit is not affected
    bgnbd_rows = parameters[parameters["model"] == "bgnbd"]
    assert (bgnbd_rows["penalizer"] == BGNBD_PENALIZER).all() and (
        bgnbd_rows["attempts"] == 1
    ).all()


def test_penalizers_from_dbt_config_strings_and_their_fallbacks(
    monkeypatch: pytest.MonkeyPatch, two_datasets: pd.DataFrame
) -> None:
    odd = two_datasets[two_datasets["dataset"] == "odd"]
    strings = fit_models(*model_inputs(odd), "0.001", "0.001")  # type: ignore[arg-type]
    floats = fit_models(*model_inputs(odd), BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER)
    pd.testing.assert_frame_equal(strings, floats)

    # what fit_models hands to the fitters
    calls: list[tuple[str, float, tuple[float, ...]]] = []

    def spy(name: str | None, fit: Callable[..., FitResult]) -> Callable[..., FitResult]:
        def recording(*args: object, **kwargs: object) -> FitResult:
            called = name if name is not None else str(args[0])  # the transaction model's name
            calls.append((called, kwargs["penalizer"], tuple(kwargs["fallback_penalizers"])))
            return fit(*args, **kwargs)

        return recording

    monkeypatch.setattr(
        registry, "fit_transaction_model", spy(None, registry.fit_transaction_model)
    )
    monkeypatch.setattr(gamma_gamma, "fit", spy("gamma_gamma", gamma_gamma.fit))
    fit_models(*model_inputs(odd), "0.001", "0.01")  # type: ignore[arg-type]
    fit_models(*model_inputs(odd), "0", 0)  # type: ignore[arg-type]
    assert calls == [
        ("bgnbd", 0.001, (0.0, 0.01, 0.1, 1.0)),
        ("gamma_gamma", 0.01, (0.0, 0.1, 1.0)),
        ("bgnbd", 0.0, DEFAULT_TRANSACTION_FALLBACKS),
        ("gamma_gamma", 0.0, gamma_gamma.DEFAULT_FALLBACKS),
    ]
    assert DEFAULT_TRANSACTION_FALLBACKS == (0.01, 0.1, 1.0)
    assert gamma_gamma.DEFAULT_FALLBACKS == (0.0001, 0.001)


def test_score_profiles_refuses_bad_inputs(two_datasets: pd.DataFrame) -> None:
    odd = two_datasets[two_datasets["dataset"] == "odd"]
    parameters = fit_models(*model_inputs(odd), BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER)
    with pytest.raises(ValueError, match="dataset 'cdnow': expected one estimate"):
        score(two_datasets, parameters)
    bad = odd.assign(recency=odd["customer_age"] + 1)
    with pytest.raises(ValueError, match=r"dataset 'odd'.*recency outside \[0, customer_age\]"):
        score(bad, parameters)
    with pytest.raises(ValueError, match=r"profiles lacks columns \['customer_age'\]"):
        score(odd.rename(columns={"customer_age": "T"}), parameters)


def test_fit_models_and_score_profiles_with_pareto_nbd(two_datasets: pd.DataFrame) -> None:
    odd = two_datasets[two_datasets["dataset"] == "odd"]
    inputs = model_inputs(odd)
    parameters = fit_models(*inputs, 0.0, GAMMA_GAMMA_PENALIZER, transaction_model="pareto_nbd")
    assert list(parameters.columns) == list(PARAMETER_COLUMNS)
    assert parameters[["model", "parameter"]].values.tolist() == [
        ["pareto_nbd", "r"],
        ["pareto_nbd", "alpha"],
        ["pareto_nbd", "s"],
        ["pareto_nbd", "beta"],
        ["gamma_gamma", "p"],
        ["gamma_gamma", "q"],
        ["gamma_gamma", "v"],
    ]
    bgnbd_table = inputs[0]
    direct = pareto_nbd.fit(
        *columns_of(bgnbd_table, "frequency", "recency", "customer_age", "customers"),
        penalizer=0.0,
    )
    pareto = parameters[parameters["model"] == "pareto_nbd"].set_index("parameter")["estimate"]
    assert pareto.to_dict() == direct.params

    profiles = odd.drop_duplicates()
    scores = score(profiles, parameters)
    columns = columns_of(profiles, "frequency", "recency", "customer_age")
    assert scores["probability_alive"].to_numpy() == pytest.approx(
        probability_alive(direct.params, *columns, "pareto_nbd"), rel=1e-12
    )
    assert scores["expected_purchases_month"].to_numpy() == pytest.approx(
        expected_purchases(direct.params, 4.0, *columns, "pareto_nbd"), rel=1e-12
    )
    one_time = scores[scores["frequency"] == 0]
    assert (one_time["probability_alive"] < 1).all()  # unlike BG/NBD

    both = pd.concat([parameters, fit_models(*inputs, 0.0, GAMMA_GAMMA_PENALIZER).iloc[:4]])
    with pytest.raises(ValueError, match=r"several transaction models \['bgnbd', 'pareto_nbd'\]"):
        score(profiles, both)
    with pytest.raises(ValueError, match="unknown transaction model 'pnbd'"):
        fit_models(*inputs, 0.0, 0.0, transaction_model="pnbd")


def test_fit_models_takes_a_model_per_dataset(two_datasets: pd.DataFrame) -> None:
    inputs = model_inputs(two_datasets)
    parameters = fit_models(*inputs, 0.0, GAMMA_GAMMA_PENALIZER, {"odd": "pareto_nbd"})
    models = parameters.groupby("dataset")["model"].unique().map(list).to_dict()
    assert models == {"cdnow": ["bgnbd", "gamma_gamma"], "odd": ["pareto_nbd", "gamma_gamma"]}
    with pytest.raises(ValueError, match="unknown transaction model 'pnbd'"):
        fit_models(*inputs, 0.0, 0.0, {"odd": "pnbd"})


def test_chosen_models() -> None:
    summary = pd.DataFrame(
        {
            "dataset": ["a", "a", "b", "b", "c"],
            "model": ["bgnbd", "mbgnbd", "bgnbd", "pareto_nbd", "bgnbd"],
            "is_selected": [False, True, False, True, None],
        }
    )
    assert chosen_models(summary, " Auto ") == {"a": "mbgnbd", "b": "pareto_nbd", "c": "bgnbd"}
    assert chosen_models(summary, "pareto_nbd") == dict.fromkeys("abc", "pareto_nbd")
    with pytest.raises(ValueError, match="unknown transaction model 'nbd'"):
        chosen_models(summary, "nbd")


def test_fit_models_side_by_side_equal_fits_one_by_one(
    monkeypatch: pytest.MonkeyPatch, two_datasets: pd.DataFrame
) -> None:
    """Four fits (two datasets, two models) on four threads give the same table, to the last
    bit, as on one; a failing dataset raises the same error either way."""
    transaction_inputs, gamma_gamma_inputs = model_inputs(two_datasets)
    tables = {}
    for threads in ("1", "4"):
        monkeypatch.setenv("CRM_FIT_THREADS", threads)
        tables[threads] = fit_models(
            transaction_inputs, gamma_gamma_inputs, BGNBD_PENALIZER, GAMMA_GAMMA_PENALIZER
        )
        one_timers = transaction_inputs.head(1).assign(dataset="new_shop", frequency=0)
        with pytest.raises(ModelFitError, match=r"BG/NBD .* dataset 'new_shop'"):
            fit_models(
                pd.concat([one_timers, transaction_inputs]),
                gamma_gamma_inputs,
                BGNBD_PENALIZER,
                GAMMA_GAMMA_PENALIZER,
            )
    pd.testing.assert_frame_equal(tables["1"], tables["4"], check_exact=True)
