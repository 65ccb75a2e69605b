"""Values and arithmetic every lean model family shares (standard library only)."""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    Row = list[Any]

NAN = float("nan")
_INFINITIES = (float("inf"), float("-inf"))


class _Missing:
    """Dictionary key standing for a missing category (None or NaN), which never equals itself."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING_KEY = _Missing()


def decode_number(value: Any) -> Any:
    """Decode a value written by ``sklambda.lean``: ``{"$float": "nan"}`` is a non-finite float.

    JSON has no NaN or infinity; the compiler writes them as a one-key object instead.
    """
    if isinstance(value, dict) and "$float" in value:
        return float(value["$float"])
    return value


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def to_float(value: Any) -> float:
    # None is how the HTTP layer spells a missing number; scikit-learn sees it as NaN.
    return NAN if value is None else float(value)


def category_key(value: Any) -> Any:
    return MISSING_KEY if is_missing(value) else value


def expit(x: float) -> float:
    # scipy.special.expit computes 1 / (1 + exp(-x)); exp overflowing to inf gives 0.
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:
        return 0.0


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    if math.isinf(top):
        return top
    return math.log(sum(math.exp(v - top) for v in values)) + top


def boosting_proba(raw: list[list[float]], exponential: bool = False) -> list[list[float]]:
    """Probabilities from boosting's raw scores (per row: one score when binary, else k)."""
    out = []
    for scores in raw:
        if len(scores) == 1:
            p = expit(2 * scores[0] if exponential else scores[0])
            out.append([1 - p, p])
        else:
            out.append(softmax(scores))
    return out


def argmax(values: Sequence[float]) -> int:
    # First maximum wins, as with numpy.argmax.
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best


def check_finite(row: Row, width: int | None = None) -> list[float]:
    values = [to_float(v) for v in row]
    for v in values:
        if v != v:
            raise ValueError("Input X contains NaN; the model does not accept missing values")
        if v in _INFINITIES:  # a finite input that overflowed in a transform: sklearn refuses it
            raise ValueError("Input X contains infinity or a value too large for dtype('float64')")
    if width is not None and len(values) != width:
        raise ValueError(f"the model expects {width} values after preprocessing, got {len(values)}")
    return values


class Model:
    """A final estimator: turns transformed rows into predictions."""

    classes: list[Any] | None = None

    def predict(self, rows: list[Row]) -> list[Any]:
        raise NotImplementedError

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        raise TypeError(f"{type(self).__name__} gives no probabilities")

    def decision(self, rows: list[Row]) -> list[list[float]]:
        """Raw scores (decision_function or predict for regressors), one list per row."""
        raise TypeError(f"{type(self).__name__} gives no decision values")
