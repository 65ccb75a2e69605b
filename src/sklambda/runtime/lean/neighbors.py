"""k-nearest neighbours in pure Python: brute force over the stored training rows, or the
model's own KD or ball tree walked as scikit-learn walks it.

Brute force: distances are ``sum(|x - t| ** p) ** (1 / p)`` (``math.dist`` for p = 2); equal
distances keep the training order. Through a tree, equally distant rows are kept or dropped as
scikit-learn's search keeps or drops them.
"""

from __future__ import annotations

import heapq
from math import dist, inf, sqrt

from .values import Model, check_finite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


# Nearest distances closer than this (relative) may order differently under another rounding
# (math.dist against scikit-learn's sum of squares: a few ulps apart, ~1e-16).
_APART = 1e-9


def _heap_push(values: list[float], indices: list[int], val: float, index: int) -> None:
    """scikit-learn's fixed-size max-heap push (``sklearn/utils/_heap.pyx``), line by line:
    which of several equally distant rows stay among the k nearest depends on it."""
    if val >= values[0]:
        return
    size = len(values)
    current = 0
    while True:
        left = 2 * current + 1
        right = left + 1
        if left >= size:
            break
        if right >= size:
            if values[left] > val:
                swap = left
            else:
                break
        elif values[left] >= values[right]:
            if val < values[left]:
                swap = left
            else:
                break
        elif val < values[right]:
            swap = right
        else:
            break
        values[current] = values[swap]
        indices[current] = indices[swap]
        current = swap
    values[current] = val
    indices[current] = index


def _nearest_first(values: list[float], indices: list[int]) -> tuple[list[float], list[int]]:
    """The heap's rows by distance (a stable sort: equal distances keep their heap order)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    return [values[j] for j in order], [indices[j] for j in order]


def _pairwise_sum(a: list[float]) -> float:
    """numpy's pairwise summation of a row (``np.sum(..., axis=1)``), operation by operation."""
    n = len(a)
    if n < 8:
        total = 0.0
        for v in a:
            total += v
        return total
    if n <= 128:
        r = a[:8]
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for v in a[i:]:
            total += v
        return total
    half = n // 2
    half -= half % 8
    return _pairwise_sum(a[:half]) + _pairwise_sum(a[half:])


class _Tree:
    """The model's KD or ball tree, searched depth first as scikit-learn's ``query`` does
    (``sklearn/neighbors/_binary_tree.pxi.tp``), in reduced distances computed as its
    distance metrics compute them."""

    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], rows: list[list[float]]):
        base = f"{node['key']}/tree/"
        self.rows = rows
        self.idx: list[int] = arrays[base + "idx"].tolist()
        self.start: list[int] = arrays[base + "start"].tolist()
        self.end: list[int] = arrays[base + "end"].tolist()
        self.leaf: list[int] = arrays[base + "leaf"].tolist()
        self.radius: list[float] = arrays[base + "radius"].tolist()
        width = node["n_features"]
        flat = arrays[base + "bounds"].tolist()
        bounds = [flat[i : i + width] for i in range(0, len(flat), width)]
        n_nodes = len(self.start)
        self.kd = node["tree"] == "kd_tree"
        self.low, self.high = bounds[:n_nodes], bounds[n_nodes:]  # ball: centroids, none
        self.chebyshev = node["metric"] == "chebyshev"
        self.p: float = node["p"]

    def rdist(self, x: list[float], t: list[float]) -> float:
        d = 0.0
        if self.chebyshev:
            for a, b in zip(x, t, strict=True):
                d = max(d, abs(a - b))
        elif self.p == 2.0:
            for a, b in zip(x, t, strict=True):
                tmp = a - b
                d += tmp * tmp
        elif self.p == 1.0:
            for a, b in zip(x, t, strict=True):
                d += abs(a - b)
        else:
            p = self.p
            for a, b in zip(x, t, strict=True):
                d += abs(a - b) ** p
        return d

    def to_dist(self, r: float) -> float:
        if self.chebyshev or self.p == 1.0:
            return r
        return sqrt(r) if self.p == 2.0 else r ** (1.0 / self.p)

    def min_rdist(self, node: int, x: list[float]) -> float:
        if not self.kd:  # ball: the distance to the centroid less the radius, reduced
            gap = max(0.0, self.to_dist(self.rdist(x, self.low[node])) - self.radius[node])
            if self.chebyshev or self.p == 1.0:
                return gap
            return gap * gap if self.p == 2.0 else gap**self.p
        r = 0.0
        p = self.p
        for lo, hi, v in zip(self.low[node], self.high[node], x, strict=True):
            d_lo = lo - v
            d_hi = v - hi
            d = (d_lo + abs(d_lo)) + (d_hi + abs(d_hi))
            if self.chebyshev:
                r = max(r, 0.5 * d)
            else:
                r += (0.5 * d) ** p
        return r

    def query(self, x: list[float], k: int) -> tuple[list[float], list[int]]:
        values = [inf] * k
        indices = [0] * k
        rows, idx = self.rows, self.idx
        todo = [(0, self.min_rdist(0, x))]
        while todo:
            node, bound = todo.pop()
            if bound > values[0]:
                continue
            if self.leaf[node]:
                for i in idx[self.start[node] : self.end[node]]:
                    _heap_push(values, indices, self.rdist(x, rows[i]), i)
                continue
            first, second = 2 * node + 1, 2 * node + 2
            bound_first, bound_second = self.min_rdist(first, x), self.min_rdist(second, x)
            if bound_first <= bound_second:  # nearer child first: pushed last
                todo += [(second, bound_second), (first, bound_first)]
            else:
                todo += [(first, bound_first), (second, bound_second)]
        values, indices = _nearest_first(values, indices)
        return [self.to_dist(v) for v in values], indices


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
        self.tree = _Tree(node, arrays, self.rows) if node.get("tree") else None

    def _neighbors(self, row: Row) -> tuple[list[float], list[int]]:
        x = check_finite(row, self.width)
        if self.tree is not None:
            untied = self._untied(x, self.tree)
            return untied if untied is not None else self.tree.query(x, self.k)
        reduced = self._reduced(x)
        p = self.p
        # Training rows in order through scikit-learn's heap, as its brute-force search pushes
        # them (with one thread: more split the rows, which may keep other equally near ones).
        k = min(self.k, len(reduced))
        values, best = [inf] * k, [0] * k
        for i, r in enumerate(reduced):
            if r < values[0]:
                _heap_push(values, best, r, i)
        best = _nearest_first(values, best)[1]
        if self.metric == "chebyshev" or p == 1.0 or p == 2.0:
            distances = [reduced[i] for i in best]
        else:
            distances = [reduced[i] ** (1.0 / p) for i in best]
        return distances, best

    def _untied(self, x: list[float], tree: _Tree) -> tuple[list[float], list[int]] | None:
        """The tree search's answer without the walk, when the walk cannot change it: the k + 1
        nearest rows (by the fast distances of :meth:`_reduced`) lie further apart than any
        rounding, so every exact search keeps the same k rows in the same order. Their
        distances are then computed as the tree computes them. None when rows are (nearly)
        tied: only the tree's own order decides which of them stay."""
        reduced = self._reduced(x)
        k = self.k
        if k >= len(reduced):
            return None
        nearest = heapq.nsmallest(k + 1, range(len(reduced)), key=reduced.__getitem__)
        ranked = [reduced[i] for i in nearest]
        if any(ranked[i + 1] - ranked[i] <= _APART * ranked[i + 1] for i in range(k)):
            return None
        best = nearest[:k]
        return [tree.to_dist(tree.rdist(x, self.rows[i])) for i in best], best

    def _reduced(self, x: list[float]) -> list[float]:
        """Every training row's distance to ``x``, or a monotone function of it."""
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
        return reduced

    def _weights(self, distances: list[float]) -> list[float] | None:
        if not self.distance_weights:
            return None
        if any(d == 0.0 for d in distances):  # exact matches take all the weight
            return [1.0 if d == 0.0 else 0.0 for d in distances]
        return [1.0 / d for d in distances]

    def _weighted_mode(self, row: Row) -> int:
        """scikit-learn's ``weighted_mode``: per class, its neighbours' weights (zeros for the
        others, in distance order) summed as numpy sums; the first largest wins."""
        distances, index = self._neighbors(row)
        weights = self._weights(distances)
        assert weights is not None
        labels = [self.y[i] for i in index]
        best, most = 0, 0.0
        for c in sorted(set(labels)):
            template = [w if y == c else 0.0 for y, w in zip(labels, weights, strict=True)]
            count = _pairwise_sum(template)
            if count > most:
                best, most = c, count
        return best

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.classify and self.distance_weights:
            assert self.classes is not None
            return [self.classes[self._weighted_mode(row)] for row in rows]
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
