"""Multi-layer perceptrons (numpy): ``a @ coef + intercept`` and the activation, layer by layer."""

from __future__ import annotations

from .matrices import NumpyModel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


class MLP(NumpyModel):
    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        super().__init__(node, arrays, classes)
        n = node["n_layers"]
        self.coefs = [arrays[f"{node['key']}/coef/{i}"] for i in range(n)]
        self.intercepts = [arrays[f"{node['key']}/intercept/{i}"] for i in range(n)]
        self.hidden = node["activation"]
        self.output = node["out_activation"]

    def _activate(self, name: str, a: Any) -> Any:
        np = self.np
        if name == "identity":
            return a
        if name == "logistic":
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(-a))
        if name == "tanh":
            return np.tanh(a)
        if name == "relu":
            return np.maximum(a, 0)
        if name == "softmax":
            shifted = a - a.max(axis=1)[:, np.newaxis]
            e = np.exp(shifted)
            e /= e.sum(axis=1)[:, np.newaxis]
            return e
        raise ValueError(f"unknown activation {name!r}")

    def raw(self, X: Any) -> Any:
        a = X
        last = len(self.coefs) - 1
        for i, (coef, intercept) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            a = a @ coef
            a += intercept
            a = self._activate(self.hidden if i != last else self.output, a)
        return a

    def predict(self, rows: list[Row]) -> list[Any]:
        out = self.raw(self._matrix(rows))
        if self.classes is None:
            return (out.ravel() if out.shape[1] == 1 else out).tolist()
        if out.shape[1] == 1:
            # LabelBinarizer.inverse_transform thresholds at (pos_label + neg_label) / 2.
            return [self.classes[int(p > 0.5)] for p in out[:, 0].tolist()]
        return [self.classes[i] for i in out.argmax(axis=1).tolist()]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        out = self.raw(self._matrix(rows))
        if out.shape[1] == 1:
            p = out[:, 0]
            return self.np.vstack([1 - p, p]).T.tolist()
        return out.tolist()


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> NumpyModel:
    return MLP(node, arrays, classes)
