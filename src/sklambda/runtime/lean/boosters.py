"""LightGBM models in pure Python: the dumped trees, walked as ``Tree::Decision`` does.

Numeric splits: NaN is read as 0.0 unless the split's missing type is NaN; a missing value
(NaN, or zero for missing type Zero) follows the default direction; else ``x <= threshold``
goes left. Categorical splits send the listed categories left, negative values and NaN
right. Leaves are summed in double precision, tree after tree.
"""

from __future__ import annotations

import math

from .values import Model, expit, softmax, to_float

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]

_ZERO = 1.0000000180025095e-35  # kZeroThreshold, 1e-35f


class LightGBM(Model):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        key = node["key"]
        # lists: faster to index than arrays (see tree_walk)
        self.feature: list[int] = arrays[f"{key}/feature"].tolist()
        self.threshold: list[float] = arrays[f"{key}/threshold"].tolist()
        self.left: list[int] = arrays[f"{key}/left"].tolist()
        self.right: list[int] = arrays[f"{key}/right"].tolist()
        self.default_left: list[int] = arrays[f"{key}/default_left"].tolist()
        self.missing: list[int] = arrays[f"{key}/missing"].tolist()
        self.categorical: list[int] = arrays[f"{key}/categorical"].tolist()
        self.category_set: list[int] = arrays[f"{key}/category_set"].tolist()
        self.value: list[float] = arrays[f"{key}/value"].tolist()
        self.roots = arrays[f"{key}/roots"].tolist()
        self.sets = [frozenset(s) for s in node["category_sets"]]
        self.k = node["trees_per_iteration"]
        self.link = node["link"]
        self.sigmoid = node["sigmoid"]
        self.n_features = node["n_features"]

    def _leaf(self, x: list[float], node: int) -> int:
        left, right = self.left, self.right
        while True:
            child = left[node]
            if child < 0:
                return node
            v = x[self.feature[node]]
            missing = self.missing[node]
            if self.categorical[node]:
                # NaN and negative values always go right (not in any category set).
                if v != v or v < 0:
                    node = right[node]
                    continue
                node = child if int(v) in self.sets[self.category_set[node]] else right[node]
                continue
            if v != v and missing != 2:
                v = 0.0
            if (missing == 1 and -_ZERO <= v <= _ZERO) or (missing == 2 and v != v):
                node = child if self.default_left[node] else right[node]
            elif v <= self.threshold[node]:
                node = child
            else:
                node = right[node]

    def raw(self, row: Row) -> list[float]:
        x = [to_float(v) for v in row]
        if len(x) != self.n_features:
            raise ValueError(
                f"the model expects {self.n_features} values after preprocessing, got {len(x)}"
            )
        raw = [0.0] * self.k
        value, k = self.value, self.k
        for t, root in enumerate(self.roots):
            raw[t % k] += value[self._leaf(x, root)]
        return raw

    def decision(self, rows: list[Row]) -> list[list[float]]:
        return [self.raw(row) for row in rows]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        out = []
        for row in rows:
            raw = self.raw(row)
            if self.link == "softmax":
                out.append(softmax(raw))
            else:
                p = expit(self.sigmoid * raw[0])
                out.append([1.0 - p, p])
        return out

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.classes is None:
            if self.link == "exp":
                return [math.exp(self.raw(row)[0]) for row in rows]
            return [self.raw(row)[0] for row in rows]
        classes = self.classes
        out = []
        for p in self.predict_proba(rows):
            best = 0
            for i in range(1, len(p)):
                if p[i] > p[best]:
                    best = i
            out.append(classes[best])
        return out


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    return LightGBM(node, arrays, classes)
