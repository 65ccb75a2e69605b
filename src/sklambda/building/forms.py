"""Let a model fitted on a DataFrame predict from plain arrays, so Lambda needs no pandas.

scikit-learn's ColumnTransformer selects columns by name, which only a DataFrame has; pandas
would add ~60 MB to a layer that must stay under 250 MB. A copy of the fitted model is given
integer column positions instead (the manifest fixes the feature order), and the feature-name
bookkeeping that would warn on arrays is dropped. `building` proves the copy predicts exactly what
the original does before anything ships.
"""

from __future__ import annotations

import copy
from typing import Any


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
