"""More transformers for the lean runtime: encoders, projections, feature maps and selectors.

Each function reads a fitted transformer into one or more transform nodes of
``runtime/lean/transforms``; :data:`TRANSFORMS` maps class names to them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from sklambda.lean.compiler import (
    _compile_transform,
    _floats,
    _join,
    _plain,
    _unsupported,
    weighted,
)

__all__ = ["TRANSFORMS", "UFUNCS", "compile_selector"]

# The numpy functions a FunctionTransformer may apply (the runtime has a math twin of each).
UFUNCS = (
    "abs",
    "absolute",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "cbrt",
    "ceil",
    "conjugate",
    "cos",
    "cosh",
    "deg2rad",
    "degrees",
    "exp",
    "exp2",
    "expm1",
    "fabs",
    "floor",
    "isfinite",
    "isinf",
    "isnan",
    "log",
    "log10",
    "log1p",
    "log2",
    "logical_not",
    "negative",
    "positive",
    "rad2deg",
    "radians",
    "reciprocal",
    "rint",
    "sign",
    "signbit",
    "sin",
    "sinh",
    "spacing",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "trunc",
)


def _categories(values: Any) -> list[Any]:
    return [_plain(v) for v in np.asarray(values).tolist()]


def _ordinal_codes(est: Any) -> list[list[Any]]:
    """Each category's code, as ``est.transform`` gives it: with infrequent categories grouped
    (min_frequency/max_categories) the codes are not the categories' positions."""
    import pandas as pd

    codes = []
    for i, categories in enumerate(est.categories_):
        n = len(categories)
        columns = {
            j: pd.Series(list(c if j == i else [c[0]] * n), dtype=c.dtype)
            for j, c in enumerate(est.categories_)
        }
        frame = pd.DataFrame(columns)
        names = getattr(est, "feature_names_in_", None)
        if names is not None:
            frame.columns = list(names)
        probe: Any = frame if names is not None else frame.to_numpy(dtype=object)
        codes.append([_plain(float(v)) for v in np.asarray(est.transform(probe))[:, i]])
    return codes


def _ordinal(est: Any, path: str) -> list[dict[str, Any]]:
    unknown = None
    if est.handle_unknown == "use_encoded_value":
        unknown = _plain(float(est.unknown_value))
    node = {
        "op": "ordinal",
        "features": [_categories(c) for c in est.categories_],
        "unknown": unknown,
        "missing": _plain(float(est.encoded_missing_value)),
    }
    if getattr(est, "_infrequent_enabled", False):
        node["codes"] = _ordinal_codes(est)
    return [node]


def _function(est: Any, path: str) -> list[dict[str, Any]]:
    func = est.func
    if func is None:
        return []  # identity, e.g. how ColumnTransformer stores "passthrough"
    if isinstance(func, functools.partial):
        from sklearn.utils.validation import check_array

        if func.func is check_array:  # HistGradientBoosting's numeric columns: validation only
            return []
    name = getattr(func, "__name__", "")
    if isinstance(func, np.ufunc) and name in UFUNCS and not est.kw_args:
        return [{"op": "ufunc", "name": name}]
    raise _unsupported(
        est,
        path,
        f"only func=None or one of the numpy functions {', '.join(UFUNCS)} (without kw_args) "
        f"are, not {func!r}",
    )


def _normalizer(est: Any, path: str) -> list[dict[str, Any]]:
    return [{"op": "normalizer", "norm": est.norm}]


def _binarizer(est: Any, path: str) -> list[dict[str, Any]]:
    return [{"op": "binarizer", "threshold": float(est.threshold)}]


def _missing_indicator(est: Any, path: str) -> list[dict[str, Any]]:
    missing = est.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise _unsupported(est, path, "only missing_values=np.nan is")
    error = est.features == "missing-only" and est.error_on_new
    return [
        {
            "op": "missing_indicator",
            "features": [int(i) for i in est.features_],
            "n_features": int(est.n_features_in_),
            "error_on_new": bool(error),
        }
    ]


def compile_selector(est: Any, path: str) -> list[dict[str, Any]]:
    return [{"op": "select", "columns": [int(i) for i in est.get_support(indices=True)]}]


def _pca(est: Any, path: str) -> list[dict[str, Any]]:
    components = np.asarray(est.components_, dtype=np.float64)
    node: dict[str, Any] = {
        "op": "project",
        "components": _floats(components, path, "components_"),
        "offset": None,
        "scale": None,
    }
    if _class(est) in ("PCA", "IncrementalPCA"):
        # PCA projects first and subtracts the projected mean after, as here.
        node["offset"] = _floats(est.mean_.reshape(1, -1) @ components.T, path, "mean_")[0]
        if est.whiten:
            scale = np.sqrt(est.explained_variance_)
            scale = np.maximum(scale, np.finfo(scale.dtype).eps)
            node["scale"] = _floats(scale, path, "explained_variance_")
    return [node]


def _polynomial(est: Any, path: str) -> list[dict[str, Any]]:
    terms = [[int(j) for j, p in enumerate(row) for _ in range(int(p))] for row in est.powers_]
    return [{"op": "polynomial", "terms": terms, "n_features": int(est.n_features_in_)}]


def _kbins(est: Any, path: str) -> list[dict[str, Any]]:
    edges = [_floats(e[1:-1], path, "bin_edges_") for e in est.bin_edges_]
    nodes: list[dict[str, Any]] = [{"op": "kbins", "edges": edges}]
    if est.encode != "ordinal":
        nodes.extend(_compile_transform(est._encoder, _join(path, "_encoder")))
    return nodes


def _power(est: Any, path: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = [
        {"op": "power", "method": est.method, "lambdas": _floats(est.lambdas_, path, "lambdas_")}
    ]
    if est.standardize:
        nodes.extend(_compile_transform(est._scaler, _join(path, "_scaler")))
    return nodes


def _quantile(est: Any, path: str) -> list[dict[str, Any]]:
    from scipy import stats

    bounds = 1e-7  # sklearn.preprocessing._data.BOUNDS_THRESHOLD
    node: dict[str, Any] = {
        "op": "quantile",
        "quantiles": _floats(est.quantiles_.T, path, "quantiles_"),
        "references": _floats(est.references_, path, "references_"),
        "normal": est.output_distribution == "normal",
        "bounds": bounds,
        "clip": _floats(
            [
                stats.norm.ppf(bounds - np.spacing(1)),
                stats.norm.ppf(1 - (bounds - np.spacing(1))),
            ],
            path,
            "clip bounds",
        ),
    }
    return [node]


def _target_encoder(est: Any, path: str) -> list[dict[str, Any]]:
    n_classes = len(est.classes_) if est.target_type_ == "multiclass" else 1
    means = np.atleast_1d(np.asarray(est.target_mean_, dtype=np.float64))
    features = []
    for i, categories in enumerate(est.categories_):
        encodings = [
            _floats(est.encodings_[i * n_classes + c], path, "encodings_") for c in range(n_classes)
        ]
        features.append(
            {
                "categories": _categories(categories),
                "encodings": encodings,
                "unknown": _floats(means[:n_classes], path, "target_mean_"),
            }
        )
    return [{"op": "target_encoder", "features": features}]


def _feature_union(est: Any, path: str) -> list[dict[str, Any]]:
    parts: list[list[dict[str, Any]]] = []
    for name, trans in est.transformer_list:
        if isinstance(trans, str) and trans == "drop":
            continue
        passthrough = isinstance(trans, str) and trans == "passthrough"
        steps = [] if passthrough else _compile_transform(trans, _join(path, name))
        parts.append(weighted(steps, est.transformer_weights, name))
    return [{"op": "union", "parts": parts}]


def _spline_ends(est: Any, spline: Any, degree: int, path: str) -> dict[str, Any]:
    """Where a constant/linear extrapolation starts, and the columns it continues there
    (``[column, value, slope]``, slope None when constant), as scikit-learn's transform does."""
    low, high = float(spline.t[degree]), float(spline.t[-degree - 1])
    at_low = _floats(spline(low), path, "bsplines_")
    at_high = _floats(spline(high), path, "bsplines_")
    n_splines = len(at_low)
    if est.extrapolation == "constant":
        below = [[j, at_low[j], None] for j in range(degree)]
        above = [[j, at_high[j], None] for j in range(n_splines - degree, n_splines)]
        # With degree 0 scikit-learn assigns all n_splines values to no column above the knots:
        # numpy broadcasts one value (nothing changes), more fail (None: refused likewise).
        fails_above = degree == 0 and n_splines > 1
        return {"bounds": [low, high], "below": below, "above": None if fails_above else above}
    slope_low = _floats(spline(low, nu=1), path, "bsplines_")
    slope_high = _floats(spline(high, nu=1), path, "bsplines_")
    count = max(degree, 2) if degree >= 1 else 1  # degree 0 and 1 continue one more column
    if count > n_splines:  # scikit-learn fails (IndexError) on any value beyond the bounds
        return {"bounds": [low, high], "below": None, "above": None}
    below = [[j, at_low[j], slope_low[j]] for j in range(count)]
    ends = [n_splines - 1 - j for j in range(count)]
    above = [[j, at_high[j], slope_high[j]] for j in ends]
    return {"bounds": [low, high], "below": below, "above": above}


def _spline(est: Any, path: str) -> list[dict[str, Any]]:
    """A SplineTransformer: each feature's knots and, for constant/linear extrapolation, the
    values (and slopes) it continues with beyond them, read off scikit-learn's own BSplines."""
    if getattr(est, "sparse_output", False):
        raise _unsupported(
            est, path, "sparse_output=True is not (refit with sparse_output=False: same values)"
        )
    extrapolation = est.extrapolation
    degree = int(est.degree)
    features = []
    for spline in est.bsplines_:
        feature: dict[str, Any] = {"knots": _floats(spline.t, path, "knots (bsplines_)")}
        k = int(spline.k)
        if extrapolation == "error":
            feature["bounds"] = [float(spline.t[k]), float(spline.t[-k - 1])]
        elif extrapolation in ("constant", "linear"):
            feature.update(_spline_ends(est, spline, degree, path))
            if extrapolation == "linear" and degree <= 1:
                # scikit-learn's transform raises its own degree variable for degree <= 1 and
                # keeps it for the features after: reproduce that, feature by feature.
                degree += 1
        features.append(feature)
    return [
        {
            "op": "spline",
            "step": path,
            "degree": int(est.degree),
            "n_splines": int(est.bsplines_[0].c.shape[1]),
            "extrapolation": extrapolation,
            "include_bias": bool(est.include_bias),
            "missing_zeros": getattr(est, "handle_missing", "error") == "zeros",
            "features": features,
        }
    ]


def _class(est: Any) -> str:
    return type(est).__name__


TRANSFORMS: dict[str, Callable[[Any, str], list[dict[str, Any]]]] = {
    "Binarizer": _binarizer,
    "FeatureUnion": _feature_union,
    "FunctionTransformer": _function,
    "IncrementalPCA": _pca,
    "KBinsDiscretizer": _kbins,
    "MissingIndicator": _missing_indicator,
    "Normalizer": _normalizer,
    "OrdinalEncoder": _ordinal,
    "PCA": _pca,
    "PolynomialFeatures": _polynomial,
    "PowerTransformer": _power,
    "QuantileTransformer": _quantile,
    "SplineTransformer": _spline,
    "TargetEncoder": _target_encoder,
    "TruncatedSVD": _pca,
}
