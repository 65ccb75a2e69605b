"""The base of models evaluated on a float64 numpy matrix (numpy imported on first use)."""

from __future__ import annotations

from .values import Model, to_float

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Row = list[Any]

__all__ = ["NumpyModel"]


class NumpyModel(Model):
    """Base for models evaluated on a float64 matrix (imports numpy on first use)."""

    def __init__(
        self, node: dict[str, Any], arrays: dict[str, Any], classes: list[Any] | None
    ) -> None:
        import numpy

        self.np = numpy
        self.allow_nan: bool = node.get("allow_nan", False)
        self.classes = classes
        self.node = node
        self.arrays = arrays
        self.n_features: int | None = node.get("n_features")

    def _matrix(self, rows: list[Row]) -> Any:
        np = self.np
        X = np.array([[to_float(v) for v in row] for row in rows], dtype=np.float64)
        if X.ndim != 2:
            X = X.reshape(len(rows), -1)
        if self.n_features is not None and X.shape[1] != self.n_features:
            raise ValueError(
                f"the model expects {self.n_features} values after preprocessing, got {X.shape[1]}"
            )
        if not self.allow_nan and np.isnan(X).any():
            raise ValueError("Input X contains NaN; the model does not accept missing values")
        if np.isinf(X).any():
            raise ValueError("Input X contains infinity or a value too large for dtype('float64')")
        return X

    def raw(self, X: Any) -> Any:
        raise NotImplementedError
