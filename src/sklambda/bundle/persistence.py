"""Model files: skops (safe, default) checked against sklambda's own allowlist, or joblib (a
pickle, loaded only when the caller says it is trusted).

A skops file lists every object it will build in ``schema.json``. sklambda reads that list and
refuses the file unless *every* type in it is one sklambda vouches for: skops' own defaults and
the types written in the file are never taken on trust.

What sklambda vouches for (:func:`is_allowed`): plain Python and numpy values; every public
scikit-learn estimator, transformer, kernel and cross-validation splitter (a class reachable
from a public ``sklearn.<module>`` that derives from ``BaseEstimator``, ``Kernel`` or a splitter
base); the fitted internals
those need (trees, neighbour indexes, distance metrics, losses, binners, predictors); and
functions that only compute — numpy's ufuncs and reductions (``np.log1p`` in a
``FunctionTransformer``) and scikit-learn's score functions. A user's own function or class is
never vouched for: it is code, and is loaded only when named in ``trusted_types``.
``tests/bundle/test_allowlist.py`` saves a fitted instance of every estimator
``sklearn.utils.all_estimators()`` lists and proves each one loads with no extra trust.

XGBoost's and LightGBM's scikit-learn models (the ``xgboost`` and ``lightgbm`` extras) are
vouched for by name, with the boosters they hold (:data:`_BOOSTER_TYPES`): loading one runs
``__new__`` and ``__setstate__``, which hand the stored model bytes (XGBoost's serialised
booster, LightGBM's model text) to the library's own parser; nothing in the file names code to
run. What such a model may hold that is code (a custom objective or metric function, callbacks)
is a node of its own in the file and is refused like any other.
"""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sklambda.errors import BundleError, Option, UntrustedModelError, literal

FORMATS = ("skops", "joblib")
MODEL_FILES = {"skops": "model.skops", "joblib": "model.joblib"}

_BUILTINS = {
    "builtins." + t
    for t in (
        *("dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool"),
        *("complex", "slice", "bytes", "bytearray", "NoneType", "object", "type"),
    )
}
# Containers: a defaultdict's factory is a node of its own in the file, checked like any other.
_CONTAINERS = {"collections.OrderedDict", "collections.defaultdict"}
# The boosting libraries' scikit-learn estimators and the boosters they hold (see the docstring).
_BOOSTER_TYPES = {
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "xgboost.sklearn.XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor",
    "xgboost.core.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.basic.Booster",
}
# The boosting libraries and the extra that installs each (also the `train --estimator` names;
# only the lean runtime serves their models: building.forms.LEAN_ONLY_LIBRARIES).
EXTRAS = {"xgboost": "xgboost", "lightgbm": "lightgbm"}


def install_hint(library: str) -> str:
    """How to install a boosting library, as an error's last words."""
    return f"install it with: pip install 'sklambda[{EXTRAS[library]}]'"


# ``functools.partial`` binds a function to arguments; skops writes both as nodes of their own,
# which are checked like every other (HistGradientBoosting's categorical check_array).
_COMBINATORS = {"functools.partial"}
_NUMPY_RANDOM = {
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "numpy.random._pcg64.PCG64",
    "numpy.random._mt19937.MT19937",
}
_NUMPY_OTHER = {"numpy.ndarray", "numpy.dtype", "numpy.ma.core.MaskedArray", "numpy.ma.MaskedArray"}
# numpy functions that compute from their input and nothing else (besides every ufunc).
_NUMPY_PURE_FUNCTIONS = (
    "mean median average sum prod min max amin amax nanmean nanmedian nansum nanmin nanmax "
    "std var nanstd nanvar ptp clip round around cumsum cumprod asarray array "
    "asanyarray ravel transpose"
)
# Fitted internals of public estimators, in private modules: every class defined there.
_SKLEARN_INTERNAL_MODULES = (
    "sklearn.tree._tree",
    "sklearn.neural_network._stochastic_optimizers",
    "sklearn._loss.loss",
    "sklearn._loss._loss",
    "sklearn._loss.link",
    "sklearn.ensemble._gb_losses",  # gradient boosting's losses before scikit-learn 1.4
    "sklearn.ensemble._hist_gradient_boosting.binning",
    "sklearn.ensemble._hist_gradient_boosting.predictor",
    "sklearn.neighbors._kd_tree",
    "sklearn.neighbors._ball_tree",
    "sklearn.metrics._dist_metrics",
    "sklearn.linear_model._sgd_fast",
    "sklearn.utils._bunch",
)
# Single private classes and functions public estimators hold once fitted.
_SKLEARN_INTERNAL_NAMES = {
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.cluster._bisect_k_means._BisectingTree",
    "sklearn.cluster._kmeans._kmeans_single_lloyd",
    "sklearn.cluster._kmeans._kmeans_single_elkan",
    "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
    "sklearn.metrics._scorer._Scorer",
    "sklearn.metrics._scorer._PassthroughScorer",
    "sklearn.metrics._scorer._MultimetricScorer",
    "sklearn.metrics._scorer._CurveScorer",
    "sklearn.multiclass._ConstantPredictor",
    "sklearn.utils._metadata_requests.MetadataRequest",
    "sklearn.utils._metadata_requests.MethodMetadataRequest",
    "scipy.interpolate._bsplines.BSpline",
    "scipy._lib.array_api_compat.numpy._aliases.asarray",  # SplineTransformer's BSplines
}
# Public functions estimators take as parameters and that only compute.
_SKLEARN_PURE_FUNCTIONS = {
    "sklearn.feature_selection._univariate_selection": (
        "f_classif f_regression chi2 r_regression f_oneway"
    ),
    "sklearn.feature_selection._mutual_info": "mutual_info_classif mutual_info_regression",
    "sklearn.metrics._classification": (
        "accuracy_score balanced_accuracy_score f1_score precision_score recall_score log_loss"
    ),
    "sklearn.metrics._regression": (
        "r2_score mean_squared_error mean_absolute_error root_mean_squared_error"
    ),
    "sklearn.metrics._ranking": "roc_auc_score average_precision_score",
    "sklearn.utils.validation": "check_array",
}
_SCHEMA_MAX_BYTES = 64 * 1024 * 1024
"""A schema.json larger than this is refused before it is read (a zip bomb, not a model)."""
_SCIPY_SPARSE = "csr_matrix csc_matrix coo_matrix csr_array csc_array coo_array"


@functools.cache
def allowed_types() -> frozenset[str]:
    """The names sklambda vouches for without looking them up (see :func:`is_allowed`)."""
    import numpy as np
    import scipy.sparse

    names = set(_BUILTINS) | _COMBINATORS | _NUMPY_RANDOM | _NUMPY_OTHER | _SKLEARN_INTERNAL_NAMES
    names |= _CONTAINERS | _BOOSTER_TYPES
    for key, value in np.sctypeDict.items():
        del key
        names.add(f"numpy.{value.__name__}")
    names.update(
        f"numpy.dtypes.{n}" for n in dir(getattr(np, "dtypes", object)) if n.endswith("DType")
    )
    names.update(f"numpy.{n}" for n in dir(np) if isinstance(getattr(np, n, None), np.ufunc))
    names.update(f"numpy.{n}" for n in _NUMPY_PURE_FUNCTIONS.split() if hasattr(np, n))
    for module, functions in _SKLEARN_PURE_FUNCTIONS.items():
        names.update(f"{module}.{n}" for n in functions.split())
    for class_name in _SCIPY_SPARSE.split():
        cls = getattr(scipy.sparse, class_name, None)
        if cls is not None:
            names.add(f"{cls.__module__}.{cls.__qualname__}")
    return frozenset(names)


def _sklearn_module(name: str) -> Any:
    """The scikit-learn module ``name`` names, or None (only sklearn's own are imported)."""
    import importlib

    parts = name.split(".")
    if parts[0] != "sklearn" or not all(p.isidentifier() for p in parts):
        return None
    try:
        return importlib.import_module(name)
    except Exception:  # a name that does not import is simply not allowed
        return None


@functools.cache
def is_allowed(name: str) -> bool:
    """Whether sklambda vouches for the ``module.Class`` (or ``module.function``) ``name``."""
    if name in allowed_types():
        return True
    module_name, _, attr = name.rpartition(".")
    if not attr.isidentifier():
        return False
    # Some Cython builds name their classes' module by its last part only (scikit-learn 1.7's
    # `_loss.CyHalfMultinomialLoss`): such a name is looked up in the internal module it is
    # the last part of, and allowed only if that module's class says the same.
    full_name = next(
        (
            m
            for m in _SKLEARN_INTERNAL_MODULES
            if "." not in module_name and m.endswith("." + module_name)
        ),
        module_name,
    )
    if full_name in _SKLEARN_INTERNAL_MODULES:
        module = _sklearn_module(full_name)
        obj = getattr(module, attr, None)
        return isinstance(obj, type) and obj.__module__ in (full_name, full_name.rsplit(".", 1)[-1])
    if attr.startswith("_"):
        return False
    module = _sklearn_module(module_name)
    obj = getattr(module, attr, None)
    if not isinstance(obj, type):
        return False
    from sklearn.base import BaseEstimator
    from sklearn.gaussian_process.kernels import Kernel
    from sklearn.model_selection._split import BaseCrossValidator, BaseShuffleSplit

    if not issubclass(obj, BaseEstimator | Kernel | BaseCrossValidator | BaseShuffleSplit):
        return False
    # Public: reachable by the same name from the module path without its private parts.
    public_parts: list[str] = []
    for part in module_name.split("."):
        if part.startswith("_"):
            break
        public_parts.append(part)
    public = _sklearn_module(".".join(public_parts))
    return getattr(public, attr, None) is obj


def skops_types(path: Path) -> set[str]:
    """Every ``module.Class`` a skops file would build, read from its schema."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("schema.json").file_size > _SCHEMA_MAX_BYTES:
                raise BundleError(
                    f"{path.name} is not a readable skops file (its schema.json declares "
                    f"{archive.getinfo('schema.json').file_size:,} bytes)"
                )
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, RecursionError) as exc:
        raise BundleError(
            f"{path.name} is not a readable skops file ({exc}); re-save the model"
        ) from None
    if not isinstance(schema, dict):
        raise BundleError(f"{path.name} is not a readable skops file (its schema is not an object)")

    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node or "__class__" in node:
                module, cls = node.get("__module__"), node.get("__class__")
                if not isinstance(module, str) or not isinstance(cls, str):
                    raise BundleError(
                        f"{path.name} is not a readable skops file (a node names no class); "
                        "re-save the model"
                    )
                found.add(f"{module}.{cls}")
                if node.get("__loader__") == "MethodNode":
                    # A bound method runs whatever the method does: it is named (as skops names
                    # it, module.Class.method) and trusted only when the caller vouches for it.
                    content = node.get("content")
                    func = content.get("func") if isinstance(content, dict) else None
                    found.add(f"{module}.{cls}.{func}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def untrusted(present: Iterable[str], trusted_types: Iterable[str] = ()) -> list[str]:
    """The names in ``present`` that neither sklambda nor the caller vouches for, sorted."""
    extra = set(trusted_types)
    return sorted(n for n in set(present) if n not in extra and not is_allowed(n))


def refusal(file_name: str, unknown: list[str], *, saving: bool) -> UntrustedModelError:
    """The error naming the types not vouched for, with the fix in the caller's language."""
    what = "would contain" if saving else "contains"
    # A crafted file can name a "class" with a newline or other control characters: the error
    # stays one line, with such names escaped as Python would write them.
    unknown = [name if name.isprintable() else repr(name)[1:-1] for name in unknown]
    return UntrustedModelError(
        f"{file_name} {what} types sklambda does not trust: {literal(', '.join(unknown))}. "
        "They can run "
        "code when the model is used; if you wrote them or trust their source, pass {0}",
        Option("trusted_types", unknown, cli_name="trust_type"),
    )


def dump(
    estimator: Any, path: Path, format: str, *, trusted_types: Iterable[str] = ()
) -> list[str]:
    """Write a fitted estimator in ``format`` (skops or joblib).

    A skops file is checked as :func:`load` will check it: types that neither sklambda nor
    ``trusted_types`` vouch for are refused now (``UntrustedModelError`` naming them; the file
    is removed), not at the first load. Returns the types the caller's trust was needed for.
    """
    if format == "skops":
        import skops.io

        try:
            skops.io.dump(estimator, path)
        except (TypeError, NotImplementedError) as exc:
            raise BundleError(
                f"this model cannot be saved in the skops format ({literal(str(exc))}); save "
                "it with "
                "{0} (a pickle: loading it then needs {1})",
                Option("format", "joblib"),
                Option("trust_pickle"),
            ) from None
        unknown = untrusted(skops_types(path))
        not_vouched = [n for n in unknown if n not in set(trusted_types)]
        if not_vouched:
            path.unlink()
            raise refusal(path.name, not_vouched, saving=True)
        return unknown
    if format == "joblib":
        import joblib

        joblib.dump(estimator, path)
        return []
    raise BundleError(f'unknown model format "{format}"; choices: {", ".join(FORMATS)}')


def load(
    path: Path,
    format: str,
    *,
    trust_pickle: bool = False,
    trusted_types: Iterable[str] = (),
) -> Any:
    """Load a model file, refusing anything that could run code sklambda does not vouch for.

    Parameters
    ----------
    trust_pickle:
        Required for joblib/pickle files: unpickling runs whatever code the file holds.
    trusted_types:
        Extra ``module.Class`` names the caller vouches for (e.g. its own transformer).
    """
    if format == "joblib":
        if not trust_pickle:
            raise UntrustedModelError(
                f"{path.name} is a pickle: loading it runs any code inside it. If you made it "
                "or trust its source, pass {0}",
                Option("trust_pickle"),
            )
        import joblib

        return joblib.load(path)
    if format != "skops":
        raise BundleError(f'unknown model format "{format}"; choices: {", ".join(FORMATS)}')
    import skops.io

    present = skops_types(path)
    unknown = untrusted(present, trusted_types)
    if unknown:
        raise refusal(path.name, unknown, saving=False)
    check_extras(present, path.name)
    try:
        estimator = skops.io.load(path, trusted=sorted(present))
        _check_fitted(estimator)
    except Exception as exc:  # every type was vouched for: the file is at fault
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise BundleError(
            f"{path.name} is not a readable skops file ({detail}); re-save the model"
        ) from None
    return estimator


def check_extras(present: Iterable[str], file_name: str) -> None:
    """Refuse, naming the extra to install, a model whose boosting library is missing."""
    import importlib.util

    for library in sorted({name.split(".", 1)[0] for name in present} & set(EXTRAS)):
        if importlib.util.find_spec(library) is None:
            raise BundleError(
                f"{file_name} holds a {library} model, and {library} is not installed; "
                + install_hint(library)
            )


def _check_fitted(estimator: Any) -> None:
    """A file can name trusted types and still build nothing usable (an object with no state)."""
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(estimator, "fit"):
        raise TypeError(f"it holds a {type(estimator).__name__}, not a scikit-learn estimator")
    check_is_fitted(estimator)
