"""Does it match scikit-learn? The one comparison, used wherever a form of a model is proven.

Three callers ask the same question with the same rule: the lean check
(:func:`check_equivalence`: the lean runtime vs scikit-learn, in process), the array-adapted
check (:mod:`sklambda.building.forms`: the array-taking copy vs the original) and the emulator
proof (:mod:`sklambda.building.verify`: the package's answers over a function URL vs
scikit-learn's).

The rule (:func:`compare`):

- labels: identical, value and type (``1`` is not ``1.0`` nor ``True``);
- probabilities: within ``1e-9`` absolute (they live in [0, 1], so absolute is relative to 1);
- regression outputs: within ``1e-9`` relative to the batch's scale, the largest finite
  ``|expected|``: ``|got - expected| <= 1e-9 * max|expected|``. A value near zero in a batch of
  large ones is held to the batch's scale, where the rounding of large cancelling terms lives,
  not to its own magnitude; the rule does not change when every output is multiplied by a
  constant. Two NaNs agree; any other NaN or infinity in a difference fails.

Tree models compare the way their libraries do (float32 thresholds): the runtime reproduces
that, so their outputs are held to the same rule. ``max_rel_error`` is the quantity the rule
bounds (error over the batch's scale; for probabilities, the absolute error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

    import pandas

    from sklambda.lean.compiler import LeanModel

__all__ = [
    "PROBABILITY_ATOL",
    "REGRESSION_RTOL",
    "Comparison",
    "EquivalenceReport",
    "check_equivalence",
    "compare",
]

REGRESSION_RTOL = 1e-9
PROBABILITY_ATOL = 1e-9


@dataclass(frozen=True)
class Comparison:
    """The largest differences found, the labels that differ, and the first problem ("" if none)."""

    max_abs_error: float
    max_rel_error: float
    label_mismatches: int
    problem: str

    @property
    def ok(self) -> bool:
        return not self.problem


def _differences(expected: np.ndarray, got: np.ndarray) -> np.ndarray:
    both_nan = np.isnan(expected) & np.isnan(got)
    with np.errstate(invalid="ignore"):
        diff = np.where(both_nan, 0.0, np.abs(expected - got))
    return np.where(np.isnan(diff), np.inf, diff)


def _first_bad(bad: np.ndarray) -> int:
    if not bad.size:
        return -1
    rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))
    return int(rows[0]) if len(rows) else -1


def _as_floats(values: Any, what: str) -> tuple[np.ndarray | None, str]:
    try:
        return np.asarray(values, dtype=np.float64), ""
    except (TypeError, ValueError):
        return None, f"{what} are not numbers"


def _compare_proba(got: Any, expected: Any, atol: float) -> tuple[float, str]:
    """``(max abs error, problem)`` of class probabilities."""
    if got is None:
        return math.inf, "no probabilities in the answer"
    mine, problem = _as_floats(got, "the probabilities")
    sk = np.asarray(expected, dtype=np.float64)
    if mine is None:
        return math.inf, problem
    if mine.shape != sk.shape:
        return math.inf, f"probabilities of shape {mine.shape}, scikit-learn's {sk.shape}"
    diff = _differences(sk, mine)
    worst = float(diff.max()) if diff.size else 0.0
    first = _first_bad(diff > atol)
    if first >= 0:
        return worst, f"probabilities differ by up to {worst:.3g} (> {atol:g}) at row {first}"
    return worst, ""


def _compare_labels(
    got: list[Any], expected: list[Any], got_proba: Any, expected_proba: Any, atol: float
) -> Comparison:
    mismatches = [
        i
        for i, (a, b) in enumerate(zip(got, expected, strict=True))
        if a != b or type(a) is not type(b)
    ]
    worst, problem = 0.0, ""
    if expected_proba is not None:
        worst, problem = _compare_proba(got_proba, expected_proba, atol)
    if mismatches:
        i = mismatches[0]
        problem = (
            f"{len(mismatches)} of {len(expected)} labels differ; first at row {i}: "
            f"{got[i]!r}, scikit-learn says {expected[i]!r}"
        )
    return Comparison(worst, worst, len(mismatches), problem)


def _compare_numbers(got: Any, expected: Any, rtol: float) -> Comparison:
    sk = np.asarray(expected, dtype=np.float64)
    mine, problem = _as_floats(got, "the predictions")
    if mine is None:
        return Comparison(math.inf, math.inf, 0, problem)
    if mine.shape != sk.shape:
        return Comparison(
            math.inf, math.inf, 0, f"outputs of shape {mine.shape}, scikit-learn's {sk.shape}"
        )
    finite = np.abs(sk[np.isfinite(sk)])
    scale = max(float(finite.max()), np.finfo(np.float64).tiny) if finite.size else 1.0
    diff = _differences(sk, mine)
    rel = diff / scale
    first = _first_bad(rel > rtol)
    max_abs = float(diff.max()) if diff.size else 0.0
    max_rel = float(rel.max()) if rel.size else 0.0
    if first >= 0:
        problem = (
            f"row {first}: {mine[first].tolist()!r}, scikit-learn says {sk[first].tolist()!r} "
            f"(error {float(diff[first].max()):.3g} over the batch's scale {scale:.3g} "
            f"> {rtol:g})"
        )
    return Comparison(max_abs, max_rel, 0, problem)


def compare(
    task: str,
    got: list[Any],
    expected: list[Any],
    got_proba: list[list[float]] | None = None,
    expected_proba: list[list[float]] | None = None,
    *,
    rtol: float = REGRESSION_RTOL,
    atol: float = PROBABILITY_ATOL,
) -> Comparison:
    """Compare answers with scikit-learn's by the rule in this module's docstring.

    ``task`` is ``"classification"`` (labels, and probabilities when ``expected_proba`` is
    given) or anything else (numbers). ``got`` and ``expected`` are plain Python values.
    """
    if len(got) != len(expected):
        return Comparison(
            math.inf, math.inf, len(expected), f"{len(got)} answers for {len(expected)} rows"
        )
    if task == "classification":
        return _compare_labels(got, expected, got_proba, expected_proba, atol)
    return _compare_numbers(got, expected, rtol)


@dataclass(frozen=True)
class EquivalenceReport:
    """How the lean runtime's predictions compare with scikit-learn's on some rows.

    Attributes
    ----------
    ok : bool
        True when every prediction agrees within tolerance (labels exactly).
    rows : int
        Number of rows compared.
    max_abs_error, max_rel_error : float
        Largest differences of regression outputs or class probabilities (see :func:`compare`).
    label_mismatches : int
        Rows whose predicted class differs (0 for regressors).
    detail : str
        A human-readable summary, naming the first failing row if any.
    """

    ok: bool
    rows: int
    max_abs_error: float
    max_rel_error: float
    label_mismatches: int
    detail: str


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return value


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _lean_frame(lean: LeanModel, X: pandas.DataFrame) -> pandas.DataFrame:
    """``X``'s feature columns, missing values as the runtime and scikit-learn each read them."""
    import pandas as pd

    features = list(lean.spec["features"])
    frame = X[features].copy()
    none_columns = set(lean.spec.get("missing_as_none", []))
    for column in features:
        if frame[column].dtype == object:
            # The runtime reads None and NaN alike; scikit-learn does not (see _missing_as_none).
            missing = np.nan if column not in none_columns else None
            values = [missing if _cell(v) is None else v for v in frame[column]]
            frame[column] = pd.Series(values, index=frame.index, dtype=object)
    return frame


def check_equivalence(
    estimator: Any,
    lean: LeanModel,
    X: pandas.DataFrame,
    *,
    rtol: float = REGRESSION_RTOL,
    directory: Path | None = None,
) -> EquivalenceReport:
    """Run the lean runtime and scikit-learn on the same rows and compare (:func:`compare`).

    Parameters
    ----------
    estimator : sklearn estimator
        The fitted estimator ``lean`` was compiled from.
    lean : LeanModel
        The compiled model.
    X : pandas.DataFrame
        Rows to compare on; must hold the model's feature columns. Missing values (NaN or
        None) reach the runtime as None and scikit-learn as NaN, or as None in the columns
        ``spec["missing_as_none"]`` lists.
    rtol : float, default=1e-9
        Tolerance of regression outputs (relative to the batch's scale) and of probabilities
        (absolute).
    directory : Path, optional
        Load the runtime from this directory (written by :meth:`LeanModel.write`) instead of
        from memory, to also prove the files.
    """
    from sklambda.runtime import lean_predict

    frame = _lean_frame(lean, X)
    predictor = lean_predict.load(directory) if directory is not None else lean.predictor()
    sk_input = frame if hasattr(estimator, "feature_names_in_") else frame.to_numpy()
    rows = [[_cell(v) for v in row] for row in frame.to_numpy(dtype=object).tolist()]
    n = len(rows)
    expected = estimator.predict(sk_input)
    with_proba = predictor.classes is not None and hasattr(estimator, "predict_proba")
    try:
        actual = predictor.predict(rows)
        actual_proba = predictor.predict_proba(rows) if with_proba else None
    except Exception as exc:  # the report is the answer: a runtime failure means "not equal"
        detail = f"lean runtime failed: {type(exc).__name__}: {exc}"
        return EquivalenceReport(False, n, math.inf, math.inf, 0, detail)
    task = lean.spec["task"]
    if task == "classification":
        labels = [_label(v) for v in np.asarray(expected).tolist()]
        sk_proba = estimator.predict_proba(sk_input) if actual_proba is not None else None
        result = compare(task, actual, labels, actual_proba, sk_proba, rtol=rtol, atol=rtol)
        summary = f"{n} rows: labels identical, probabilities within {rtol:g}"
    else:
        result = compare(task, actual, np.asarray(expected).tolist(), rtol=rtol)
        summary = f"{n} rows within rtol {rtol:g} of the batch's scale"
    detail = result.problem or (
        f"{summary} (max abs {result.max_abs_error:.3g}, max rel {result.max_rel_error:.3g})"
    )
    return EquivalenceReport(
        result.ok, n, result.max_abs_error, result.max_rel_error, result.label_mismatches, detail
    )
