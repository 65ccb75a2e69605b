"""Naive Bayes in pure Python: joint log-likelihoods per class, labels by argmax,
probabilities by ``exp(jll - logsumexp(jll))`` as scikit-learn's ``predict_proba``."""

from __future__ import annotations

import math
from operator import mul

from .values import Model, argmax, check_finite, logsumexp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


class NaiveBayes(Model):
    def __init__(self, node: dict[str, Any], classes: list[Any]) -> None:
        self.classes = classes
        self.labels: list[Any] = classes
        self.kind = node["kind"]
        self.node = node

    def _gaussian(self, x: list[float]) -> list[float]:
        node = self.node
        out = []
        for prior, const, theta, var in zip(
            node["prior"], node["const"], node["theta"], node["var"], strict=True
        ):
            if len(x) != len(theta):
                raise ValueError(
                    f"the model expects {len(theta)} values after preprocessing, got {len(x)}"
                )
            total = 0.0
            for a, m, v in zip(x, theta, var, strict=True):
                total += ((a - m) ** 2) / v
            out.append(prior + (const - 0.5 * total))
        return out

    def _categorical(self, x: list[float]) -> list[float]:
        tables = self.node["categorical"]
        if len(x) != len(tables):
            raise ValueError(f"the model expects {len(tables)} values, got {len(x)}")
        jll = [0.0] * len(self.labels)
        for value, table in zip(x, tables, strict=True):
            index = int(value)
            if index != value or index < 0 or index >= len(table[0]):
                raise ValueError(f"category {value!r} was not seen at fit (index out of bounds)")
            for c in range(len(jll)):
                jll[c] += table[c][index]
        return [j + b for j, b in zip(jll, self.node["bias"], strict=True)]

    def jll(self, row: Row) -> list[float]:
        x = check_finite(row)
        if self.kind == "GaussianNB":
            return self._gaussian(x)
        if self.kind == "CategoricalNB":
            return self._categorical(x)
        weights = self.node["weights"]
        if len(x) != len(weights[0]):
            raise ValueError(
                f"the model expects {len(weights[0])} values after preprocessing, got {len(x)}"
            )
        if self.kind == "BernoulliNB":
            threshold = self.node["binarize"]
            if threshold is not None:
                x = [1.0 if v > threshold else 0.0 for v in x]
        elif any(v < 0 for v in x):
            raise ValueError(f"Negative values in data passed to {self.kind} (input X)")
        return [sum(map(mul, x, w)) + b for w, b in zip(weights, self.node["bias"], strict=True)]

    def predict(self, rows: list[Row]) -> list[Any]:
        return [self.labels[argmax(self.jll(row))] for row in rows]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        out = []
        for row in rows:
            jll = self.jll(row)
            norm = logsumexp(jll)
            out.append([math.exp(j - norm) for j in jll])
        return out


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    if classes is None:
        raise ValueError("a naive Bayes model needs classes")
    return NaiveBayes(node, classes)
