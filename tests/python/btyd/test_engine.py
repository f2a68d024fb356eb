"""Tests of crm_analytics.btyd.engine through the models' fitters: input checks before any
attempt, degenerate data, and the fallback penalizers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from crm_analytics.btyd import (
    DEFAULT_TRANSACTION_FALLBACKS,
    TRANSACTION_FALLBACK_FACTORS,
    ModelFitError,
    bgnbd,
    fallback_penalizers,
    gamma_gamma,
)


def test_only_one_time_buyers_cannot_be_fitted() -> None:
    with pytest.raises(ModelFitError, match="no repeat purchases") as raised:
        bgnbd.fit([0, 0, 0], [0, 0, 0], [5.0, 6.0, 7.0], dataset="shop")
    assert "BG/NBD" in str(raised.value) and "'shop'" in str(raised.value)
    assert (raised.value.dataset, raised.value.model) == ("shop", "bgnbd")
    with pytest.raises(ModelFitError, match=r"Gamma-Gamma.*no repeat buyers"):
        gamma_gamma.fit([0, 0], [0.0, 0.0])


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: bgnbd.fit([], [], []), "no rows"),
        (lambda: gamma_gamma.fit([], []), "no rows"),
        (lambda: bgnbd.fit([1, 2], [3.0, 9.0], [5.0, 6.0]), "1 row.*recency greater than T"),
        (lambda: bgnbd.fit([1.5, 2], [3.0, 4.0], [5.0, 6.0]), "non-integer frequency"),
        (lambda: bgnbd.fit([0, 2], [1.0, 4.0], [5.0, 6.0]), "recency with frequency 0"),
        (lambda: bgnbd.fit([1, 2], [1.0, 4.0], [5.0, 6.0], [1, 0]), "non-positive weights"),
        (lambda: gamma_gamma.fit([1, 2], [3.0, -1.0]), "non-positive monetary_value"),
    ],
)
def test_invalid_inputs_are_refused_before_fitting(call: Callable[[], object], reason: str) -> None:
    with pytest.raises(ModelFitError, match=reason):
        call()


def test_one_customer() -> None:
    fit = bgnbd.fit([2], [10.0], [20.0])  # the default penalizer makes the optimum finite
    assert (fit.n_rows, fit.n_customers, fit.attempts) == (1, 1.0, 1)
    assert all(np.isfinite(list(fit.params.values())))
    # without a penalty the likelihood of one customer has no finite maximum
    with pytest.raises(ModelFitError, match="penalizer 0: the optimiser did not converge"):
        bgnbd.fit([2], [10.0], [20.0], penalizer=0.0, fallback_penalizers=())
    rescued = bgnbd.fit([2], [10.0], [20.0], penalizer=0.0)
    assert (rescued.attempts, rescued.penalizer) == (2, 0.01)
    assert rescued.message.startswith("retried with penalizer 0.01 after: penalizer 0: ")
    # one repeat buyer has no unpenalised maximum; the first small fallback penalty fits it
    spend = gamma_gamma.fit([2], [10.0])
    assert (spend.n_rows, spend.attempts, spend.penalizer, spend.params["q"] > 1) == (
        1,
        2,
        0.0001,
        True,
    )


def test_the_fallback_penalizers_of_the_table_functions() -> None:
    assert fallback_penalizers(0.002, TRANSACTION_FALLBACK_FACTORS, (9.0,)) == (
        0.0,
        0.02,
        0.2,
        2.0,
    )
    assert fallback_penalizers(0.01, gamma_gamma.FALLBACK_FACTORS, (9.0,)) == (0.0, 0.1, 1.0)
    assert fallback_penalizers(0.0, TRANSACTION_FALLBACK_FACTORS, (9.0,)) == (9.0,)
    assert DEFAULT_TRANSACTION_FALLBACKS == (0.01, 0.1, 1.0)
    assert gamma_gamma.DEFAULT_FALLBACKS == (0.0001, 0.001)


def test_a_negative_or_infinite_penalizer_is_refused() -> None:
    with pytest.raises(ValueError, match="penalizers must be finite and >= 0"):
        bgnbd.fit([1, 0], [2.0, 0.0], [3.0, 3.0], penalizer=-0.1)
    with pytest.raises(ValueError, match="penalizers must be finite and >= 0"):
        gamma_gamma.fit([1, 2], [3.0, 4.0], fallback_penalizers=(np.inf,))
