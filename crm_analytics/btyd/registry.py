"""The transaction models by name: one `TransactionModel` entry per model, and the functions
that take a model name (``model='bgnbd'``, ...) and call that model's module.

Adding a transaction model means writing its module (the functions listed in
`TransactionModel`) and one entry here; nothing else branches on model names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from numpy.typing import ArrayLike

from crm_analytics.btyd import bgnbd, gamma_gamma, mbgnbd, pareto_nbd
from crm_analytics.btyd.engine import DEFAULT_TRANSACTION_FALLBACKS, FitResult
from crm_analytics.btyd.names import (
    BGNBD,
    GAMMA_GAMMA,
    MBGNBD,
    MODEL_LABELS,
    PARETO_NBD,
    TRANSACTION_MODELS,
)
from crm_analytics.btyd.numerics import FloatArray


@dataclass(frozen=True)
class TransactionModel:
    """A purchase-count model: its name and label, its parameter names (in the order tables
    list them) and its functions (see `crm_analytics.btyd.bgnbd` for their contracts; times in
    the model time unit)."""

    name: str
    label: str
    parameters: tuple[str, ...]
    # (params, frequency, recency, T, weights=None) -> total log-likelihood
    log_likelihood: Callable[..., float]
    # (params, frequency, recency, T) -> P(alive at T)
    probability_alive: Callable[..., FloatArray]
    # (params, horizon, frequency, recency, T) -> E[purchases in (T, T + horizon]]
    expected_purchases: Callable[..., FloatArray]
    # (params, t) -> E[X(t)] of a newly acquired customer
    expected_purchases_since_acquisition: Callable[..., FloatArray]
    # (params, T, n) -> P(X(T) = n)
    probability_of_repeat_purchases: Callable[..., FloatArray]
    # (params, horizon, n, frequency, recency, T) -> P(n purchases in (T, T + horizon] | history)
    conditional_probability_of_purchases: Callable[..., FloatArray]
    # (frequency, recency, T, weights, penalizer, fallback_penalizers, *, dataset) -> FitResult
    fit: Callable[..., FitResult]


TRANSACTION_MODEL_REGISTRY: Mapping[str, TransactionModel] = MappingProxyType(
    {
        BGNBD: TransactionModel(
            name=BGNBD,
            label=MODEL_LABELS[BGNBD],
            parameters=bgnbd.PARAMETERS,
            log_likelihood=bgnbd.log_likelihood,
            probability_alive=bgnbd.probability_alive,
            expected_purchases=bgnbd.expected_purchases,
            expected_purchases_since_acquisition=bgnbd.expected_purchases_since_acquisition,
            probability_of_repeat_purchases=bgnbd.probability_of_repeat_purchases,
            conditional_probability_of_purchases=bgnbd.conditional_probability_of_purchases,
            fit=bgnbd.fit,
        ),
        PARETO_NBD: TransactionModel(
            name=PARETO_NBD,
            label=MODEL_LABELS[PARETO_NBD],
            parameters=pareto_nbd.PARAMETERS,
            log_likelihood=pareto_nbd.log_likelihood,
            probability_alive=pareto_nbd.probability_alive,
            expected_purchases=pareto_nbd.expected_purchases,
            expected_purchases_since_acquisition=pareto_nbd.expected_purchases_since_acquisition,
            probability_of_repeat_purchases=pareto_nbd.probability_of_repeat_purchases,
            conditional_probability_of_purchases=pareto_nbd.conditional_probability_of_purchases,
            fit=pareto_nbd.fit,
        ),
        MBGNBD: TransactionModel(
            name=MBGNBD,
            label=MODEL_LABELS[MBGNBD],
            parameters=mbgnbd.PARAMETERS,
            log_likelihood=mbgnbd.log_likelihood,
            probability_alive=mbgnbd.probability_alive,
            expected_purchases=mbgnbd.expected_purchases,
            expected_purchases_since_acquisition=mbgnbd.expected_purchases_since_acquisition,
            probability_of_repeat_purchases=mbgnbd.probability_of_repeat_purchases,
            conditional_probability_of_purchases=mbgnbd.conditional_probability_of_purchases,
            fit=mbgnbd.fit,
        ),
    }
)

# The parameter names of every model (transaction models and Gamma-Gamma), in table order.
MODEL_PARAMETERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        **{name: model.parameters for name, model in TRANSACTION_MODEL_REGISTRY.items()},
        GAMMA_GAMMA: gamma_gamma.PARAMETERS,
    }
)


def transaction_model(name: str) -> TransactionModel:
    """The registry entry of a transaction model, or a ValueError naming the known ones."""
    if name not in TRANSACTION_MODEL_REGISTRY:
        raise ValueError(f"unknown transaction model {name!r}; use one of {TRANSACTION_MODELS}")
    return TRANSACTION_MODEL_REGISTRY[name]


def fit_transaction_model(
    model: str,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
    penalizer: float = 0.001,
    fallback_penalizers: Sequence[float] = DEFAULT_TRANSACTION_FALLBACKS,
    *,
    dataset: str | None = None,
) -> FitResult:
    """Fit the transaction model named ``model`` by maximum likelihood (its module's ``fit``:
    see `crm_analytics.btyd.bgnbd.fit` for the inputs, the fallback rule and the errors).

    Raises:
        ValueError: an unknown model or an invalid penalizer.
        ModelFitError: invalid or degenerate input, or every attempt failed.
    """
    return transaction_model(model).fit(
        frequency, recency, T, weights, penalizer, fallback_penalizers, dataset=dataset
    )


def transaction_log_likelihood(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    weights: ArrayLike | None = None,
    model: str = BGNBD,
) -> float:
    """Total log-likelihood of the transaction model ``model``, weighted by customers, times in
    the model unit."""
    return transaction_model(model).log_likelihood(params, frequency, recency, T, weights)


def probability_alive(
    params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    model: str = BGNBD,
) -> FloatArray:
    """P(customer still alive at T | frequency, recency, T) under the transaction model
    ``model`` (equals ``conditional_probability_alive`` of its lifetimes fitter)."""
    return transaction_model(model).probability_alive(params, frequency, recency, T)


def expected_purchases(
    params: Mapping[str, float],
    horizon: float | ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    model: str = BGNBD,
) -> FloatArray:
    """Expected repeat purchases in ``(T, T + horizon]`` given the history, under the
    transaction model ``model``; times in the model unit (equals
    ``conditional_expected_number_of_purchases_up_to_time`` of its lifetimes fitter)."""
    return transaction_model(model).expected_purchases(params, horizon, frequency, recency, T)


def expected_purchases_since_acquisition(
    params: Mapping[str, float], t: ArrayLike, model: str = BGNBD
) -> FloatArray:
    """Unconditional E[X(t)] of a customer ``t`` model time units after the first purchase,
    under the transaction model ``model`` (equals ``expected_number_of_purchases_up_to_time``
    of its lifetimes fitter)."""
    return transaction_model(model).expected_purchases_since_acquisition(params, t)


def probability_of_repeat_purchases(
    params: Mapping[str, float],
    T: ArrayLike,  # noqa: N803 (the literature's name)
    n: ArrayLike,
    model: str = BGNBD,
) -> FloatArray:
    """P(X(T) = n): exactly ``n`` repeat purchases in the ``T`` model time units after the
    first purchase, under the transaction model ``model``."""
    return transaction_model(model).probability_of_repeat_purchases(params, T, n)


def conditional_probability_of_purchases(
    params: Mapping[str, float],
    horizon: float | ArrayLike,
    n: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    model: str = BGNBD,
) -> FloatArray:
    """P(exactly ``n`` purchases in ``(T, T + horizon]`` | frequency, recency, T) under the
    transaction model ``model``, times in the model unit: the distribution whose mean is
    `expected_purchases`, and whose log at the observed count scores a holdout forecast."""
    return transaction_model(model).conditional_probability_of_purchases(
        params, horizon, n, frequency, recency, T
    )
