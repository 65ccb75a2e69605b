"""The one rule for "does it match scikit-learn?" (``sklambda.lean.equivalence.compare``)."""

from __future__ import annotations

import math

import pytest

from sklambda.lean.equivalence import compare


def test_labels_must_be_identical_in_value_and_type() -> None:
    assert compare("classification", ["a", 1, True], ["a", 1, True]).ok
    for got in (["a", 1.0, True], ["a", 1, 1], ["b", 1, True]):
        found = compare("classification", got, ["a", 1, True])
        assert not found.ok and found.label_mismatches == 1
        assert "scikit-learn says" in found.problem


def test_probabilities_are_compared_absolutely() -> None:
    expected = [[0.25, 0.75]]
    assert compare("classification", [1], [1], [[0.25 + 5e-10, 0.75]], expected).ok
    found = compare("classification", [1], [1], [[0.25 + 2e-9, 0.75]], expected)
    assert not found.ok and found.max_abs_error == pytest.approx(2e-9)
    assert not compare("classification", [1], [1], None, expected).ok
    assert not compare("classification", [1], [1], [[math.nan, 0.75]], expected).ok


def test_numbers_are_held_to_the_batch_scale() -> None:
    # 1e-9 of the batch's largest value: a value near zero may be off by that much ...
    assert compare("regression", [1e-3 + 5e-8, 100.0], [1e-3, 100.0]).ok
    found = compare("regression", [1e-3 + 2e-7, 100.0], [1e-3, 100.0])
    assert not found.ok and "row 0" in found.problem
    assert found.max_rel_error == pytest.approx(2e-9)
    # ... and the rule does not change with the unit: the same errors scaled down still fail
    # (no absolute floor of 1 that would let small outputs through).
    assert not compare("regression", [1e-12 + 2e-16, 1e-7], [1e-12, 1e-7]).ok
    assert compare("regression", [1e-12 + 5e-17, 1e-7], [1e-12, 1e-7]).ok


def test_missing_values_and_shapes() -> None:
    assert compare("regression", [math.nan, 1.0], [math.nan, 1.0]).ok
    assert not compare("regression", [math.nan, 1.0], [0.5, 1.0]).ok
    assert not compare("regression", [1.0], [1.0, 2.0]).ok
    assert not compare("regression", [[1.0, 2.0]], [1.0]).ok
    assert not compare("regression", ["x"], [1.0]).ok
