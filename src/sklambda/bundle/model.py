"""A loaded bundle: predict locally with the same validation the Lambda handler uses."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.runtime.contract import PredictRequest, RequestParser, plain, respond

if TYPE_CHECKING:
    import pandas as pd

    from sklambda.bundle.features import FeatureSpec
    from sklambda.bundle.format import Manifest
    from sklambda.runtime.contract import Row


class SklambdaVersionWarning(UserWarning):
    """The bundle was trained with other library versions than the ones loading it."""


class Model:
    """A fitted estimator with its manifest.

    Use :meth:`predict` with rows (objects by feature name, arrays in manifest order, or a
    DataFrame) and :meth:`respond` with a whole request in the HTTP contract's shapes.
    """

    def __init__(self, manifest: Manifest, estimator: Any, path: Path | None = None):
        self.manifest = manifest
        self.estimator = estimator
        self.path = path
        self.features: list[FeatureSpec] = manifest["features"]
        from sklambda.runtime.sklearn_predict import compares_as_float32

        self.parser = RequestParser.from_manifest(manifest, float32=compares_as_float32(estimator))
        self._warn_on_skew()

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def task(self) -> str:
        return str(self.manifest["task"])

    @property
    def classes(self) -> list[Any] | None:
        return self.manifest.get("classes")

    def _warn_on_skew(self) -> None:
        from sklambda.bundle.format import library_versions

        trained = self.manifest.get("versions", {})
        here = library_versions()
        skewed = [
            f"{lib} {trained[lib]} (here {here.get(lib, 'missing')})"
            for lib in ("sklearn", "numpy", "scipy")
            if lib in trained and trained[lib] != here.get(lib)
        ]
        if skewed:
            warnings.warn(
                f'bundle "{self.name}" was trained with {", ".join(skewed)}; predictions may '
                "differ. Retrain, or install the versions it was trained with",
                SklambdaVersionWarning,
                stacklevel=3,
            )

    # -- prediction --------------------------------------------------------------------------

    def _rows(self, rows: Any) -> list[Row]:
        """Validated rows from any input :meth:`predict` takes."""
        return self.parser.parse({"instances": self._listed(rows)}).rows

    def _listed(self, rows: Any) -> list[Any]:
        import pandas as pd

        from sklambda.runtime.contract import RequestError

        names = [f["name"] for f in self.features]
        if isinstance(rows, pd.Series):
            rows = rows.to_frame().T
        if isinstance(rows, pd.DataFrame):
            missing = [n for n in names if n not in rows.columns]
            if missing:
                raise RequestError(
                    "missing_feature",
                    f'feature "{missing[0]}" is missing; the model expects {names}',
                    field=missing[0],
                )
            picked = rows[names].astype(object)
            return [[plain(v) for v in row] for row in picked.where(picked.notna(), None).values]
        if isinstance(rows, dict):
            values = list(rows.values())
            if values and all(_is_column(v) for v in values):  # columns: {"rooms": [3, 4], ...}
                width = {len(v) for v in values}
                if len(width) != 1:
                    raise RequestError(
                        "wrong_length", "the columns given as a dict differ in length"
                    )
                keys = list(rows)
                columns = [list(v) for v in values]
                return [
                    {k: plain(c[i]) for k, c in zip(keys, columns, strict=True)}
                    for i in range(width.pop())
                ]
            return [{k: plain(v) for k, v in rows.items()}]  # one row by feature name
        if hasattr(rows, "ndim") and hasattr(rows, "tolist"):  # a numpy array
            if rows.ndim == 1:
                raise RequestError(
                    "invalid_type",
                    f"a 1-D array of {rows.shape[0]} values is ambiguous; pass a 2-D array "
                    f"(one row of {len(names)} values per line: array.reshape(1, -1) for one row)",
                )
            return _none_for_nan(rows.tolist())
        listed = list(rows)
        return [
            {k: plain(v) for k, v in row.items()}
            if isinstance(row, dict)
            else [plain(v) for v in row]
            if isinstance(row, list | tuple) or hasattr(row, "tolist")
            else row
            for row in listed
        ]

    def _model_input(self, rows: list[Row]) -> pd.DataFrame | Any:
        from sklambda.bundle.features import frame_from_rows

        frame = frame_from_rows(rows, self.features)
        if getattr(self.estimator, "feature_names_in_", None) is None:
            # Fitted on bare arrays (e.g. an imported tutorial pickle): give it arrays, in order.
            return frame.to_numpy(dtype=float)
        return frame

    def _predict_rows(self, rows: list[Row]) -> list[Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's warnings are ours to translate, not show
            return list(self.estimator.predict(self._model_input(rows)))

    def _proba_rows(self, rows: list[Row]) -> list[list[float]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [
                [float(p) for p in r] for r in self.estimator.predict_proba(self._model_input(rows))
            ]

    def predict(self, rows: Any) -> list[Any]:
        """Predictions for rows, given as any of:

        - a list of dicts by feature name, or of lists/tuples in manifest order;
        - a 2-D numpy array (columns in manifest order; NaN is a missing value);
        - a pandas DataFrame (columns by name, extra ones ignored) or Series (one row);
        - a dict: one row by feature name, or columns ``{"rooms": [3, 4], ...}``.
        """
        return [plain(p) for p in self._predict_rows(self._rows(rows))]

    def predict_proba(self, rows: Any) -> list[list[float]]:
        """Class probabilities (columns in ``classes`` order) for a classifier."""
        if not self.manifest.get("probabilities"):
            raise TypeError(f'model "{self.name}" does not give probabilities')
        return self._proba_rows(self._rows(rows))

    def respond(self, request: Any) -> dict[str, Any]:
        """Answer a request in any of the contract's shapes, as the Lambda handler would."""
        parsed: PredictRequest = self.parser.parse(request)
        return respond(parsed, _RowPredictor(self), classes=self.classes, model=self.card_ref())

    def card_ref(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.manifest.get("version")}


def _is_column(value: Any) -> bool:
    return isinstance(value, list | tuple) or (getattr(value, "ndim", 0) == 1)


def _none_for_nan(rows: list[Any]) -> list[Any]:
    """NaN in a float array is how numpy spells a missing value: null for the contract."""
    return [[None if isinstance(v, float) and v != v else v for v in row] for row in rows]


class _RowPredictor:
    """Adapts a Model to the contract's Predictor protocol (rows already validated)."""

    def __init__(self, model: Model):
        self.model = model

    def predict(self, rows: list[Row]) -> list[Any]:
        return self.model._predict_rows(rows)

    def predict_proba(self, rows: list[Row]) -> list[list[float]]:
        return self.model._proba_rows(rows)
