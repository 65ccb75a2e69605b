"""Models made of models: a pipeline inside a model, voting, stacking, bagging, AdaBoost,
calibration, a transformed target, IsolationForest (pure Python around the parts' families)."""

from __future__ import annotations

from .transforms import chain
from .values import Model

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


def _part(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    from ..lean_predict import build_model

    return build_model(node, arrays, classes)


class Pipeline(Model):
    """Transforms then a model, where a model needs its own (HistGradientBoosting's encoder,
    a voting ensemble's pipelines)."""

    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.transform = chain(node["transforms"])
        self.model = _part(node["model"], arrays, classes)
        self.classes = classes

    def _rows(self, rows: list[Row]) -> list[Row]:
        return [self.transform(list(row)) for row in rows]

    def predict(self, rows: list[Row]) -> list[Any]:
        return self.model.predict(self._rows(rows))

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        return self.model.predict_proba(self._rows(rows))

    def decision(self, rows: list[Row]) -> list[list[float]]:
        return self.model.decision(self._rows(rows))


def _parts(node: dict[str, Any], arrays: dict[str, Any]) -> list[Model]:
    return [_part(p["model"], arrays, p["classes"]) for p in node["parts"]]


def _first_max(values: list[float]) -> int:
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best


def _index(part_classes: list[Any] | None) -> dict[Any, int]:
    # Parts are fitted on encoded labels 0..k-1: a part's label is a column of the ensemble.
    return {c: i for i, c in enumerate(part_classes or [])}


class Voting(Model):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        self.parts = _parts(node, arrays)
        self.weights: list[float] | None = node["weights"]
        self.soft: bool = node["soft"]
        self.classify: bool = node["classify"]

    def _average(self, columns: list[list[Any]]) -> list[Any]:
        """np.average over the parts (axis 0), element-wise for lists of probabilities."""
        weights = self.weights
        n = len(columns)
        first = columns[0]
        nested = isinstance(first[0], list)

        def combine(values: list[Any]) -> Any:
            if weights is None:
                total = values[0]
                for v in values[1:]:
                    total = total + v
                return total / n
            total = values[0] * weights[0]
            for v, w in zip(values[1:], weights[1:], strict=True):
                total = total + v * w
            return total / sum(weights)

        out = []
        for r in range(len(first)):
            if nested:
                width = len(first[r])
                out.append([combine([c[r][j] for c in columns]) for j in range(width)])
            else:
                out.append(combine([c[r] for c in columns]))
        return out

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        if not self.soft:
            raise TypeError("predict_proba is not available when voting='hard'")
        return self._average([part.predict_proba(rows) for part in self.parts])

    def predict(self, rows: list[Row]) -> list[Any]:
        if not self.classify:
            return self._average([part.predict(rows) for part in self.parts])
        classes = self.classes
        assert classes is not None
        if self.soft:
            return [classes[_first_max(p)] for p in self.predict_proba(rows)]
        votes = [part.predict(rows) for part in self.parts]
        weights = self.weights or [1.0] * len(self.parts)
        out = []
        for r in range(len(rows)):
            counts = [0.0] * len(classes)
            for column, w in zip(votes, weights, strict=True):
                counts[int(column[r])] += w
            out.append(classes[_first_max(counts)])
        return out


class Stacking(Model):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        self.parts = _parts(node, arrays)
        self.methods: list[str] = node["methods"]
        self.passthrough: bool = node["passthrough"]
        self.binary: bool = node["binary"]
        final = node["final"]
        self.final = _part(final["model"], arrays, final["classes"])
        self.final_classes = final["classes"]

    def _meta(self, rows: list[Row]) -> list[Row]:
        columns: list[list[list[float]]] = []
        for part, method in zip(self.parts, self.methods, strict=True):
            if method == "predict_proba":
                proba = part.predict_proba(rows)
                columns.append([p[1:] for p in proba] if self.binary else proba)
            elif method == "decision_function":
                columns.append(part.decision(rows))
            else:
                columns.append([[float(v)] for v in part.predict(rows)])
        out = []
        for r, row in enumerate(rows):
            meta: Row = []
            for column in columns:
                meta.extend(column[r])
            if self.passthrough:
                meta.extend(row)
            out.append(meta)
        return out

    def predict(self, rows: list[Row]) -> list[Any]:
        predictions = self.final.predict(self._meta(rows))
        if self.classes is None:
            return predictions
        return [self.classes[int(p)] for p in predictions]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        return self.final.predict_proba(self._meta(rows))


class Bagging(Model):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        self.parts = _parts(node, arrays)
        self.columns = [_index(p["classes"]) for p in node["parts"]]
        self.features: list[list[int]] = node["features"]
        self.classify: bool = node["classify"]
        self.proba: list[bool] = node["proba"]

    def _subset(self, rows: list[Row], features: list[int]) -> list[Row]:
        return [[row[j] for j in features] for row in rows]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        assert self.classes is not None
        k = len(self.classes)
        total = [[0.0] * k for _ in rows]
        for part, features, index, has_proba in zip(
            self.parts, self.features, self.columns, self.proba, strict=True
        ):
            subset = self._subset(rows, features)
            if has_proba:
                for r, p in enumerate(part.predict_proba(subset)):
                    for label, column in index.items():
                        total[r][int(label)] += p[column]
            else:
                for r, label in enumerate(part.predict(subset)):
                    total[r][int(label)] += 1
        n = len(self.parts)
        return [[v / n for v in row] for row in total]

    def predict(self, rows: list[Row]) -> list[Any]:
        if self.classify:
            classes = self.classes
            assert classes is not None
            return [classes[_first_max(p)] for p in self.predict_proba(rows)]
        total: list[Any] = [0 for _ in rows]
        for part, features in zip(self.parts, self.features, strict=True):
            for r, value in enumerate(part.predict(self._subset(rows, features))):
                total[r] = total[r] + value
        n = len(self.parts)
        return [t / n for t in total]


class TransformedTarget(Model):
    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        from .transforms_more import UFUNCS

        part = node["part"]
        self.model = _part(part["model"], arrays, part["classes"])
        inverse = node["inverse"]
        kind = inverse["kind"]
        if kind == "ufunc":
            self.inverse = UFUNCS[inverse["name"]]
        elif kind == "scale":
            scale, mean = inverse["scale"], inverse["mean"]

            def rescale(y: float) -> float:
                if scale is not None:
                    y = y * scale
                if mean is not None:
                    y = y + mean
                return y

            self.inverse = rescale
        elif kind == "minmax":
            low, width = inverse["min"], inverse["scale"]
            self.inverse = lambda y: (y - low) / width
        else:
            self.inverse = float

    def predict(self, rows: list[Row]) -> list[Any]:
        return [self.inverse(float(y)) for y in self.model.predict(rows)]


class AdaBoost(Model):
    """SAMME's weighted votes (classifier) or the weighted median (regressor)."""

    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        self.parts = _parts(node, arrays)
        self.weights: list[float] = node["weights"]
        self.weight_sum: float = node["weight_sum"]
        self.classify: bool = node["classify"]

    def decision(self, rows: list[Row]) -> list[list[float]]:
        classes = self.classes
        assert classes is not None
        k = len(classes)
        if k == 1:
            return [[0.0] for _ in rows]
        total: list[list[float]] | None = None
        for part, w in zip(self.parts, self.weights, strict=True):
            other = -1 / (k - 1) * w
            votes = [[w if label == c else other for c in classes] for label in part.predict(rows)]
            if total is None:
                total = votes
            else:
                total = [
                    [a + b for a, b in zip(t, v, strict=True)]
                    for t, v in zip(total, votes, strict=True)
                ]
        assert total is not None
        total = [[v / self.weight_sum for v in row] for row in total]
        if k == 2:
            return [[-row[0] + row[1]] for row in total]
        return total

    def predict(self, rows: list[Row]) -> list[Any]:
        if not self.classify:
            return self._median(rows)
        classes = self.classes
        assert classes is not None
        decision = self.decision(rows)
        if len(classes) == 2:
            return [classes[1] if d[0] > 0 else classes[0] for d in decision]
        return [classes[_first_max(d)] for d in decision]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        from .values import softmax

        classes = self.classes
        assert classes is not None
        k = len(classes)
        if k == 1:
            return [[1.0] for _ in rows]
        out = []
        for d in self.decision(rows):
            scores = [-d[0] / 2, d[0] / 2] if k == 2 else [v / (k - 1) for v in d]
            out.append(softmax(scores))
        return out

    def _median(self, rows: list[Row]) -> list[float]:
        columns = [part.predict(rows) for part in self.parts]
        out = []
        for r in range(len(rows)):
            values = [float(c[r]) for c in columns]
            order = sorted(range(len(values)), key=values.__getitem__)
            cdf, running = [], 0.0
            for i in order:
                running += self.weights[i]
                cdf.append(running)
            half = 0.5 * cdf[-1]
            at = next(j for j, c in enumerate(cdf) if c >= half)
            out.append(values[order[at]])
        return out


def _isotonic(calibrator: dict[str, Any], t: float) -> float:
    """IsotonicRegression.predict: clip, then scipy's interp1d (linear)."""
    from bisect import bisect_left

    x, y = calibrator["x"], calibrator["y"]
    if calibrator["clip"]:
        t = min(max(t, calibrator["low"]), calibrator["high"])
    if len(x) == 1:
        return y[0]
    hi = min(max(bisect_left(x, t), 1), len(x) - 1)
    lo = hi - 1
    slope = (y[hi] - y[lo]) / (x[hi] - x[lo])
    return slope * (t - x[lo]) + y[lo]


class Calibrated(Model):
    """CalibratedClassifierCV: each member's calibrated probabilities, averaged."""

    def __init__(self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None):
        self.classes = classes
        self.sigmoid = node["method"] == "sigmoid"
        self.members = [
            (
                _part(m["part"]["model"], arrays, m["part"]["classes"]),
                m["decision"],
                m["calibrators"],
                m["positions"],
            )
            for m in node["members"]
        ]

    def _member(self, member: Any, rows: list[Row]) -> list[list[float]]:
        from .values import expit

        model, decision, calibrators, positions = member
        k = len(self.classes or [])
        if decision:
            scores = model.decision(rows)
        else:
            proba = model.predict_proba(rows)
            scores = [[p[1]] for p in proba] if k == 2 else proba
        out = []
        for row in scores:
            p = [0.0] * k
            for index, value, calibrator in zip(positions, row, calibrators, strict=False):
                at = index + 1 if k == 2 else index
                if self.sigmoid:
                    p[at] = expit(-(calibrator["a"] * value + calibrator["b"]))
                else:
                    p[at] = _isotonic(calibrator, value)
            if k == 2:
                p[0] = 1.0 - p[1]
            else:
                total = sum(p)
                p = [v / total for v in p] if total != 0 else [1 / k] * k
            out.append([1.0 if 1.0 < v <= 1.0 + 1e-5 else v for v in p])
        return out

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        total: list[list[float]] | None = None
        for member in self.members:
            proba = self._member(member, rows)
            if total is None:
                total = [[0.0 + v for v in row] for row in proba]
            else:
                total = [
                    [a + b for a, b in zip(t, p, strict=True)]
                    for t, p in zip(total, proba, strict=True)
                ]
        n = len(self.members)
        return [[v / n for v in row] for row in total or []]

    def predict(self, rows: list[Row]) -> list[Any]:
        classes = self.classes
        assert classes is not None
        return [classes[_first_max(p)] for p in self.predict_proba(rows)]


_BUILDERS: dict[str, Any] = {
    "adaboost": AdaBoost,
    "calibrated": Calibrated,
    "pipeline": Pipeline,
    "voting": Voting,
    "stacking": Stacking,
    "bagging": Bagging,
    "transformed_target": TransformedTarget,
}


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> Model:
    return _BUILDERS[node["op"]](node, arrays, classes)
