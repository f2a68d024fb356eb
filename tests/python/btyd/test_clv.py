"""Tests of crm_analytics.btyd.clv: BG/NBD, Gamma-Gamma and the discounted CLV against
lifetimes' own methods on CDNOW."""

from __future__ import annotations

import lifetimes
import pytest
from cdnow_reference import load_cdnow, max_relative_difference, repeat_spend, with_monetary_value

from crm_analytics.btyd import bgnbd, customer_lifetime_value, gamma_gamma


def test_predictions_equal_lifetimes() -> None:
    cdnow = load_cdnow()
    cdnow_profiles = with_monetary_value(cdnow, repeat_spend(cdnow))
    frequency, recency, age = (cdnow_profiles[name] for name in ("frequency", "recency", "T"))
    monetary = cdnow_profiles["monetary_value"]
    bgnbd_reference = lifetimes.BetaGeoFitter(0.001).fit(frequency, recency, age)
    repeat = frequency > 0
    gamma_gamma_reference = lifetimes.GammaGammaFitter(0.0).fit(frequency[repeat], monetary[repeat])
    bgnbd_params = bgnbd_reference.params_.to_dict()
    gg_params = gamma_gamma_reference.params_.to_dict()
    differences = {}
    differences["probability_alive"] = max_relative_difference(
        bgnbd.probability_alive(bgnbd_params, frequency, recency, age),
        bgnbd_reference.conditional_probability_alive(frequency, recency, age),
    )
    for horizon in (1.0, 4.0, 12.0, 52.0):
        differences[f"expected_purchases({horizon})"] = max_relative_difference(
            bgnbd.expected_purchases(bgnbd_params, horizon, frequency, recency, age),
            bgnbd_reference.conditional_expected_number_of_purchases_up_to_time(
                horizon, frequency, recency, age
            ),
        )
    differences["expected_average_profit"] = max_relative_difference(
        gamma_gamma.expected_average_profit(gg_params, frequency, monetary),
        gamma_gamma_reference.conditional_expected_average_profit(frequency, monetary),
    )
    for months, rate in ((3, 0.01), (12, 0.05)):
        differences[f"clv({months}, {rate})"] = max_relative_difference(
            customer_lifetime_value(
                bgnbd_params,
                gg_params,
                frequency,
                recency,
                age,
                monetary,
                months=months,
                monthly_discount_rate=rate,
            ),
            gamma_gamma_reference.customer_lifetime_value(
                bgnbd_reference,
                frequency,
                recency,
                age,
                monetary,
                time=months,
                discount_rate=rate,
                freq="W",
            ),
        )
    assert max(differences.values()) < 1e-9, differences


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"months": 1.5}, "months must be an integer"),
        ({"units_per_month": 0.0}, "units_per_month must be finite"),
        ({"monthly_discount_rate": -1.0}, "monthly_discount_rate must be > -1"),
        ({"model": "nbd"}, "unknown transaction model 'nbd'"),
    ],
)
def test_the_clv_refuses_invalid_settings(keywords: dict[str, object], message: str) -> None:
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    gg = {"p": 6.25, "q": 3.74, "v": 15.44}
    with pytest.raises(ValueError, match=message):
        customer_lifetime_value(params, gg, [1], [2.0], [3.0], [10.0], **keywords)  # type: ignore[arg-type]
