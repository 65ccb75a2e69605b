"""The runtime forms a model ships in, and the choice between them.

The lean form (:mod:`sklambda.lean`) is plain parameters; the scikit-learn form is the fitted
model itself, adapted to predict from plain arrays so Lambda needs no pandas.

scikit-learn's ColumnTransformer selects columns by name, which only a DataFrame has; pandas
would add ~60 MB to a layer that must stay under 250 MB. A copy of the fitted model is given
integer column positions instead (the manifest fixes the feature order), and the feature-name
bookkeeping that would warn on arrays is dropped. `building` proves the copy predicts exactly what
the original does before anything ships.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sklambda.bundle.persistence import EXTRAS
from sklambda.errors import BuildError, Option

if TYPE_CHECKING:
    from sklambda.building.probe import Probe
    from sklambda.bundle.format import Manifest
    from sklambda.bundle.model import Model

RUNTIMES = ("auto", "lean", "sklearn")


def _positions(columns: Any, index: dict[str, int]) -> Any:
    if isinstance(columns, str):
        return index[columns]
    if isinstance(columns, list | tuple) and columns and all(isinstance(c, str) for c in columns):
        return [index[c] for c in columns]
    if hasattr(columns, "dtype") and getattr(columns.dtype, "kind", "") in "OU":
        return [index[str(c)] for c in columns]
    return columns  # already positions, a slice, a boolean mask, or empty


def _adapt(estimator: Any, names: list[str]) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps:
            if step is not None and step != "passthrough":
                _adapt(step, names)  # only the first real step sees the raw columns
                break
        return
    if isinstance(estimator, ColumnTransformer) and hasattr(estimator, "feature_names_in_"):
        index = {name: i for i, name in enumerate(names)}
        estimator.transformers_ = [
            (name, transformer, _positions(columns, index))
            for name, transformer, columns in estimator.transformers_
        ]
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def adapt_for_arrays(estimator: Any, feature_names: list[str]) -> Any:
    """A copy of ``estimator`` that takes arrays with columns in ``feature_names`` order."""
    adapted = copy.deepcopy(estimator)
    _adapt(adapted, list(feature_names))
    return adapted


@dataclass
class Form:
    """The runtime a package uses, the model in that runtime's form, and what its layer needs."""

    runtime: str  # "lean" | "sklearn"
    model: Any
    requirements: list[str]
    slim_rules: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def _lean(model: Model, rows: list[dict[str, Any]], numpy: bool | None = None) -> tuple[Any, str]:
    """``(lean model, "")`` when the lean form reproduces scikit-learn, else ``(None, why)``."""
    from sklambda.bundle.features import frame_from_rows
    from sklambda.lean.compiler import LeanUnsupportedError, check_equivalence, compile_estimator

    names = [f["name"] for f in model.features]
    try:
        lean = compile_estimator(model.estimator, names, numpy=numpy)
    except LeanUnsupportedError as exc:
        return None, str(exc)
    frame = frame_from_rows([[r[n] for n in names] for r in rows], model.features)
    report = check_equivalence(model.estimator, lean, frame)
    if not report.ok:
        return None, f"the lean form does not reproduce scikit-learn: {report.detail}"
    return lean, ""


def _adapted(model: Model, probe: Probe) -> Any:
    """The array-taking copy of the model, proven in process to predict what it predicts."""
    from sklambda.lean.equivalence import compare
    from sklambda.runtime.sklearn_predict import SklearnPredictor

    adapted = adapt_for_arrays(model.estimator, [f["name"] for f in model.features])
    predictor = SklearnPredictor(adapted, [f["type"] for f in model.features])
    got = predictor.predict(probe.ordered)
    found = compare(model.task, got, model.predict(probe.rows))
    if not found.ok:
        raise BuildError(f"the model cannot be served from plain arrays: {found.problem}")
    return adapted


def pinned(manifest: Manifest) -> list[str]:
    """The scikit-learn layer's requirements: the versions the model was trained with."""
    versions = manifest.get("versions", {})
    missing = [lib for lib in ("sklearn", "numpy", "scipy") if not versions.get(lib)]
    if missing:
        raise BuildError(
            f"the bundle does not record the {', '.join(missing)} version it was trained with; "
            "retrain or re-save it with this sklambda"
        )
    return [
        f"scikit-learn=={versions['sklearn']}",
        f"numpy=={versions['numpy']}",
        f"scipy=={versions['scipy']}",
    ]


# Libraries whose models only the lean runtime serves: the scikit-learn layer carries
# scikit-learn, numpy and scipy, pinned to the bundle's versions, and nothing else.
LEAN_ONLY_LIBRARIES = tuple(EXTRAS)  # xgboost, lightgbm


def lean_only_library(estimator: Any) -> str | None:
    """``"xgboost"`` or ``"lightgbm"`` when the model holds one of their estimators."""
    parts = [estimator]
    # A model of the user's own may not list its parameters: then only its own type counts.
    with contextlib.suppress(Exception):
        parts.extend(estimator.get_params(deep=True).values())
    for part in parts:
        library = type(part).__module__.split(".", 1)[0]
        if library in LEAN_ONLY_LIBRARIES:
            return library
    return None


def _lean_only_refusal(library: str, why_not: str | None) -> BuildError:
    """Why a booster model cannot be built for the scikit-learn runtime, in one line."""
    layer = f"the scikit-learn runtime's layer carries scikit-learn, numpy and scipy, not {library}"
    if why_not is None:
        return BuildError(
            f"{layer}: build this model with {{0}} (its trees compiled to plain Python, proven "
            f"equal to {library}'s own predictions); nothing was written",
            Option("runtime", "lean"),
        )
    # no options: the message is not formatted, so why_not's braces stay as they are
    return BuildError(f"{why_not}; and {layer}, so this model cannot be built; nothing was written")


def choose_form(
    model: Model,
    probe: Probe,
    runtime: str,
    slim_rules: tuple[str, ...],
    numpy: bool | None = None,
) -> Form:
    """The lean form when asked for (or ``auto``) and it reproduces the model, else sklearn's.

    XGBoost and LightGBM models have the lean form only (:data:`LEAN_ONLY_LIBRARIES`).
    """
    notes: list[str] = []
    library = lean_only_library(model.estimator)
    if library is not None and runtime == "sklearn":
        raise _lean_only_refusal(library, None)
    if runtime in ("auto", "lean"):
        lean, why_not = _lean(model, probe.rows, numpy)
        if lean is not None:
            lean_notes = list(lean.spec.get("notes", []))  # e.g. a large stored kNN set
            # The numpy layer, slimmed by the scikit-learn layer's rules over the lean runtime's
            # import trace, and of numpy's extension modules those never loaded.
            from sklambda.building.slim import numpy_rules

            numpy_slim = numpy_rules(slim_rules)
            if not lean.needs_numpy:
                return Form("lean", lean, [], (), lean_notes)
            return Form("lean", lean, ["numpy"], numpy_slim if slim_rules else (), lean_notes)
        if library is not None:
            raise _lean_only_refusal(library, why_not)
        if runtime == "lean":
            raise BuildError(
                f"{why_not}; build it with {{0}} (or auto); nothing was written",
                Option("runtime", "sklearn"),
            )
        notes.append(f"lean runtime not possible ({why_not})")
    adapted = _adapted(model, probe)
    return Form("sklearn", adapted, pinned(model.manifest), slim_rules, notes)
