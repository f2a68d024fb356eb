"""numerics.log_hyp2f1 evaluates runs of equal consecutive arguments once: the values must be
those of evaluating every element on its own, whatever the runs look like."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import hyp2f1

from crm_analytics.btyd.numerics import log_hyp2f1


def one_by_one(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.array([log_hyp2f1(*args)[()] for args in zip(a, b, c, z, strict=True)])


def test_runs_of_equal_arguments_give_each_element_its_own_value() -> None:
    rng = np.random.default_rng(7)
    # BG/NBD's arguments for sorted (frequency, age) pairs: runs of 1 to 5 equal rows, a run
    # broken by z alone, a NaN inside a run, and a pair that comes back after another
    frequency = np.repeat([0, 0, 1, 2, 2, 7, 40, 0], [3, 1, 5, 2, 4, 1, 2, 3]).astype(float)
    age = np.repeat([10.0, 12.0, 3.0, 3.0, 8.0, 50.0, 60.0, 10.0], [3, 1, 5, 2, 4, 1, 2, 3])
    age[9] = np.nan
    r, alpha, a, b = 0.24, 4.4, 0.79, 2.4
    horizon = 4.0
    args = (r + frequency, b + frequency, a + b + frequency - 1, horizon / (alpha + age + horizon))
    runs = log_hyp2f1(*args)
    assert runs.shape == frequency.shape
    np.testing.assert_array_equal(runs, one_by_one(*args))
    assert np.isnan(runs[9]) and np.isfinite(np.delete(runs, 9)).all()
    # the plain definition, where it does not overflow
    np.testing.assert_allclose(runs[:9], np.log(hyp2f1(*(arg[:9] for arg in args))), rtol=1e-14)

    shuffled = rng.permutation(frequency.size)
    np.testing.assert_array_equal(log_hyp2f1(*(arg[shuffled] for arg in args)), runs[shuffled])


def test_runs_through_euler_s_transformation_and_broadcast_scalars() -> None:
    # 2F1 overflows here, so the values come from Euler's transformation, run or not
    a = np.array([400.0, 400.0, 400.0, 30.0, 30.0])
    b = np.array([400.0, 400.0, 400.0, 30.0, 30.0])
    c = np.array([10.0, 10.0, 10.0, 20.0, 20.0])
    z = 0.9
    runs = log_hyp2f1(a, b, c, z)
    np.testing.assert_array_equal(runs, one_by_one(a, b, c, np.full(a.size, z)))
    assert np.isfinite(runs).all()
    assert runs[0] == pytest.approx(
        np.log(hyp2f1(c[0] - a[0], c[0] - b[0], c[0], z)) + (c[0] - a[0] - b[0]) * np.log1p(-z)
    )
    # scalars stay scalars (0-d), and a single element is not a run
    assert np.ndim(log_hyp2f1(1.0, 2.0, 3.0, 0.5)) == 0
    assert log_hyp2f1(np.array([1.0]), 2.0, 3.0, 0.5).shape == (1,)
