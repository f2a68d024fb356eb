"""Tests of the transaction models by name (crm_analytics.btyd.registry): the registry, the fit
and the predictions of every model against lifetimes, numerical integration and simulation."""

from __future__ import annotations

import lifetimes
import numpy as np
import pandas as pd
import pytest
from cdnow_reference import (
    CDNOW_PARAMS,
    columns_of,
    distinct_rows,
    lifetimes_model,
    load_cdnow,
    max_relative_difference,
    repeat_spend,
    simulate_repeat_purchases,
    with_monetary_value,
)

from crm_analytics import btyd


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_distinct(cdnow: pd.DataFrame) -> pd.DataFrame:
    return distinct_rows(cdnow)


@pytest.fixture(scope="module")
def cdnow_profiles(cdnow: pd.DataFrame) -> pd.DataFrame:
    return with_monetary_value(cdnow, repeat_spend(cdnow))


def test_the_registry_lists_every_transaction_model_once() -> None:
    assert btyd.TRANSACTION_MODELS == ("bgnbd", "pareto_nbd", "mbgnbd")
    assert tuple(btyd.TRANSACTION_MODEL_REGISTRY) == btyd.TRANSACTION_MODELS
    assert btyd.MODEL_LABELS == {
        "bgnbd": "BG/NBD",
        "pareto_nbd": "Pareto/NBD",
        "mbgnbd": "MBG/NBD",
        "gamma_gamma": "Gamma-Gamma",
    }
    assert dict(btyd.MODEL_PARAMETERS) == {
        "bgnbd": ("r", "alpha", "a", "b"),
        "pareto_nbd": ("r", "alpha", "s", "beta"),
        "mbgnbd": ("r", "alpha", "a", "b"),
        "gamma_gamma": ("p", "q", "v"),
    }
    for name, model in btyd.TRANSACTION_MODEL_REGISTRY.items():
        assert (model.name, model.label) == (name, btyd.MODEL_LABELS[name])
        assert btyd.transaction_model(name) is model
    with pytest.raises(ValueError, match="unknown transaction model 'gamma_gamma'"):
        btyd.transaction_model("gamma_gamma")


def test_fit_bgnbd_is_fit_transaction_model(cdnow_distinct: pd.DataFrame) -> None:
    columns = columns_of(cdnow_distinct, "frequency", "recency", "T", "customers")
    assert btyd.bgnbd.fit(*columns) == btyd.fit_transaction_model("bgnbd", *columns)
    with pytest.raises(ValueError, match="unknown transaction model 'nbd'"):
        btyd.fit_transaction_model("nbd", *columns)


@pytest.mark.parametrize(("model", "label"), [("pareto_nbd", "Pareto/NBD"), ("mbgnbd", "MBG/NBD")])
def test_alternative_models_refuse_one_time_buyers_only(model: str, label: str) -> None:
    with pytest.raises(btyd.ModelFitError, match=f"{label} model .* 'shop': no repeat") as raised:
        btyd.fit_transaction_model(model, [0, 0], [0.0, 0.0], [5.0, 6.0], dataset="shop")
    assert (raised.value.model, raised.value.attempts) == (model, 0)
    with pytest.raises(btyd.ModelFitError, match="recency greater than T"):
        btyd.fit_transaction_model(model, [1, 2], [3.0, 9.0], [5.0, 6.0])


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")
@pytest.mark.parametrize("model", btyd.TRANSACTION_MODELS)
def test_transaction_model_predictions_equal_lifetimes(
    cdnow_profiles: pd.DataFrame, model: str
) -> None:
    params = CDNOW_PARAMS[model]
    reference = lifetimes_model(model, params)
    frequency, recency, age, monetary = columns_of(
        cdnow_profiles, "frequency", "recency", "T", "monetary_value"
    )
    differences = {
        "probability_alive": max_relative_difference(
            btyd.probability_alive(params, frequency, recency, age, model),
            reference.conditional_probability_alive(frequency, recency, age),
        )
    }
    for horizon in (1.0, 4.0, 12.0, 52.0):
        differences[f"expected_purchases({horizon})"] = max_relative_difference(
            btyd.expected_purchases(params, horizon, frequency, recency, age, model),
            reference.conditional_expected_number_of_purchases_up_to_time(
                horizon, frequency, recency, age
            ),
        )
    times = np.array([0.1, 1.0, 4.0, 39.0, 78.0, 520.0])
    differences["since_acquisition"] = max_relative_difference(
        btyd.expected_purchases_since_acquisition(params, times, model),
        reference.expected_number_of_purchases_up_to_time(times),
    )
    gg_params = {"p": 6.25, "q": 3.74, "v": 15.44}
    gamma_gamma = lifetimes.GammaGammaFitter()
    gamma_gamma.params_ = pd.Series(gg_params)
    differences["clv"] = max_relative_difference(
        btyd.customer_lifetime_value(
            params, gg_params, frequency, recency, age, monetary, 12, 0.01, model=model
        ),
        gamma_gamma.customer_lifetime_value(
            reference, frequency, recency, age, monetary, time=12, discount_rate=0.01, freq="W"
        ),
    )
    if model != "pareto_nbd":  # lifetimes has P(X(t) = n) for BG/NBD and MBG/NBD only
        for t in (5.0, 27.0, 38.86):
            for n in range(8):
                differences[f"P(X({t}) = {n})"] = max_relative_difference(
                    btyd.probability_of_repeat_purchases(params, t, n, model),
                    [reference.probability_of_n_purchases_up_to_time(t, n)],
                )
    assert max(differences.values()) < 1e-9, differences
    # horizons broadcast with the customers
    horizons = np.linspace(0.0, 52.0, len(frequency))
    by_row = btyd.expected_purchases(params, horizons, frequency, recency, age, model)
    one_by_one = [
        btyd.expected_purchases(params, h, f, t_x, t, model)[0]
        for h, f, t_x, t in list(zip(horizons, frequency, recency, age, strict=True))[::97]
    ]
    assert by_row[::97] == pytest.approx(one_by_one, rel=1e-12)


@pytest.mark.parametrize("model", btyd.TRANSACTION_MODELS)
def test_purchase_count_probabilities_match_a_simulation(model: str) -> None:
    params = CDNOW_PARAMS[model]
    rng = np.random.default_rng(20240611)
    draws = 400_000
    for t in (2.0, 38.86):
        simulated = simulate_repeat_purchases(model, params, np.full(draws, t), rng)
        counts = np.arange(8)
        expected = btyd.probability_of_repeat_purchases(params, t, counts, model)
        observed = np.array([np.mean(simulated == n) for n in counts])
        error = np.sqrt(expected * (1 - expected) / draws)
        assert np.all(np.abs(observed - expected) < 5 * error + 1e-6), (t, observed, expected)
        mean = btyd.expected_purchases_since_acquisition(params, t, model)[0]
        assert abs(simulated.mean() - mean) < 5 * simulated.std() / np.sqrt(draws)
    assert btyd.probability_of_repeat_purchases(params, 0.0, [0, 1, 2], model).tolist() == [1, 0, 0]
    assert btyd.expected_purchases_since_acquisition(params, [0.0], model).tolist() == [0.0]
    with pytest.raises(ValueError, match="n must be integers"):
        btyd.probability_of_repeat_purchases(params, 1.0, 1.5, model)


def test_mbgnbd_and_pareto_nbd_one_time_buyers_may_be_dead() -> None:
    mbg, pareto = CDNOW_PARAMS["mbgnbd"], CDNOW_PARAMS["pareto_nbd"]
    # MBG/NBD: a customer can drop out right after the first purchase (probability a/(a+b))
    assert btyd.probability_alive(mbg, 0, 0, 0, "mbgnbd")[0] == pytest.approx(
        mbg["b"] / (mbg["a"] + mbg["b"]), rel=1e-12
    )
    assert btyd.probability_alive(pareto, 0, 0, 0, "pareto_nbd").tolist() == [1.0]
    assert btyd.probability_alive(pareto, [0, 3], [0, 20.0], [30.0, 20.0], "pareto_nbd")[
        1
    ] == pytest.approx(1.0, abs=1e-15)
    assert btyd.probability_alive(pareto, 0, 0, 30.0, "pareto_nbd")[0] < 1
    for model, params in (("mbgnbd", mbg), ("pareto_nbd", pareto)):
        for horizon in (1.0, 12.0):
            new = btyd.expected_purchases(params, horizon, 0, 0, 0, model)[0]
            assert new == pytest.approx(
                btyd.expected_purchases_since_acquisition(params, horizon, model)[0], rel=1e-12
            )
    # Pareto/NBD at s = 1: the limit of the closed form
    near = [{**pareto, "s": 1 + d} for d in (-1e-7, 1e-7)]
    at_one = btyd.expected_purchases_since_acquisition({**pareto, "s": 1.0}, 39.0, "pareto_nbd")
    around = [btyd.expected_purchases_since_acquisition(p, 39.0, "pareto_nbd") for p in near]
    assert at_one[0] == pytest.approx(np.mean(around), rel=1e-6)
