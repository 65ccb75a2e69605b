"""LightGBM and XGBoost models in pure Python: their dumped trees, walked as each library does.

LightGBM (``Tree::Decision``): NaN is read as 0.0 unless the split's missing type is NaN; a
missing value (NaN, or zero for missing type Zero) follows the default direction; else
``x <= threshold`` goes left. Categorical splits send the listed categories left, negative
values and NaN right. Leaves are summed in double precision, tree after tree.

XGBoost (``predictor::GetNextNode``): the row is cast to float32; NaN, and the model's
``missing`` value, follow the default child, else ``x < split_condition`` goes left, or, at a
categorical split (category codes), a code in the split's set goes right. Each
output starts at XGBoost's base margin and adds its trees' leaves in float32, tree after tree;
the links are XGBoost's own float32 code (``common::Sigmoid``, ``common::Softmax``, ``expf``),
with ``expf`` taken from the C library XGBoost calls (ctypes), so the bits are the library's.
"""

from __future__ import annotations

import math
from array import array

from .values import Model, argmax, expit, softmax, to_float

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]

_ZERO = 1.0000000180025095e-35  # kZeroThreshold, 1e-35f


class _DumpedTrees(Model):
    """The split columns both libraries' dumps give, one entry per node."""

    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        key = node["key"]
        # lists: faster to index than arrays (see tree_walk)
        self.feature: list[int] = arrays[f"{key}/feature"].tolist()
        self.threshold: list[float] = arrays[f"{key}/threshold"].tolist()
        self.left: list[int] = arrays[f"{key}/left"].tolist()
        self.right: list[int] = arrays[f"{key}/right"].tolist()
        self.default_left: list[int] = arrays[f"{key}/default_left"].tolist()
        self.category_set: list[int] = arrays[f"{key}/category_set"].tolist()
        self.roots: list[int] = arrays[f"{key}/roots"].tolist()
        self.n_features: int = node["n_features"]

    def _width(self, row: Row) -> None:
        if len(row) != self.n_features:
            raise ValueError(
                f"the model expects {self.n_features} values after preprocessing, got {len(row)}"
            )


class LightGBM(_DumpedTrees):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        super().__init__(node, arrays, classes)
        key = node["key"]
        self.missing: list[int] = arrays[f"{key}/missing"].tolist()
        self.categorical: list[int] = arrays[f"{key}/categorical"].tolist()
        self.value: list[float] = arrays[f"{key}/value"].tolist()
        self.sets = [frozenset(s) for s in node["category_sets"]]
        self.k = node["trees_per_iteration"]
        self.link = node["link"]
        self.sigmoid = node["sigmoid"]

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
        self._width(row)
        x = [to_float(v) for v in row]
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


def _c_expf() -> Any:
    """The C library's ``expf`` (XGBoost's), or None where it cannot be loaded."""
    try:
        import ctypes

        try:
            libm = ctypes.CDLL("libm.so.6")
        except OSError:
            libm = ctypes.CDLL(None)
        expf = libm.expf
    except (ImportError, OSError, AttributeError):
        return None
    expf.restype = ctypes.c_float
    expf.argtypes = [ctypes.c_float]
    return expf


class XGBoost(_DumpedTrees):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        super().__init__(node, arrays, classes)
        groups = arrays[f"{node['key']}/group"].tolist()
        self.trees = list(zip(self.roots, groups, strict=True))
        sets = [frozenset(s) for s in node["category_sets"]]
        # Per node: None (a numeric split) or the categories sent right.
        self.categories: list[frozenset[int] | None] | None = (
            [None if i < 0 else sets[i] for i in self.category_set] if sets else None
        )
        self.k: int = node["n_outputs"]
        self.base: list[float] = list(node["base_margin"])
        self.link: str = node["link"]
        missing = node["missing"]
        self.missing: float | None = None if missing is None else float(missing)
        self._f32 = array("f", [0.0])
        self._expf = _c_expf() if self.link != "identity" else None

    def f32(self, value: float) -> float:
        """``value`` rounded to float32 as C's cast rounds it (overflow gives infinity)."""
        buffer = self._f32
        buffer[0] = value
        return buffer[0]

    def expf(self, x: float) -> float:
        if self._expf is not None:
            return float(self._expf(x))
        if x > 88.8:  # past float32's range: expf overflows to inf
            return math.inf
        return self.f32(math.exp(x))

    def _row(self, row: Row) -> list[float]:
        self._width(row)
        x = array("f", [to_float(v) for v in row]).tolist()
        missing = self.missing
        if missing is not None:  # besides NaN, values equal to `missing` (as float32) are
            x = [math.nan if v == missing else v for v in x]
        return x  # infinities walk as numbers (inplace_predict does not refuse them)

    def _categorical_leaf(self, x: list[float], node: int) -> int:
        """The walk where some splits are categorical (``common::Decision``): a category in the
        split's set goes right; any other, a negative one or one past 2**24 - 1 goes left."""
        feature, threshold, left, right = self.feature, self.threshold, self.left, self.right
        default_left, categories = self.default_left, self.categories
        assert categories is not None
        child = left[node]
        while child >= 0:
            v = x[feature[node]]
            chosen = categories[node]
            if v != v:
                node = child if default_left[node] else right[node]
            elif chosen is not None:
                valid = 0.0 <= v < _XGB_MAX_CAT
                node = right[node] if valid and int(v) in chosen else child
            elif v < threshold[node]:
                node = child
            else:
                node = right[node]
            child = left[node]
        return node

    def margin(self, row: Row) -> list[float]:
        x = self._row(row)
        feature, threshold, left, right = self.feature, self.threshold, self.left, self.right
        default_left = self.default_left
        out = list(self.base)
        buffer = self._f32
        categorical = self.categories is not None
        for node, group in self.trees:
            if categorical:
                node = self._categorical_leaf(x, node)
            child = left[node]
            while child >= 0:
                v = x[feature[node]]
                if v != v:
                    node = child if default_left[node] else right[node]
                elif v < threshold[node]:
                    node = child
                else:
                    node = right[node]
                child = left[node]
            buffer[0] = out[group] + threshold[node]  # a leaf's value (float32 sum)
            out[group] = buffer[0]
        return out

    def decision(self, rows: list[Row]) -> list[list[float]]:
        return [self.margin(row) for row in rows]

    def _sigmoid(self, x: float) -> float:
        # common::Sigmoid: 1 / (expf(min(-x, 88.7f)) + 1 + 1e-16f), every step in float32.
        f32 = self.f32
        denom = f32(f32(self.expf(min(-x, _XGB_EXP_MAX)) + 1.0) + _XGB_EPS)
        return f32(1.0 / denom)

    def _softmax(self, margin: list[float]) -> list[float]:
        # common::Softmax: float32 exps of the shifted margins, their sum in double.
        top = max(margin)
        f32, expf = self.f32, self.expf
        exps = [expf(f32(m - top)) for m in margin]
        total = f32(_dsum(exps))
        return [f32(e / total) for e in exps]

    def _transform(self, margin: list[float]) -> list[float]:
        link = self.link
        if link == "sigmoid":
            return [self._sigmoid(margin[0])]
        if link == "softmax":
            return self._softmax(margin)
        if link == "exp":
            return [self.expf(margin[0])]
        return margin

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        out = []
        for row in rows:
            p = self._transform(self.margin(row))
            out.append(p if self.link == "softmax" else [self.f32(1.0 - p[0]), p[0]])
        return out

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.classes is None:
            return [self._transform(self.margin(row))[0] for row in rows]
        classes = self.classes
        out = []
        for p in self.predict_proba(rows):
            # binary: XGBoost's own rule (p > 0.5), not an argmax over float32 (1 - p, p)
            best = argmax(p) if self.link == "softmax" else int(p[1] > 0.5)
            out.append(classes[best])
        return out


_XGB_EXP_MAX = 88.69999694824219  # 88.7f
_XGB_MAX_CAT = 16777216.0  # common::OutOfRangeCat(): 2**24, the first invalid category
_XGB_EPS = 1.0000000168623835e-16  # 1e-16f


def _dsum(values: list[float]) -> float:
    total = 0.0  # a C double accumulating in order (sum() compensates since Python 3.12)
    for v in values:
        total += v
    return total


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    if node["op"] == "xgboost":
        return XGBoost(node, arrays, classes)
    return LightGBM(node, arrays, classes)
