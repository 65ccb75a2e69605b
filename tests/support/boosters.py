"""The rows both booster libraries' lean tests train on: NaN in one column, zeros in another,
small whole-number codes in the third (a categorical column where a model takes it so)."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import HealthCheck, settings

FEW = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
COLUMNS = ["a", "b", "c"]


@functools.cache
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 400
    X = np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.integers(0, 5, n)])
    X[::7, 0] = np.nan
    X[::11, 1] = 0.0
    y = np.nan_to_num(X[:, 0]) * 2 + X[:, 1] + (X[:, 2] == 1) * 2 + rng.normal(size=n) * 0.2
    return X.astype(float), y
