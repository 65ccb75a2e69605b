"""Support vector machines in pure Python, the way libsvm (as vendored by scikit-learn)
predicts: kernel values against every support vector, one-vs-one decision values, votes for
the label, Platt's sigmoid and pairwise coupling for probabilities."""

from __future__ import annotations

import math
from operator import mul

from .values import Model, check_finite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


def _powi(base: float, times: int) -> float:
    # libsvm's powi: exponentiation by squaring, in its order of multiplications.
    tmp, ret = base, 1.0
    t = times
    while t > 0:
        if t % 2 == 1:
            ret *= tmp
        tmp = tmp * tmp
        t //= 2
    return ret


def _kernel(node: dict[str, Any]) -> Callable[[list[float], list[float]], float]:
    kind, gamma, coef0, degree = node["kernel"], node["gamma"], node["coef0"], node["degree"]
    if kind == "linear":
        return lambda x, sv: sum(map(mul, x, sv))
    if kind == "poly":
        return lambda x, sv: _powi(gamma * sum(map(mul, x, sv)) + coef0, degree)
    if kind == "sigmoid":
        return lambda x, sv: math.tanh(gamma * sum(map(mul, x, sv)) + coef0)

    def rbf(x: list[float], sv: list[float]) -> float:
        d = math.dist(x, sv)  # C speed; libsvm sums squares, equal to ~1e-16
        return math.exp(-gamma * (d * d))

    return rbf


def _sigmoid_predict(value: float, a: float, b: float) -> float:
    f = value * a + b
    if f >= 0:
        e = math.exp(-f)
        return e / (1.0 + e)
    return 1.0 / (1 + math.exp(f))


def _multiclass_probability(k: int, r: list[list[float]]) -> list[float]:
    """libsvm's multiclass_probability (Wu, Lin and Weng's second method), step for step."""
    max_iter = max(100, k)
    eps = 0.005 / k
    p = [1.0 / k] * k
    Q = [[0.0] * k for _ in range(k)]
    for t in range(k):
        for j in range(t):
            Q[t][t] += r[j][t] * r[j][t]
            Q[t][j] = Q[j][t]
        for j in range(t + 1, k):
            Q[t][t] += r[j][t] * r[j][t]
            Q[t][j] = -r[j][t] * r[t][j]
    Qp = [0.0] * k
    for _ in range(max_iter):
        pQp = 0.0
        for t in range(k):
            Qp[t] = 0.0
            for j in range(k):
                Qp[t] += Q[t][j] * p[j]
            pQp += p[t] * Qp[t]
        max_error = 0.0
        for t in range(k):
            error = abs(Qp[t] - pQp)
            if error > max_error:
                max_error = error
        if max_error < eps:
            break
        for t in range(k):
            diff = (-Qp[t] + pQp) / Q[t][t]
            p[t] += diff
            pQp = (pQp + diff * (diff * Q[t][t] + 2 * Qp[t])) / (1 + diff) / (1 + diff)
            for j in range(k):
                Qp[j] = (Qp[j] + diff * Q[t][j]) / (1 + diff)
                p[j] /= 1 + diff
    return p


class SVM(Model):
    def __init__(self, node: dict[str, Any], classes: list[Any] | None) -> None:
        self.classes = classes
        self.kernel = _kernel(node)
        self.sv: list[list[float]] = node["support_vectors"]
        self.coef: list[list[float]] = node["dual_coef"]
        self.intercept: list[float] = node["intercept"]
        self.n_support: list[int] = node["n_support"]
        self.classify: bool = node["classify"]
        self.prob_a, self.prob_b = node["prob_a"], node["prob_b"]
        self.ovr: bool = node.get("ovr", True)  # decision_function_shape
        self.one_class: bool = node.get("one_class", False)
        starts = [0]
        for n in self.n_support[:-1]:
            starts.append(starts[-1] + n)
        self.starts = starts
        self.width = len(self.sv[0]) if self.sv else 0

    def _kvalues(self, row: Row) -> list[float]:
        x = check_finite(row, self.width)
        kernel = self.kernel
        return [kernel(x, sv) for sv in self.sv]

    def _pairwise(self, kvalue: list[float]) -> list[float]:
        """libsvm's decision values, one per pair of classes (i < j)."""
        k = len(self.n_support)
        out = []
        p = 0
        for i in range(k):
            for j in range(i + 1, k):
                si, sj = self.starts[i], self.starts[j]
                ci, cj = self.n_support[i], self.n_support[j]
                coef1, coef2 = self.coef[j - 1], self.coef[i]
                total = 0.0
                for m in range(ci):
                    total += coef1[si + m] * kvalue[si + m]
                for m in range(cj):
                    total += coef2[sj + m] * kvalue[sj + m]
                # libsvm subtracts rho; scikit-learn's _intercept_ is -rho
                out.append(total - -self.intercept[p])
                p += 1
        return out

    def _value(self, row: Row) -> float:
        """A regression's prediction, a one-class SVM's decision value."""
        total = 0.0
        for c, v in zip(self.coef[0], self._kvalues(row), strict=True):
            total += c * v
        return total - -self.intercept[0]

    def predict(self, rows: list[Row]) -> list[Any]:
        if not self.classify:
            out = [self._value(row) for row in rows]
            if self.one_class:  # libsvm: 1 inside the learned region, -1 outside
                return [1 if v > 0 else -1 for v in out]
            return out
        classes = self.classes
        assert classes is not None
        k = len(self.n_support)
        labels = []
        for row in rows:
            decisions = self._pairwise(self._kvalues(row))
            votes = [0] * k
            p = 0
            for i in range(k):
                for j in range(i + 1, k):
                    if decisions[p] > 0:
                        votes[i] += 1
                    else:
                        votes[j] += 1
                    p += 1
            best = 0
            for i in range(1, k):
                if votes[i] > votes[best]:
                    best = i
            labels.append(classes[best])
        return labels

    def decision(self, rows: list[Row]) -> list[list[float]]:
        """scikit-learn's ``decision_function``: the negated pair value for two classes, the
        pairwise values (``ovo``) or votes plus squashed confidences (``ovr``) for more."""
        if not self.classify:
            return [[self._value(row)] for row in rows]
        k = len(self.n_support)
        out = []
        for row in rows:
            decisions = self._pairwise(self._kvalues(row))
            if k == 2:
                out.append([-decisions[0]])
                continue
            if not self.ovr:
                out.append(decisions)
                continue
            votes = [0.0] * k
            sums = [0.0] * k
            p = 0
            for i in range(k):
                for j in range(i + 1, k):
                    sums[i] -= -decisions[p]
                    sums[j] += -decisions[p]
                    votes[j if decisions[p] < 0 else i] += 1
                    p += 1
            out.append([v + s / (3 * (abs(s) + 1)) for v, s in zip(votes, sums, strict=True)])
        return out

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        if self.prob_a is None or self.prob_b is None:
            raise TypeError("this SVC was fitted without probability=True")
        k = len(self.n_support)
        min_prob = 1e-7
        out = []
        for row in rows:
            decisions = self._pairwise(self._kvalues(row))
            r = [[0.0] * k for _ in range(k)]
            p = 0
            for i in range(k):
                for j in range(i + 1, k):
                    s = _sigmoid_predict(decisions[p], self.prob_a[p], self.prob_b[p])
                    r[i][j] = min(max(s, min_prob), 1 - min_prob)
                    r[j][i] = 1 - r[i][j]
                    p += 1
            # scikit-learn's libsvm couples pairwise probabilities for two classes too.
            out.append(_multiclass_probability(k, r))
        return out


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    return SVM(node, classes)
