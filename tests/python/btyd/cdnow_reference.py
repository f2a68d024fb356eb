"""Data and independent references for the tests of crm_analytics.btyd.

The CDNOW sample ships inside lifetimes: ``cdnow_customers_summary.csv`` (2,357 customers,
weeks, calibration period up to 1997-09-30) and ``CDNOW_sample.txt`` (the transactions). The
references here do not use the package under test: formulas written out from the papers,
numerical integration and differentiation, simulation of the models' stories, and lifetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lifetimes
import lifetimes.datasets
import numpy as np
import pandas as pd
from scipy.integrate import quad
from scipy.special import betaln, gammaln

CALIBRATION_END = pd.Timestamp("1997-09-30")
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO_NBD_CDNOW = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # published
CDNOW_PARAMS = {
    "bgnbd": PUBLISHED_BGNBD,
    "pareto_nbd": PARETO_NBD_CDNOW,
    "mbgnbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
}
LIFETIMES_FITTERS = {
    "bgnbd": lifetimes.BetaGeoFitter,
    "pareto_nbd": lifetimes.ParetoNBDFitter,
    "mbgnbd": lifetimes.ModifiedBetaGeoFitter,
}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def load_cdnow() -> pd.DataFrame:
    """One row per CDNOW customer: frequency, recency, T (weeks)."""
    return lifetimes.datasets.load_cdnow_summary(index_col=[0])


def distinct_rows(cdnow: pd.DataFrame) -> pd.DataFrame:
    """The distinct (frequency, recency, T) rows of CDNOW with their customer counts."""
    return cdnow.groupby(["frequency", "recency", "T"], as_index=False).agg(
        customers=("frequency", "size")
    )


def repeat_spend(cdnow: pd.DataFrame) -> pd.DataFrame:
    """The 946 CDNOW repeat buyers with the exact mean value of their repeat purchase days.

    Built from the transactions (same-day purchases merged, calibration period only), as in
    Hardie's note 025. The ``zbar`` column of ``cdnow_customers_summary_with_transactions.csv``
    is the same mean rounded to cents, which moves v to 15.45 (published: 15.44).
    """
    path = Path(lifetimes.datasets.__file__).parent / "CDNOW_sample.txt"
    columns = ["master_id", "customer_id", "date", "cds", "value"]
    lines = pd.read_csv(path, sep=r"\s+", header=None, names=columns, dtype={"date": str})
    lines["date"] = pd.to_datetime(lines["date"], format="%Y%m%d")
    lines = lines[lines["date"] <= CALIBRATION_END]
    days = lines.groupby(["customer_id", "date"], as_index=False)["value"].sum()
    first_day = days.groupby("customer_id")["date"].transform("min")
    repeat = days[days["date"] > first_day].groupby("customer_id")["value"]
    spend = pd.DataFrame({"frequency": repeat.size(), "monetary_value": repeat.mean()})
    # the transactions agree with the summary file's frequencies
    assert (spend["frequency"] == cdnow["frequency"].reindex(spend.index)).all()
    return spend


def with_monetary_value(cdnow: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    """Every CDNOW customer with frequency, recency, T and monetary value (0 if one-time)."""
    monetary = spend["monetary_value"].reindex(cdnow.index).fillna(0.0)
    return cdnow.assign(monetary_value=monetary)


def columns_of(frame: pd.DataFrame, *names: str) -> list[pd.Series]:
    return [frame[name] for name in names]


# --------------------------------------------------------------------------------------------
# Comparisons and numerical derivatives
# --------------------------------------------------------------------------------------------


def max_relative_difference(actual: object, expected: object) -> float:
    """Largest |actual - expected| / |expected| (expected values here are never 0)."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    return float(np.max(np.abs(actual - expected) / np.abs(expected)))


def numerical_standard_errors(
    objective: Callable[[np.ndarray], float], estimate: np.ndarray, step: float = 1e-4
) -> np.ndarray:
    """sqrt(diag(inverse Hessian)) of ``objective`` by central differences at ``estimate``."""
    n = estimate.size
    h = step * estimate
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            shift_i = np.eye(n)[i] * h[i]
            shift_j = np.eye(n)[j] * h[j]
            hessian[i, j] = (
                objective(estimate + shift_i + shift_j)
                - objective(estimate + shift_i - shift_j)
                - objective(estimate - shift_i + shift_j)
                + objective(estimate - shift_i - shift_j)
            ) / (4 * h[i] * h[j])
    return np.sqrt(np.diag(np.linalg.inv(hessian)))


def newton_step(objective: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """The Newton step -H^-1 g of ``objective`` at ``theta`` by central differences."""
    n = theta.size
    g, h = 1e-5, 1e-4
    eye = np.eye(n)
    gradient = np.array(
        [
            (objective(theta + g * eye[i]) - objective(theta - g * eye[i])) / (2 * g)
            for i in range(n)
        ]
    )
    hessian = np.array(
        [
            [
                (
                    objective(theta + h * (eye[i] + eye[j]))
                    - objective(theta + h * (eye[i] - eye[j]))
                    - objective(theta - h * (eye[i] - eye[j]))
                    + objective(theta - h * (eye[i] + eye[j]))
                )
                / (4 * h * h)
                for j in range(n)
            ]
            for i in range(n)
        ]
    )
    return -np.linalg.solve(hessian, gradient)


# --------------------------------------------------------------------------------------------
# The models written out from the papers
# --------------------------------------------------------------------------------------------


def paper_bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-row BG/NBD log-likelihood in the form of Fader, Hardie and Lee (2005), eq. 6."""
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) + head - (r + x) * np.log(alpha + age)
    with np.errstate(invalid="ignore"):
        dead = betaln(a + 1, b + x - 1) - betaln(a, b) + head - (r + x) * np.log(alpha + t_x)
    return np.log(np.exp(alive) + np.where(x > 0, np.exp(dead), 0.0))


def paper_gamma_gamma_log_likelihood(
    p: float, q: float, v: float, x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Per-row log density of the mean spend m of x purchases (Hardie, note 025), with z = x*m."""
    z = x * m
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(z)
        - (p * x + q) * np.log(v + z)
        + np.log(x)  # the Jacobian from the total z to the mean m
    )


def paper_mbgnbd_log_likelihood(
    params: dict[str, float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-row MBG/NBD log-likelihood in the form of Batislam et al. (2007)."""
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x + 1) - (r + x) * np.log(alpha + age)
    dead = betaln(a + 1, b + x) - (r + x) * np.log(alpha + t_x)
    return head + np.logaddexp(alive, dead)


def quad_pareto_nbd_log_likelihood(
    params: dict[str, float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-row Pareto/NBD log-likelihood by numerical integration over the death time.

    The purchase rate integrates out in closed form; the lifetime is Pareto II (exponential
    with a Gamma(s, beta) rate): alive at T, or dead at some tau in (t_x, T].
    """
    r, alpha, s, beta = (params[name] for name in ("r", "alpha", "s", "beta"))
    head = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r
    values = []
    for xi, ti, ai, hi in zip(x, t_x, age, head, strict=True):
        alive = (alpha + ai) ** -(r + xi) * (beta / (beta + ai)) ** s
        dead = quad(
            lambda tau, xi=xi: (
                (alpha + tau) ** -(r + xi) * s / beta * (beta / (beta + tau)) ** (s + 1)
            ),
            ti,
            ai,
            epsabs=0,
            epsrel=1e-12,
        )[0]
        values.append(np.log(hi * (alive + dead)))
    return np.array(values)


def quad_pareto_nbd_pmf(params: dict[str, float], t: float, n: int) -> float:
    """P(X(t) = n) under Pareto/NBD by integrating the NBD count over the death time."""
    r, alpha, s, beta = (params[name] for name in ("r", "alpha", "s", "beta"))

    def nbd(u: float) -> float:
        return float(
            np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1))
            * (alpha / (alpha + u)) ** r
            * (u / (alpha + u)) ** n
        )

    alive = nbd(t) * (beta / (beta + t)) ** s
    dead = quad(lambda u: nbd(u) * s / beta * (beta / (beta + u)) ** (s + 1), 0, t, epsabs=1e-15)
    return alive + dead[0]


def reference_pmf(model: str, params: dict[str, float], t: float, n: int) -> float:
    """P(X(t) = n) from lifetimes (BG/NBD, MBG/NBD) or numerical integration (Pareto/NBD)."""
    if model == "pareto_nbd":
        return quad_pareto_nbd_pmf(params, t, n)
    fitter = LIFETIMES_FITTERS[model]()
    fitter.params_ = pd.Series(params)
    return float(fitter.probability_of_n_purchases_up_to_time(t, n))


def simulate_repeat_purchases(
    model: str, params: dict[str, float], age: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """X(T) for customers of ages ``age`` drawn from the model's story (not from lifetimes)."""
    rate = rng.gamma(params["r"], 1 / params["alpha"], age.size)
    if model == "pareto_nbd":
        lifetime = rng.exponential(1 / rng.gamma(params["s"], 1 / params["beta"], age.size))
        return rng.poisson(rate * np.minimum(lifetime, age))
    dropout = rng.beta(params["a"], params["b"], age.size)
    # purchases made before dropping out: BG/NBD can drop out after each repeat purchase
    # (1, 2, ...), MBG/NBD also right after the first purchase (0, 1, ...)
    possible = rng.geometric(dropout) - (model == "mbgnbd")
    return np.minimum(rng.poisson(rate * age), possible)


def lifetimes_model(model: str, params: dict[str, float]) -> object:
    """A lifetimes fitter of ``model`` with the given parameters, as if fitted."""
    fitter = LIFETIMES_FITTERS[model]()
    fitter.params_ = pd.Series(params)
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time  # set by fit()
    return fitter
