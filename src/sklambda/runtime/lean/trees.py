"""Decision trees, forests and gradient boosting, numpy form: all trees walked together.

The stdlib form of the same models is :mod:`.tree_walk`; both give bit-identical outputs.
"""

from __future__ import annotations

from .matrices import NumpyModel
from .values import boosting_proba

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["build"]


class Trees:
    """All trees of an ensemble flattened into one set of node arrays."""

    def __init__(self, np: Any, arrays: dict[str, Any], key: str) -> None:
        self.np = np
        self.feature = arrays[f"{key}/feature"]
        self.threshold = arrays[f"{key}/threshold"]
        self.left = arrays[f"{key}/left"]
        self.right = arrays[f"{key}/right"]
        self.missing_left = arrays[f"{key}/missing_left"]
        self.value = arrays[f"{key}/value"]
        self.roots = arrays[f"{key}/roots"]

    def leaves(self, X: Any) -> Any:
        """Leaf index of every (row, tree) pair; all trees are walked together, level by level."""
        np = self.np
        # scikit-learn casts X to float32 and compares it with float64 thresholds.
        with np.errstate(over="ignore"):
            X32 = X.astype(np.float32)
        if np.isinf(X32).any():
            raise ValueError("Input X contains infinity or a value too large for dtype('float32')")
        n = X32.shape[0]
        node = np.broadcast_to(self.roots, (n, self.roots.shape[0])).copy()
        rows = np.arange(n)[:, np.newaxis]
        while True:
            left = self.left[node]
            active = left != -1
            if not active.any():
                return node
            feature = np.where(active, self.feature[node], 0)
            x = X32[rows, feature]
            go_left = x <= self.threshold[node]
            nan = np.isnan(x)
            if nan.any():
                go_left = np.where(nan, self.missing_left[node], go_left)
            node = np.where(active, np.where(go_left, left, self.right[node]), node)


class Forest(NumpyModel):
    """Decision trees and random / extra-trees forests: the mean of the trees' leaf values."""

    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        super().__init__(node, arrays, classes)
        self.trees = Trees(self.np, arrays, node["key"])
        self.average = node["average"]

    def raw(self, X: Any) -> Any:
        leaves = self.trees.leaves(X)
        value = self.trees.value
        if not self.average:
            return value[leaves[:, 0]].copy()
        # add.accumulate adds tree after tree (sum() may reorder into pairwise sums): the order
        # scikit-learn's forests accumulate in, so results are identical and ties break alike.
        total = self.np.add.accumulate(value[leaves.T], axis=0)[-1]
        total /= leaves.shape[1]
        return total

    def predict(self, rows: list[Row]) -> list[Any]:
        out = self.raw(self._matrix(rows))
        if self.classes is None:
            return out[:, 0].tolist()
        return [self.classes[i] for i in out.argmax(axis=1).tolist()]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        return self.raw(self._matrix(rows)).tolist()


class GradientBoosting(NumpyModel):
    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        super().__init__(node, arrays, classes)
        self.trees = Trees(self.np, arrays, node["key"])
        self.init = self.np.asarray(node["init"], dtype=self.np.float64)
        self.learning_rate = float(node["learning_rate"])
        self.k = int(node["trees_per_stage"])
        self.loss = node["loss"]

    def raw(self, X: Any) -> Any:
        np = self.np
        leaves = self.trees.leaves(X)
        value = self.trees.value[:, 0]
        n = X.shape[0]
        # Trees are stored stage-major (stage 0 class 0, stage 0 class 1, ...). add.accumulate
        # adds init, then stage after stage: the order of scikit-learn's predict_stages
        # (out += learning_rate * value), so the result is identical, not merely close.
        steps = (self.learning_rate * value[leaves.T]).reshape(-1, self.k, n).transpose(0, 2, 1)
        start = np.broadcast_to(self.init, (1, n, self.k))
        return np.add.accumulate(np.concatenate([start, steps]), axis=0)[-1]

    def predict(self, rows: list[Row]) -> list[Any]:
        raw = self.raw(self._matrix(rows))
        if self.classes is None:
            return raw[:, 0].tolist()
        if self.k == 1:
            return [self.classes[int(r >= 0)] for r in raw[:, 0].tolist()]
        return [self.classes[i] for i in raw.argmax(axis=1).tolist()]

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        # In Python from the raw scores, as the stdlib form does, so both give the same bits.
        raw = self.raw(self._matrix(rows)).tolist()
        return boosting_proba(raw, self.loss == "exponential")


def build(node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None) -> NumpyModel:
    if node["op"] == "forest":
        return Forest(node, arrays, classes)
    return GradientBoosting(node, arrays, classes)
