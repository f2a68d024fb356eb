"""Coverage of the project's intervals on data simulated with known parameters.

One replication simulates customers with the project's generator (`crm_analytics.synth`:
BG/NBD purchases, Gamma-Gamma order values, times in weeks), fits them with the production
table functions (`tables.fit_models` on weighted distinct rows, `tables.score_profiles` with
its delta-method intervals) and records

* for each parameter, whether the true value lies inside the fit's 95% interval (log scale);
* the share of customers whose *true* expected purchases over the horizon - the conditional
  expectation given their history under the true parameters, the quantity the per-customer
  interval is about - lies inside their interval.

Repeating it gives the coverage figures: about 0.95 for the parameters and about the interval
level for the customers when the intervals are right. `scripts/check_interval_coverage.py`
runs a large version; the tests a small one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_analytics import synth
from crm_analytics.btyd import bgnbd
from crm_analytics.btyd.names import BGNBD
from crm_analytics.btyd.tables import fit_models, score_profiles

TRUE_BGNBD = synth.BgNbdParams(r=0.5, alpha=5.0, a=0.8, b=2.5)
TRUE_GAMMA_GAMMA = synth.GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
START = dt.date(2024, 1, 1)
END = dt.date(2024, 12, 31)
HORIZON_WEEKS = 4.0


@dataclass(frozen=True)
class Replication:
    """One replication's outcome: ``covered`` maps each BG/NBD parameter to whether its 95%
    interval holds the true value; ``lower_95`` the interval's lower bounds;
    ``customer_coverage`` is the share of customers whose true expected purchases over
    ``HORIZON_WEEKS`` lie inside their interval."""

    covered: dict[str, bool]
    lower_95: dict[str, float]
    customer_coverage: float


def simulated_lifetimes(n_customers: int, seed: int) -> pd.DataFrame:
    """One row per simulated customer: frequency, recency, customer_age (weeks, continuous
    times), monetary_value (mean repeat order value, 0 without repeats)."""
    rng = np.random.default_rng(seed)
    customers = synth.simulate_customers(n_customers, TRUE_BGNBD, TRUE_GAMMA_GAMMA, START, END, rng)
    offsets = customers.order_offsets
    first = customers.order_time[offsets[:-1]]
    last = customers.order_time[offsets[1:] - 1]
    counts = np.diff(offsets)
    totals = np.add.reduceat(customers.order_value, offsets[:-1])
    first_values = customers.order_value[offsets[:-1]]
    frequency = counts - 1
    monetary = np.where(frequency > 0, (totals - first_values) / np.maximum(frequency, 1), 0.0)
    return pd.DataFrame(
        {
            "dataset": "simulated",
            "frequency": frequency.astype(float),
            "recency": last - first,
            "customer_age": customers.observation_end - first,
            "monetary_value": monetary,
            "customers": 1,
        }
    )


def replicate(n_customers: int, seed: int, interval_level: float = 0.90) -> Replication:
    """Simulate, fit (penalizer 0: the maximum-likelihood estimate the intervals are about)
    and score one data set; see `Replication`."""
    lifetimes = simulated_lifetimes(n_customers, seed)
    parameters = fit_models(
        lifetimes[["dataset", "frequency", "recency", "customer_age", "customers"]],
        lifetimes.loc[
            lifetimes["frequency"] > 0, ["dataset", "frequency", "monetary_value", "customers"]
        ],
        transaction_model_penalizer=0.0,
        gamma_gamma_penalizer=0.0,
    )
    rows = parameters[parameters["model"] == BGNBD].set_index("parameter")
    truth = {name: getattr(TRUE_BGNBD, name) for name in bgnbd.PARAMETERS}
    covered = {
        name: bool(rows.loc[name, "ci_lower"] <= value <= rows.loc[name, "ci_upper"])
        for name, value in truth.items()
    }
    scored = score_profiles(
        lifetimes[["dataset", "frequency", "recency", "customer_age"]],
        parameters,
        horizons={"expected_purchases_month": HORIZON_WEEKS},
        clv_months=1,
        monthly_discount_rate=0.0,
        units_per_month=HORIZON_WEEKS,
        interval_horizon="expected_purchases_month",
        interval_level=interval_level,
    )
    true_expected = bgnbd.expected_purchases(
        truth,
        HORIZON_WEEKS,
        lifetimes["frequency"],
        lifetimes["recency"],
        lifetimes["customer_age"],
    )
    inside = (scored["expected_purchases_month_lower"] <= true_expected) & (
        true_expected <= scored["expected_purchases_month_upper"]
    )
    return Replication(
        covered=covered,
        lower_95={name: float(rows.loc[name, "ci_lower"]) for name in truth},
        customer_coverage=float(inside.mean()),
    )
