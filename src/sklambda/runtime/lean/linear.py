"""Linear models in pure Python: regressors (with an optional log link, for the GLMs) and
classifiers (LogisticRegression, SGD, Ridge, Perceptron, PassiveAggressive, LinearSVC)."""

from __future__ import annotations

import math
from operator import mul

from .values import Model, argmax, check_finite, expit, softmax

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


class Linear(Model):
    def __init__(self, node: dict[str, Any]) -> None:
        self.coef: list[list[float]] = node["coef"]
        self.intercept: list[float] = node["intercept"]
        self.squeeze: bool = node["squeeze"]
        self.link: str = node.get("link", "identity")
        widths = {len(coef) for coef in self.coef}
        if len(widths) != 1 or len(self.intercept) != len(self.coef):
            raise ValueError("lean model is malformed: coefficient rows differ in length")
        self.width = widths.pop()

    def scores(self, row: Row) -> list[float]:
        # check_finite also checks the width: map() would silently stop at the shorter list.
        x = check_finite(row, self.width)
        # Dot product first, intercept after: the order of scikit-learn's X @ coef.T + b.
        return [
            sum(map(mul, x, coef)) + b for coef, b in zip(self.coef, self.intercept, strict=True)
        ]

    def decision(self, rows: list[Row]) -> list[list[float]]:
        return [self.scores(row) for row in rows]

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.link == "exp":
            out = [[math.exp(s) for s in self.scores(row)] for row in rows]
        else:
            out = self.decision(rows)
        return [row[0] for row in out] if self.squeeze else out


class LinearClassifier(Linear):
    """``decision_function`` = ``X @ coef.T + b``; labels from its sign or argmax.

    ``proba`` says how probabilities follow from the scores: ``softmax`` (LogisticRegression:
    expit when binary), ``ovr`` (SGD's log loss: expit, normalised over classes),
    ``modified_huber`` (SGD), or None (no probabilities).
    """

    def __init__(self, node: dict[str, Any], classes: list[Any]) -> None:
        super().__init__(node)
        self.classes = classes
        self.binary = len(self.coef) == 1
        self.proba = node.get("proba", "softmax")

    def predict(self, rows: list[Row]) -> list[Any]:
        classes = self.classes
        assert classes is not None
        if self.binary:
            return [classes[1] if self.scores(row)[0] > 0 else classes[0] for row in rows]
        return [classes[argmax(self.scores(row))] for row in rows]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        kind = self.proba
        if kind is None:
            raise TypeError("this classifier gives no probabilities")
        out = []
        for row in rows:
            scores = self.scores(row)
            if kind == "modified_huber":
                probs = [(min(max(s, -1.0), 1.0) + 1.0) / 2.0 for s in scores]
                if self.binary:
                    out.append([1.0 - probs[0], probs[0]])
                    continue
                out.append(_normalised(probs))
            elif self.binary:
                p = expit(scores[0])
                out.append([1 - p, p])
            elif kind == "ovr":
                out.append(_normalised([expit(s) for s in scores]))
            else:
                out.append(softmax(scores))
        return out


def _normalised(probs: list[float]) -> list[float]:
    total = sum(probs)
    if total == 0:
        return [1.0 / len(probs)] * len(probs)
    return [p / total for p in probs]


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    if node["op"] == "linear":
        return Linear(node)
    if classes is None:
        raise ValueError("a linear classifier needs classes")
    return LinearClassifier(node, classes)
