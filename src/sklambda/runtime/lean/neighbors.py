"""k-nearest neighbours in pure Python: brute force over the stored training rows.

Distances are ``sum(|x - t| ** p) ** (1 / p)`` (``math.dist`` for p = 2); equal distances keep
the training order.
"""

from __future__ import annotations

import heapq
from math import dist

from .values import Model, check_finite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


class Neighbors(Model):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        key = node["key"]
        width = node["n_features"]
        flat = arrays[f"{key}/X"]
        self.width = width
        self.rows = [flat[i : i + width].tolist() for i in range(0, len(flat), width)]
        self.y = arrays[f"{key}/y"].tolist()
        self.k = node["n_neighbors"]
        self.distance_weights = node["weights"] == "distance"
        self.metric = node["metric"]
        self.p = node["p"]
        self.classify = node["classify"]

    def _neighbors(self, row: Row) -> tuple[list[float], list[int]]:
        x = check_finite(row, self.width)
        p = self.p
        if self.metric == "chebyshev":
            reduced = [max(abs(a - b) for a, b in zip(x, t, strict=True)) for t in self.rows]
        elif p == 2.0:
            # math.dist: C speed, accurate to the last bit or so (not scikit-learn's exact
            # rounding; neighbours at distances equal to ~1e-16 may order differently).
            reduced = [dist(x, t) for t in self.rows]
        elif p == 1.0:
            reduced = [sum(abs(a - b) for a, b in zip(x, t, strict=True)) for t in self.rows]
        else:
            reduced = [sum(abs(a - b) ** p for a, b in zip(x, t, strict=True)) for t in self.rows]
        best = heapq.nsmallest(self.k, range(len(reduced)), key=reduced.__getitem__)
        if self.metric == "chebyshev" or p == 1.0 or p == 2.0:
            distances = [reduced[i] for i in best]
        else:
            distances = [reduced[i] ** (1.0 / p) for i in best]
        return distances, best

    def _weights(self, distances: list[float]) -> list[float] | None:
        if not self.distance_weights:
            return None
        if any(d == 0.0 for d in distances):  # exact matches take all the weight
            return [1.0 if d == 0.0 else 0.0 for d in distances]
        return [1.0 / d for d in distances]

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.classify:
            classes = self.classes
            assert classes is not None
            out = []
            for p in self.predict_proba(rows):
                best = 0
                for i in range(1, len(p)):
                    if p[i] > p[best]:
                        best = i
                out.append(classes[best])
            return out
        y = self.y
        out = []
        for row in rows:
            distances, index = self._neighbors(row)
            weights = self._weights(distances)
            if weights is None:
                out.append(sum(y[i] for i in index) / len(index))
            else:
                total = sum(y[i] * w for i, w in zip(index, weights, strict=True))
                out.append(total / sum(weights))
        return out

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        assert self.classes is not None
        n_classes = len(self.classes)
        y = self.y
        out = []
        for row in rows:
            distances, index = self._neighbors(row)
            weights = self._weights(distances) or [1.0] * len(index)
            votes = [0.0] * n_classes
            for i, w in zip(index, weights, strict=True):
                votes[y[i]] += w
            total = sum(votes)
            out.append([v / total for v in votes])
        return out


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    return Neighbors(node, arrays, classes)
