"""Tests of crm_analytics.btyd.mbgnbd: the likelihood against the paper's form and lifetimes,
weights, and a degenerate estimate."""

from __future__ import annotations

import lifetimes
import numpy as np
import pandas as pd
import pytest
from cdnow_reference import (
    columns_of,
    distinct_rows,
    load_cdnow,
    max_relative_difference,
    paper_mbgnbd_log_likelihood,
)

from crm_analytics.btyd import mbgnbd


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_distinct(cdnow: pd.DataFrame) -> pd.DataFrame:
    return distinct_rows(cdnow)


def test_the_unpenalised_fit_maximises_the_papers_likelihood(cdnow_distinct: pd.DataFrame) -> None:
    x, t_x, age, weights = (
        cdnow_distinct[name].to_numpy(dtype=float)
        for name in ("frequency", "recency", "T", "customers")
    )
    mbg = mbgnbd.fit(x, t_x, age, weights, penalizer=0.0)
    paper = float(np.sum(weights * paper_mbgnbd_log_likelihood(mbg.params, x, t_x, age)))
    assert mbg.log_likelihood == pytest.approx(paper, rel=1e-12)
    reference = lifetimes.ModifiedBetaGeoFitter(0.0).fit(
        cdnow_distinct["frequency"],
        cdnow_distinct["recency"],
        cdnow_distinct["T"],
        weights=cdnow_distinct["customers"],
    )
    assert max_relative_difference(list(mbg.params.values()), reference.params_) < 1e-6
    assert round(mbg.log_likelihood, 1) == -9582.1


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_weighted_mbgnbd_fit_equals_lifetimes_on_one_row_per_customer(
    cdnow: pd.DataFrame, cdnow_distinct: pd.DataFrame, penalizer: float
) -> None:
    weighted = mbgnbd.fit(
        *columns_of(cdnow_distinct, "frequency", "recency", "T", "customers"),
        penalizer=penalizer,
    )
    per_customer = mbgnbd.fit(*columns_of(cdnow, "frequency", "recency", "T"), penalizer=penalizer)
    reference = lifetimes.ModifiedBetaGeoFitter(penalizer).fit(
        cdnow["frequency"], cdnow["recency"], cdnow["T"]
    )
    for fit in (weighted, per_customer):
        assert (fit.model, fit.penalizer, fit.attempts) == ("mbgnbd", penalizer, 1)
        assert max_relative_difference(list(fit.params.values()), reference.params_) < 1e-6
        errors = list(fit.standard_errors.values())
        assert max_relative_difference(errors, reference.standard_errors_) < 1e-6
    assert weighted.log_likelihood == pytest.approx(per_customer.log_likelihood, rel=1e-9)


def test_an_mbgnbd_estimate_at_the_boundary_fails_an_attempt(
    monkeypatch: pytest.MonkeyPatch, cdnow_distinct: pd.DataFrame
) -> None:
    class CollapseFirst(lifetimes.ModifiedBetaGeoFitter):
        calls = 0

        def fit(self, *args: object, **kwargs: object) -> CollapseFirst:
            super().fit(*args, **kwargs)
            type(self).calls += 1
            if type(self).calls == 1:
                self.params_["b"] = 1e9
            return self

    monkeypatch.setattr(mbgnbd, "ModifiedBetaGeoFitter", CollapseFirst)
    columns = columns_of(cdnow_distinct, "frequency", "recency", "T", "customers")
    fit = mbgnbd.fit(*columns, penalizer=0.001, fallback_penalizers=(0,))
    assert (fit.attempts, fit.penalizer) == (2, 0.0)
    assert fit.message == (
        "retried with penalizer 0 after: penalizer 0.001: degenerate estimate at the boundary: "
        "b=1e+09"
    )
