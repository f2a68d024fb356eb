"""Tests of the conditional distribution of future purchase counts,
``conditional_probability_of_purchases`` of each transaction model: against lifetimes
(Pareto/NBD, Hardie's note 028), against a two-dimensional numerical integration over the
purchase rate and the dropout probability (BG/NBD, MBG/NBD), against the models' own expected
purchases (its mean) and unconditional P(X(t) = n) (a customer with no history)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_analytics.btyd import (
    bgnbd,
    conditional_probability_of_purchases,
    expected_purchases,
    mbgnbd,
    pareto_nbd,
    probability_of_repeat_purchases,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore")
    from lifetimes import ParetoNBDFitter

PARAMS = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbgnbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}
GRID = 2000  # points per axis of the integration grid
HISTORIES = [(0, 0.0, 38.0), (0, 0.0, 1.0), (2, 10.0, 38.0), (5, 30.0, 40.0), (10, 35.0, 39.0)]


def _integrated_pmf(params: dict[str, float], n: int, horizon: float, history, modified: bool):
    """P(n | history) of BG/NBD (modified=False) or MBG/NBD by integrating the joint
    probability of the history and the future count over lambda ~ Gamma(r, alpha) and
    p ~ Beta(a, b) (a midpoint grid on their quantile scales), divided by the probability of
    the history."""
    x, t_x, age = history
    grid = (np.arange(GRID) + 0.5) / GRID
    lam = stats.gamma(params["r"], scale=1 / params["alpha"]).ppf(grid)[:, np.newaxis]
    p = stats.beta(params["a"], params["b"]).ppf(grid)[np.newaxis, :]
    survived = x + 1 if modified else x
    alive = (1 - p) ** survived * lam**x * np.exp(-lam * age)
    dead = np.zeros_like(alive)
    if modified or x > 0:
        dead = p * (1 - p) ** (survived - 1) * lam**x * np.exp(-lam * t_x)
    future = (1 - p) ** n * stats.poisson.pmf(n, lam * horizon)
    if n > 0:
        future = future + p * (1 - p) ** (n - 1) * stats.poisson.sf(n - 1, lam * horizon)
    joint = alive * future + dead * (n == 0)
    return float(joint.mean() / (alive + dead).mean())


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
@pytest.mark.parametrize("history", HISTORIES[2:4])
def test_beta_geometric_models_against_numerical_integration(model, history) -> None:
    params = PARAMS[model]
    ours = conditional_probability_of_purchases(params, 20.0, np.arange(4), *history, model=model)
    reference = [
        _integrated_pmf(params, n, 20.0, history, modified=model == "mbgnbd") for n in range(4)
    ]
    assert ours == pytest.approx(reference, rel=2e-3)


def test_pareto_nbd_against_lifetimes() -> None:
    params = PARAMS["pareto_nbd"]
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(params)
    for history in HISTORIES:
        ours = pareto_nbd.conditional_probability_of_purchases(params, 39.0, np.arange(8), *history)
        theirs = [
            fitter.conditional_probability_of_n_purchases_up_to_time(n, 39.0, *history)
            for n in range(8)
        ]
        assert ours == pytest.approx(theirs, rel=1e-9)


def test_pareto_nbd_rows_sharing_a_profile_equal_each_row_alone() -> None:
    # the quadrature runs once per distinct (x, T, horizon, n): rows that share one, in any
    # order, with different recencies and horizons, must get exactly what each gets alone
    params = PARAMS["pareto_nbd"]
    rng = np.random.default_rng(7)
    size = 400
    x = rng.integers(0, 4, size).astype(float)
    age = rng.choice([20.0, 38.5, 39.0], size)
    t_x = np.where(x > 0, age * rng.choice([0.25, 0.5, 1.0], size), 0.0)
    horizon = rng.choice([10.0, 39.0], size)
    n = rng.integers(0, 3, size)
    together = pareto_nbd.conditional_probability_of_purchases(params, horizon, n, x, t_x, age)
    alone = [
        pareto_nbd.conditional_probability_of_purchases(
            params, horizon[i], n[i], x[i], t_x[i], age[i]
        )[0]
        for i in range(size)
    ]
    np.testing.assert_array_equal(together, alone)
    # counts as a column against customers as a row: one row of probabilities per count
    grid = pareto_nbd.conditional_probability_of_purchases(
        params, 39.0, np.arange(3)[:, np.newaxis], x[:5], t_x[:5], age[:5]
    )
    assert grid.shape == (3, 5)
    for count in range(3):
        np.testing.assert_array_equal(
            grid[count],
            pareto_nbd.conditional_probability_of_purchases(
                params, 39.0, count, x[:5], t_x[:5], age[:5]
            ),
        )


@pytest.mark.parametrize("model", sorted(PARAMS))
def test_sums_to_one_and_its_mean_is_the_expected_purchases(model) -> None:
    params = PARAMS[model]
    x, t_x, age = (np.array(column, dtype=float) for column in zip(*HISTORIES, strict=True))
    n = np.arange(400)[:, np.newaxis]
    probabilities = conditional_probability_of_purchases(params, 39.0, n, x, t_x, age, model=model)
    assert probabilities.sum(axis=0) == pytest.approx(np.ones(len(x)), abs=1e-10)
    mean = (n * probabilities).sum(axis=0)
    assert mean == pytest.approx(
        expected_purchases(params, 39.0, x, t_x, age, model=model), rel=1e-8
    )


@pytest.mark.parametrize("model", ["bgnbd", "pareto_nbd"])
def test_without_history_it_is_the_unconditional_count(model) -> None:
    # T = 0: nothing observed yet, so P(X(T, T + t) = n | 0, 0, 0) = P(X(t) = n)
    params = PARAMS[model]
    n = np.arange(6)
    ours = conditional_probability_of_purchases(params, 10.0, n, 0, 0.0, 0.0, model=model)
    unconditional = probability_of_repeat_purchases(params, 10.0, n, model=model)
    assert ours == pytest.approx(unconditional, rel=1e-9)


def test_count_probability_takes_array_parameters() -> None:
    # bgnbd.count_probability with per-row parameters equals the scalar P(X(t) = n) row by row
    params = PARAMS["bgnbd"]
    r = np.array([0.2, 1.5])
    out = bgnbd.count_probability(r, 4.0, 0.8, 2.4, np.array([10.0, 5.0]), np.array([2.0, 0.0]))
    first = bgnbd.probability_of_repeat_purchases(
        params | {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4}, 10.0, 2
    )
    second = bgnbd.probability_of_repeat_purchases(
        params | {"r": 1.5, "alpha": 4.0, "a": 0.8, "b": 2.4}, 5.0, 0
    )
    assert out == pytest.approx([first[0], second[0]], rel=1e-12)
    assert mbgnbd.PARAMETERS == bgnbd.PARAMETERS
