"""Coverage of the intervals on data simulated with known parameters (the light version of
scripts/check_interval_coverage.py): the parameters' 95% intervals hold the true values about
95% of the time, the customers' 90% intervals of expected purchases hold their true expected
purchases about 90% of the time. The tolerances fail intervals 10 times too narrow (coverage
about 0.2) or much too wide (coverage 1)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from crm_analytics.btyd import FitResult
from crm_analytics.btyd.coverage import replicate
from crm_analytics.btyd.engine import log_scale_interval
from crm_analytics.btyd.tables import identification

REPLICATIONS = 24
CUSTOMERS = 500


@pytest.fixture(scope="module")
def replications():
    return [replicate(CUSTOMERS, seed) for seed in range(REPLICATIONS)]


def test_parameter_intervals_cover_the_truth_about_95_percent(replications) -> None:
    outcomes = [covered for rep in replications for covered in rep.covered.values()]
    coverage = float(np.mean(outcomes))
    # 96 intervals: at 0.95, 91.2 expected, sd 2.1; 0.87 is 4 sd below
    assert 0.87 <= coverage <= 1.0, coverage
    # on the log scale every bound stays in the parameter space (a linear interval of a at
    # 500 customers, relative SE ~0.4-0.6, often would not)
    assert all(value > 0 for rep in replications for value in rep.lower_95.values())


def test_customer_intervals_cover_their_true_expected_purchases(replications) -> None:
    coverage = float(np.mean([rep.customer_coverage for rep in replications]))
    assert 0.78 <= coverage <= 0.98, coverage


def test_log_scale_interval() -> None:
    lower, upper = log_scale_interval(0.0044, 0.011)  # BG/NBD a on the 2010-2011 sheet
    assert 0 < lower < 0.0044 < upper
    assert lower * upper == pytest.approx(0.0044**2)  # symmetric on the log scale
    assert upper / 0.0044 == pytest.approx(math.exp(1.96 * 0.011 / 0.0044))
    assert all(math.isnan(bound) for bound in log_scale_interval(1.0, math.nan))


def test_identification_flags_large_relative_errors_and_the_nbd_limit() -> None:
    fit = FitResult(
        model="bgnbd",
        params={"r": 0.8, "alpha": 60.0, "a": 0.0044, "b": 6.56},
        standard_errors={"r": 0.02, "alpha": 2.0, "a": 0.011, "b": 19.4},
        lower_95={},
        upper_95={},
        log_likelihood=-1.0,
        n_customers=10.0,
        n_rows=10,
        converged=True,
        penalizer=0.0,
        attempts=1,
        message="converged",
    )
    weak, note = identification(fit, 1.0)
    assert weak
    assert "a: relative standard error 2.5 > 1" in note
    assert "b: relative standard error 3 > 1" in note
    assert "near the NBD limit" in note
    assert identification(fit, 5.0)[1].count("relative standard error") == 0
    assert identification(fit, 5.0)[0]  # a < 0.01 still flags it
    healthy = dataclasses.replace(
        fit,
        params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        standard_errors={"r": 0.0126, "alpha": 0.378, "a": 0.186, "b": 0.705},
    )
    assert identification(healthy, 1.0) == (False, "")
