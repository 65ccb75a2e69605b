"""Trees, forests and boosting (scikit-learn's and HistGradientBoosting) in pure Python.

The parameters come from ``lean.bin`` as ``array`` objects, so neither numpy nor JSON parsing
is needed at INIT. Each row walks each tree; sums run tree after tree in scikit-learn's order,
so outputs are bit-identical to the numpy form (:mod:`.trees`) and to scikit-learn's.
"""

from __future__ import annotations

import math
from array import array

from .values import Model, boosting_proba, to_float

_INFINITIES = (float("inf"), float("-inf"))

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


def _float32(values: list[float]) -> list[float]:
    # scikit-learn casts X to float32 before it walks a tree; array('f') rounds the same way.
    return array("f", values).tolist()


def _uint8(value: float) -> int:
    # HistGradientBoosting casts a categorical value to uint8 in C (truncation, low byte).
    if value >= 2147483648.0:
        return 0
    return int(value) & 0xFF


class Walker:
    """The node arrays of all trees, and the walk from a root to a leaf."""

    def __init__(self, arrays: dict[str, Any], key: str, n_values: int) -> None:
        # Lists, not arrays, for the walk: indexing a list returns the stored object, indexing
        # an array boxes a new one (measured 1.6x faster per row, ~50 ns per node at INIT).
        self.feature = arrays[f"{key}/feature"].tolist()
        self.threshold = arrays[f"{key}/threshold"].tolist()
        self.left = arrays[f"{key}/left"].tolist()
        self.right = arrays[f"{key}/right"].tolist()
        self.missing_left = arrays[f"{key}/missing_left"].tolist()
        self.value = arrays[f"{key}/value"]
        self.roots = arrays[f"{key}/roots"].tolist()
        self.n_values = n_values
        categorical = arrays.get(f"{key}/categorical")
        self.categorical = categorical if categorical is not None and any(categorical) else None
        if self.categorical is not None:
            self.categorical = self.categorical.tolist()
            self.bitset = arrays[f"{key}/bitset"].tolist()
            self.cat_bitsets = arrays[f"{key}/cat_bitsets"].tolist()
            self.known_bitsets = arrays[f"{key}/known_bitsets"].tolist()
            self.f_idx_map = arrays[f"{key}/f_idx_map"].tolist()

    def leaves(self, x: list[float]) -> list[int]:
        if self.categorical is not None:
            return [self._leaf_categorical(x, root) for root in self.roots]
        feature, threshold = self.feature, self.threshold
        left, right, missing_left = self.left, self.right, self.missing_left
        out = []
        for node in self.roots:
            while True:
                child = left[node]
                if child < 0:
                    break
                v = x[feature[node]]
                if v <= threshold[node]:
                    node = child
                elif v != v:
                    node = child if missing_left[node] else right[node]
                else:
                    node = right[node]
            out.append(node)
        return out

    def _leaf_categorical(self, x: list[float], node: int) -> int:
        left, right, missing_left = self.left, self.right, self.missing_left
        categorical = self.categorical
        assert categorical is not None
        while True:
            child = left[node]
            if child < 0:
                return node
            f = self.feature[node]
            v = x[f]
            if v != v:
                node = child if missing_left[node] else right[node]
            elif categorical[node]:
                if v < 0:  # out of range: missing
                    node = child if missing_left[node] else right[node]
                    continue
                c = _uint8(v)
                word, bit = c >> 5, c & 31
                if (self.cat_bitsets[self.bitset[node] * 8 + word] >> bit) & 1:
                    node = child
                elif (self.known_bitsets[self.f_idx_map[f] * 8 + word] >> bit) & 1:
                    node = right[node]
                else:  # an unknown category goes where missing values go
                    node = child if missing_left[node] else right[node]
            elif v <= self.threshold[node]:
                node = child
            else:
                node = right[node]


class _TreeModel(Model):
    def __init__(self, node: dict[str, Any], classes: list[Any] | None) -> None:
        self.classes = classes
        self.n_features: int = node["n_features"]
        self.allow_nan: bool = node.get("allow_nan", False)
        self.float32: bool = node.get("float32", True)

    def _row(self, row: Row) -> list[float]:
        x = [to_float(v) for v in row]
        if len(x) != self.n_features:
            raise ValueError(
                f"the model expects {self.n_features} values after preprocessing, got {len(x)}"
            )
        if not self.allow_nan and any(v != v for v in x):
            raise ValueError("Input X contains NaN; the model does not accept missing values")
        if not self.float32:  # HistGradientBoosting: float64, infinities allowed
            return x
        x32 = _float32(x)
        if any(v in _INFINITIES for v in x32):  # as the numpy form: overflow past float32
            raise ValueError("Input X contains infinity or a value too large for dtype('float32')")
        return x32

    def raw(self, row: Row) -> list[float]:
        raise NotImplementedError

    def decision(self, rows: list[Row]) -> list[list[float]]:
        return [self.raw(row) for row in rows]


class Forest(_TreeModel):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        super().__init__(node, classes)
        self.width = len(classes) if classes is not None else 1
        self.walker = Walker(arrays, node["key"], self.width)
        self.average = node["average"]

    def raw(self, row: Row) -> list[float]:
        value, width = self.walker.value, self.width
        leaves = self.walker.leaves(self._row(row))
        if not self.average:
            start = leaves[0] * width
            return value[start : start + width].tolist()
        total = [0.0] * width
        first = True
        for leaf in leaves:
            start = leaf * width
            if first:  # numpy's add.accumulate starts from the first tree, not from 0.0
                total = value[start : start + width].tolist()
                first = False
                continue
            for j in range(width):
                total[j] += value[start + j]
        n = len(leaves)
        return [t / n for t in total]

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.classes is None:
            return [self.raw(row)[0] for row in rows]
        classes = self.classes
        out = []
        for row in rows:
            p = self.raw(row)
            out.append(classes[max(range(len(p)), key=p.__getitem__)])
        return out

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        return [self.raw(row) for row in rows]


class Boosting(_TreeModel):
    """GradientBoosting (``init + lr * leaf``) and HistGradientBoosting (``baseline + leaf``)."""

    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        super().__init__(node, classes)
        self.walker = Walker(arrays, node["key"], 1)
        self.init: list[float] = [float(v) for v in node["init"]]
        rate = node.get("learning_rate")
        self.learning_rate: float | None = None if rate is None else float(rate)
        self.k = int(node["trees_per_stage"])
        self.exponential = node.get("loss") == "exponential"
        self.link = node.get("link", "identity")
        # HistGradientBoosting labels binary rows by raw > 0, GradientBoosting by raw >= 0.
        self.strict = node["op"] == "hist_gradient_boosting"

    def raw(self, row: Row) -> list[float]:
        value, k, rate = self.walker.value, self.k, self.learning_rate
        raw = list(self.init)
        for t, leaf in enumerate(self.walker.leaves(self._row(row))):
            if rate is None:
                raw[t % k] += value[leaf]
            else:
                raw[t % k] += rate * value[leaf]
        return raw

    def predict(self, rows: list[Row]) -> list[Any]:
        classes = self.classes
        if classes is None:
            if self.link == "exp":
                return [math.exp(self.raw(row)[0]) for row in rows]
            return [self.raw(row)[0] for row in rows]
        out = []
        for row in rows:
            raw = self.raw(row)
            if self.k == 1:
                positive = raw[0] > 0 if self.strict else raw[0] >= 0
                out.append(classes[int(positive)])
            else:
                out.append(classes[max(range(self.k), key=raw.__getitem__)])
        return out

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        return boosting_proba([self.raw(row) for row in rows], self.exponential)


class IsolationForest(_TreeModel):
    """``predict``: -1 (outlier) where ``-2 ** (-depth / c(n)) - offset`` is negative, else 1."""

    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        super().__init__(node, classes)
        self.walker = Walker(arrays, node["key"], 1)
        self.denominator: float = node["denominator"]
        self.offset: float = node["offset"]

    def score(self, row: Row) -> float:
        value = self.walker.value
        depth = 0.0
        for leaf in self.walker.leaves(self._row(row)):
            depth += value[leaf]
        ratio = depth / self.denominator if self.denominator != 0 else 1.0
        return -(2 ** (-ratio))

    def decision(self, rows: list[Row]) -> list[list[float]]:
        return [[self.score(row) - self.offset] for row in rows]

    def predict(self, rows: list[Row]) -> list[Any]:
        return [-1 if d[0] < 0 else 1 for d in self.decision(rows)]


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    if node["op"] == "forest":
        return Forest(node, arrays, classes)
    if node["op"] == "isolation_forest":
        return IsolationForest(node, arrays, classes)
    return Boosting(node, arrays, classes)
