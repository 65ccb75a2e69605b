"""Trees, forests and boosting (scikit-learn's and HistGradientBoosting) in pure Python.

The parameters come from ``lean.bin`` as ``array`` objects, so neither numpy nor JSON parsing
is needed at INIT. Each row walks each tree; sums run tree after tree in scikit-learn's order,
so outputs are bit-identical to the numpy form (:mod:`.trees`) and to scikit-learn's.
"""

from __future__ import annotations

import math
from array import array
from functools import reduce
from math import isinf, isnan
from operator import add

from .values import NAN, Model, boosting_proba

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
    """The node arrays of all trees, and the walk from each root to a leaf.

    A node is one tuple ``(feature, threshold, left, right)``: one list lookup and an unpack per
    node visited, where separate lists cost four lookups (measured 26% faster per row). A leaf
    (``left < 0``) holds its payload (what the model adds up: its value, or values) in the
    feature slot, so a walk returns the payloads, not leaf indices to look up again.
    """

    def __init__(self, arrays: dict[str, Any], key: str, payload: list[Any]) -> None:
        left = arrays[f"{key}/left"].tolist()
        self.nodes = nodes = list(
            zip(
                arrays[f"{key}/feature"].tolist(),
                arrays[f"{key}/threshold"].tolist(),
                left,
                arrays[f"{key}/right"].tolist(),
                strict=True,
            )
        )
        for node, child in enumerate(left):
            if child < 0:
                nodes[node] = (payload[node], 0.0, -1, -1)
        self.missing_left = arrays[f"{key}/missing_left"].tolist()
        self.roots = arrays[f"{key}/roots"].tolist()
        categorical = arrays.get(f"{key}/categorical")
        self.categorical = categorical if categorical is not None and any(categorical) else None
        if self.categorical is not None:
            self.categorical = self.categorical.tolist()
            self.bitset = arrays[f"{key}/bitset"].tolist()
            self.cat_bitsets = arrays[f"{key}/cat_bitsets"].tolist()
            self.known_bitsets = arrays[f"{key}/known_bitsets"].tolist()
            self.f_idx_map = arrays[f"{key}/f_idx_map"].tolist()

    def payloads(self, x: list[float]) -> list[Any]:
        """The payload of the leaf ``x`` reaches in each tree, in tree order."""
        if self.categorical is not None:
            return [self._leaf_categorical(x, root) for root in self.roots]
        if any(map(isnan, x)):
            return self._payloads_missing(x)
        nodes = self.nodes
        out = []
        for node in self.roots:
            f, t, left, right = nodes[node]
            while left >= 0:
                f, t, left, right = nodes[left if x[f] <= t else right]
            out.append(f)
        return out

    def _payloads_missing(self, x: list[float]) -> list[Any]:
        # A NaN fails every comparison: it goes where the node sends missing values.
        nodes, missing_left = self.nodes, self.missing_left
        out = []
        for node in self.roots:
            f, t, left, right = nodes[node]
            while left >= 0:
                v = x[f]
                if v <= t:
                    node = left
                elif v != v:
                    node = left if missing_left[node] else right
                else:
                    node = right
                f, t, left, right = nodes[node]
            out.append(f)
        return out

    def _leaf_categorical(self, x: list[float], node: int) -> Any:
        nodes, missing_left = self.nodes, self.missing_left
        categorical = self.categorical
        assert categorical is not None
        while True:
            f, t, child, right = nodes[node]
            if child < 0:
                return f
            v = x[f]
            if v != v:
                node = child if missing_left[node] else right
            elif categorical[node]:
                if v < 0:  # out of range: missing
                    node = child if missing_left[node] else right
                    continue
                c = _uint8(v)
                word, bit = c >> 5, c & 31
                if (self.cat_bitsets[self.bitset[node] * 8 + word] >> bit) & 1:
                    node = child
                elif (self.known_bitsets[self.f_idx_map[f] * 8 + word] >> bit) & 1:
                    node = right
                else:  # an unknown category goes where missing values go
                    node = child if missing_left[node] else right
            elif v <= t:
                node = child
            else:
                node = right


class _TreeModel(Model):
    def __init__(self, node: dict[str, Any], classes: list[Any] | None) -> None:
        self.classes = classes
        self.n_features: int = node["n_features"]
        self.allow_nan: bool = node.get("allow_nan", False)
        self.float32: bool = node.get("float32", True)

    def _row(self, row: Row) -> list[float]:
        x = [NAN if v is None else float(v) for v in row]  # values.to_float, inlined
        if len(x) != self.n_features:
            raise ValueError(
                f"the model expects {self.n_features} values after preprocessing, got {len(x)}"
            )
        if not self.allow_nan and any(map(isnan, x)):
            raise ValueError("Input X contains NaN; the model does not accept missing values")
        if not self.float32:  # HistGradientBoosting: float64, infinities allowed
            return x
        x32 = _float32(x)
        if any(map(isinf, x32)):  # as the numpy form: overflow past float32
            raise ValueError("Input X contains infinity or a value too large for dtype('float32')")
        return x32

    def raw(self, row: Row) -> list[float]:
        raise NotImplementedError

    def decision(self, rows: list[Row]) -> list[list[float]]:
        return [self.raw(row) for row in rows]


class Forest(_TreeModel):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        super().__init__(node, classes)
        self.width = width = len(classes) if classes is not None else 1
        value = arrays[f"{node['key']}/value"]
        # A leaf's payload: its values (one per class), a tuple.
        payload = list(zip(*(value[j::width].tolist() for j in range(width)), strict=True))
        self.walker = Walker(arrays, node["key"], payload)
        self.average = node["average"]

    def raw(self, row: Row) -> list[float]:
        found = self.walker.payloads(self._row(row))
        if not self.average:
            return list(found[0])
        # Tree after tree from the first tree's values (numpy's add.accumulate, scikit-learn's
        # order): reduce adds left to right, as the loop it replaces did, in C.
        n = len(found)
        return [reduce(add, column) / n for column in zip(*found, strict=True)]

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
        self.init: list[float] = [float(v) for v in node["init"]]
        rate = node.get("learning_rate")
        self.learning_rate: float | None = None if rate is None else float(rate)
        values = arrays[f"{node['key']}/value"].tolist()
        if self.learning_rate is not None:  # the product scikit-learn adds, made once
            values = [self.learning_rate * v for v in values]
        self.walker = Walker(arrays, node["key"], values)
        self.k = int(node["trees_per_stage"])
        self.exponential = node.get("loss") == "exponential"
        self.link = node.get("link", "identity")
        # HistGradientBoosting labels binary rows by raw > 0, GradientBoosting by raw >= 0.
        self.strict = node["op"] == "hist_gradient_boosting"

    def raw(self, row: Row) -> list[float]:
        # Trees are stage-major: tree t adds to score t % k, after init, in tree order.
        found, k = self.walker.payloads(self._row(row)), self.k
        if k == 1:
            return [reduce(add, found, self.init[0])]
        return [reduce(add, found[j::k], self.init[j]) for j in range(k)]

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
        self.walker = Walker(arrays, node["key"], arrays[f"{node['key']}/value"].tolist())
        self.denominator: float = node["denominator"]
        self.offset: float = node["offset"]

    def score(self, row: Row) -> float:
        depth = reduce(add, self.walker.payloads(self._row(row)), 0.0)
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
