"""Model files: skops (safe, default) checked against sklambda's own allowlist, or joblib (a
pickle, loaded only when the caller says it is trusted).

A skops file lists every object it will build in ``schema.json``. sklambda reads that list and
refuses the file unless *every* type in it is one sklambda vouches for: skops' own defaults and
the types written in the file are never taken on trust.
"""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sklambda.errors import BundleError, Option, UntrustedModelError

FORMATS = ("skops", "joblib")
MODEL_FILES = {"skops": "model.skops", "joblib": "model.joblib"}

_BUILTINS = {
    "builtins." + t
    for t in (
        *("dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool"),
        *("complex", "slice", "bytes", "NoneType", "object", "type"),
    )
}
_NUMPY_RANDOM = {
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "numpy.random._pcg64.PCG64",
    "numpy.random._mt19937.MT19937",
}
# Public scikit-learn estimators and transformers whose fitted state is plain arrays and numbers.
_SKLEARN_PUBLIC = {
    "sklearn.pipeline": "Pipeline FeatureUnion",
    "sklearn.compose": "ColumnTransformer TransformedTargetRegressor",
    "sklearn.preprocessing": (
        "StandardScaler MinMaxScaler RobustScaler MaxAbsScaler OneHotEncoder OrdinalEncoder "
        "LabelEncoder LabelBinarizer PolynomialFeatures Normalizer Binarizer KBinsDiscretizer "
        "PowerTransformer QuantileTransformer SplineTransformer TargetEncoder FunctionTransformer"
    ),
    "sklearn.impute": "SimpleImputer MissingIndicator KNNImputer",
    "sklearn.linear_model": (
        "LinearRegression Ridge RidgeCV RidgeClassifier RidgeClassifierCV Lasso LassoCV "
        "ElasticNet ElasticNetCV LogisticRegression LogisticRegressionCV SGDRegressor "
        "SGDClassifier HuberRegressor BayesianRidge ARDRegression Perceptron PoissonRegressor "
        "GammaRegressor TweedieRegressor QuantileRegressor Lars LassoLars "
        "OrthogonalMatchingPursuit"
    ),
    "sklearn.tree": (
        "DecisionTreeRegressor DecisionTreeClassifier ExtraTreeRegressor ExtraTreeClassifier"
    ),
    "sklearn.ensemble": (
        "RandomForestRegressor RandomForestClassifier ExtraTreesRegressor ExtraTreesClassifier "
        "GradientBoostingRegressor GradientBoostingClassifier HistGradientBoostingRegressor "
        "HistGradientBoostingClassifier AdaBoostRegressor AdaBoostClassifier BaggingRegressor "
        "BaggingClassifier VotingRegressor VotingClassifier StackingRegressor "
        "StackingClassifier"
    ),
    "sklearn.neural_network": "MLPRegressor MLPClassifier",
    "sklearn.dummy": "DummyRegressor DummyClassifier",
    "sklearn.svm": "SVR SVC LinearSVR LinearSVC NuSVR NuSVC",
    "sklearn.naive_bayes": "GaussianNB MultinomialNB BernoulliNB ComplementNB CategoricalNB",
    "sklearn.decomposition": "PCA TruncatedSVD",
}
# Fitted internals of the estimators above (private modules, so named by where they live).
_SKLEARN_INTERNAL_MODULES = (
    "sklearn.tree._tree",
    "sklearn.neural_network._stochastic_optimizers",
    "sklearn._loss.loss",
    "sklearn._loss._loss",
    "sklearn._loss.link",
    "sklearn.ensemble._gb_losses",  # gradient boosting's losses before scikit-learn 1.4
    "sklearn.ensemble._hist_gradient_boosting.binning",
    "sklearn.ensemble._hist_gradient_boosting.predictor",
)
_SCIPY_SPARSE = "csr_matrix csc_matrix coo_matrix csr_array csc_array coo_array"


@functools.cache
def allowed_types() -> frozenset[str]:
    """Every type a skops file may contain for sklambda to load it without being told to."""
    import importlib
    import inspect

    import numpy as np
    import scipy.sparse

    names = set(_BUILTINS) | _NUMPY_RANDOM | {"numpy.ndarray", "numpy.dtype"}
    for value in np.sctypeDict.values():
        names.add(f"numpy.{value.__name__}")
    names.update(
        f"numpy.dtypes.{n}" for n in dir(getattr(np, "dtypes", object)) if n.endswith("DType")
    )
    for module_name, classes in _SKLEARN_PUBLIC.items():
        module = importlib.import_module(module_name)
        for class_name in classes.split():
            cls = getattr(module, class_name, None)
            if cls is not None:  # older scikit-learn releases lack some
                names.add(f"{cls.__module__}.{cls.__qualname__}")
    for module_name in _SKLEARN_INTERNAL_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            # Some Cython builds name their classes' module by its last part only
            # (scikit-learn 1.7's `_loss.CyHalfMultinomialLoss`): that is how skops records them.
            if cls.__module__ in (module_name, module_name.rsplit(".", 1)[-1]):
                names.add(f"{module_name}.{cls.__qualname__}")
                names.add(f"{cls.__module__}.{cls.__qualname__}")
    for class_name in _SCIPY_SPARSE.split():
        cls = getattr(scipy.sparse, class_name, None)
        if cls is not None:
            names.add(f"{cls.__module__}.{cls.__qualname__}")
    return frozenset(names)


def skops_types(path: Path) -> set[str]:
    """Every ``module.Class`` a skops file would build, read from its schema."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path} is not a readable skops file ({exc})") from None

    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def dump(estimator: Any, path: Path, format: str) -> None:
    """Write a fitted estimator in ``format`` (skops or joblib)."""
    if format == "skops":
        import skops.io

        try:
            skops.io.dump(estimator, path)
        except (TypeError, NotImplementedError) as exc:
            raise BundleError(
                f"this model cannot be saved in the skops format ({exc}); save it with "
                "{0} (a pickle: loading it then needs {1})",
                Option("format", "joblib"),
                Option("trust_pickle"),
            ) from None
    elif format == "joblib":
        import joblib

        joblib.dump(estimator, path)
    else:
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
    allowed = allowed_types() | set(trusted_types)
    unknown = sorted(present - allowed)
    if unknown:
        raise UntrustedModelError(
            f"{path.name} contains types sklambda does not trust: {', '.join(unknown)}. If you "
            "vouch for them, load with trusted_types=[...] naming them"
        )
    return skops.io.load(path, trusted=sorted(present))
