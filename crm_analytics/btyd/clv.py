"""Customer lifetime value: a transaction model's expected purchases times Gamma-Gamma's
expected spend, discounted month by month (the definition of ``lifetimes``)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from crm_analytics.btyd import gamma_gamma
from crm_analytics.btyd.names import BGNBD
from crm_analytics.btyd.numerics import FloatArray, broadcast
from crm_analytics.btyd.registry import transaction_model


def discounted_expected_purchases(
    transaction_params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    months: int = 3,
    monthly_discount_rate: float = 0.01,
    units_per_month: float = 4.345,
    model: str = BGNBD,
) -> FloatArray:
    """Expected purchases over the next ``months`` months, each month's discounted.

    Purchases (a count, not currency). For each month ``k = 1..months`` the expected purchases
    between ``(k-1)`` and ``k`` months after ``T`` (months of ``units_per_month`` model time
    units; 4.345 for weeks) divided by ``(1 + monthly_discount_rate) ** k``, summed. Times a
    customer's expected spend per purchase this is ``lifetimes``' CLV
    (`customer_lifetime_value`): the CLV factors into this, which depends on the transaction
    profile only, and Gamma-Gamma's spend, which has a closed form - so the project scores
    distinct (frequency, recency, T) profiles in Python and multiplies in SQL.
    """
    if int(months) != months or months < 0:
        raise ValueError(f"months must be an integer >= 0, got {months!r}")
    if not (math.isfinite(units_per_month) and units_per_month > 0):
        raise ValueError(f"units_per_month must be finite and > 0, got {units_per_month!r}")
    if not (math.isfinite(monthly_discount_rate) and monthly_discount_rate > -1):
        raise ValueError(f"monthly_discount_rate must be > -1, got {monthly_discount_rate!r}")
    expected_purchases = transaction_model(model).expected_purchases
    x, t_x, age = broadcast(frequency, recency, T)
    total = np.zeros_like(x)
    previous = expected_purchases(transaction_params, 0.0, x, t_x, age)
    for month in range(1, int(months) + 1):
        cumulative = expected_purchases(transaction_params, month * units_per_month, x, t_x, age)
        total = total + (cumulative - previous) / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return total


def customer_lifetime_value(
    transaction_params: Mapping[str, float],
    gg_params: Mapping[str, float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803 (the literature's name)
    monetary_value: ArrayLike,
    months: int = 3,
    monthly_discount_rate: float = 0.01,
    units_per_month: float = 4.345,
    model: str = BGNBD,
) -> FloatArray:
    """Discounted expected value of a customer's purchases over the next ``months`` months.

    Currency units. ``transaction_params`` are the parameters of the transaction model
    ``model`` (BG/NBD by default), ``gg_params`` those of Gamma-Gamma. ``lifetimes``'
    definition: for each month ``k = 1..months`` the expected purchases between ``(k-1)`` and
    ``k`` months after ``T`` (months of ``units_per_month`` model time units; 4.345 for weeks)
    times `gamma_gamma.expected_average_profit`, divided by
    ``(1 + monthly_discount_rate) ** k``, summed; computed as that spend times
    `discounted_expected_purchases` (equal up to rounding in the last bits). With weeks as the
    unit this equals ``GammaGammaFitter.customer_lifetime_value(..., time=months,
    discount_rate=..., freq='W')``. Revenue, not profit: apply a margin downstream if wanted.
    """
    x, t_x, age, m = broadcast(frequency, recency, T, monetary_value)
    profit = gamma_gamma.expected_average_profit(gg_params, x, m)
    discounted = discounted_expected_purchases(
        transaction_params, x, t_x, age, months, monthly_discount_rate, units_per_month, model
    )
    return profit * discounted
