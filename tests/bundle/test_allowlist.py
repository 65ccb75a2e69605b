"""The allowlist, proven: every estimator scikit-learn lists saves and loads with no extra trust.

Each estimator ``sklearn.utils.all_estimators()`` returns is fitted on small data, written by
sklambda (which refuses, before writing, any type it would not load), read back by sklambda's
``load`` with no ``trusted_types``, and made to predict/transform as before. skops' own
``get_untrusted_types`` must name nothing the schema walk missed. Variants add the fitted
internals a default instance does not reach (ball trees, other metrics, losses, solvers) and the
numpy functions people put in a ``FunctionTransformer``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sklambda.bundle import persistence
from sklambda.errors import UntrustedModelError

# Estimators sklambda does not promise: skops itself cannot write them.
NOT_SAVABLE = {"Birch": "skops 0.16: 'Objects of type Birch are not supported yet'"}

# Methods that draw random numbers on each call: not comparable before and after loading.
STOCHASTIC = {"BernoulliRBM": ("score_samples",)}

UFUNCS = (
    "log1p",
    "expm1",
    "log",
    "exp",
    "sqrt",
    "square",
    "abs",
    "absolute",
    "log2",
    "log10",
    "exp2",
    "cbrt",
    "reciprocal",
    "negative",
    "tanh",
    "arcsinh",
    "sinh",
    "sign",
    "floor",
)


def _data() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(40, 4))) + 0.1
    y_class = np.arange(40) % 3
    y_reg = X @ np.array([1.0, 2.0, -1.0, 0.5]) + rng.normal(scale=0.1, size=40)
    return {"X": X, "yc": y_class, "yr": y_reg, "yr_pos": np.abs(y_reg) + 1}


# Settings that keep each fit to milliseconds (the fitted types are the same at any size).
SMALL = {"n_estimators": 3, "cv": 2, "n_init": 1, "Cs": 2, "n_alphas": 3, "max_iter_predict": 5}
SMALL_PER_ESTIMATOR: dict[str, dict[str, Any]] = {
    "TSNE": {"perplexity": 5.0, "max_iter": 250},
    "HistGradientBoostingClassifier": {"max_iter": 3},
    "HistGradientBoostingRegressor": {"max_iter": 3},
    "SpectralBiclustering": {"n_clusters": 2, "n_best": 2, "n_components": 3},
    "MiniBatchKMeans": {"max_iter": 5},
    "MeanShift": {"max_iter": 10},
    "PoissonRegressor": {"max_iter": 20},
    "TunedThresholdClassifierCV": {"thresholds": 5},
}


def _small(name: str, est: Any) -> Any:
    params = est.get_params(deep=False)
    wanted = {k: v for k, v in SMALL.items() if k in params and not isinstance(params[k], str)}
    wanted.update(SMALL_PER_ESTIMATOR.get(name, {}))
    if wanted:
        est.set_params(**wanted)
    return est


def _construct(name: str, cls: type) -> Any:
    return _small(name, _construct_default(name, cls))


def _construct_default(name: str, cls: type) -> Any:
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    clf, reg = LogisticRegression(max_iter=200), LinearRegression()
    special: dict[str, Callable[[], Any]] = {
        "Pipeline": lambda: cls([("s", StandardScaler()), ("m", reg)]),
        "FeatureUnion": lambda: cls([("a", StandardScaler()), ("b", StandardScaler())]),
        "ColumnTransformer": lambda: cls([("s", StandardScaler(), [0, 1])]),
        "VotingClassifier": lambda: cls([("a", clf), ("b", DecisionTreeClassifier())]),
        "VotingRegressor": lambda: cls([("a", reg), ("b", DecisionTreeRegressor())]),
        "StackingClassifier": lambda: cls([("a", clf), ("b", DecisionTreeClassifier())], cv=2),
        "StackingRegressor": lambda: cls([("a", reg), ("b", DecisionTreeRegressor())], cv=2),
        "GridSearchCV": lambda: cls(clf, {"C": [0.1, 1.0]}, cv=2),
        "RandomizedSearchCV": lambda: cls(clf, {"C": [0.1, 1.0]}, n_iter=2, cv=2),
        "SparseCoder": lambda: cls(dictionary=np.eye(4)),
        "SelfTrainingClassifier": lambda: cls(SVC(probability=True)),
        "GaussianRandomProjection": lambda: cls(n_components=2),
        "SparseRandomProjection": lambda: cls(n_components=2),
        "RFECV": lambda: cls(reg, cv=2),
        "SequentialFeatureSelector": lambda: cls(reg, n_features_to_select=2, cv=2),
        "TunedThresholdClassifierCV": lambda: cls(LogisticRegression(), cv=2),
    }
    if name in special:
        return special[name]()
    import inspect

    required = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    if required == ["estimator"]:
        wants_classifier = "Classif" in name or name.startswith(("OneVs", "OutputCode"))
        inner = clf if wants_classifier else reg
        if name == "FrozenEstimator":
            data = _data()
            inner = clf.fit(data["X"], data["yc"])
        return cls(estimator=inner)
    return cls()


def _fit(name: str, est: Any, data: dict[str, Any]) -> tuple[Any, Any]:
    """Fit ``est`` on data it accepts; returns the input to predict/transform with."""
    from sklearn.base import is_classifier, is_regressor

    X, yc, yr = data["X"], data["yc"], data["yr"]
    if name in ("CountVectorizer", "TfidfVectorizer", "HashingVectorizer"):
        docs = ["a cat sat", "a dog ran", "the cat ran", "the dog sat"]
        return est.fit(docs), docs
    if name == "DictVectorizer":
        rows = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "c": 1.0}]
        return est.fit(rows), rows
    if name in ("LabelEncoder", "LabelBinarizer"):
        return est.fit(yc), yc
    if name == "MultiLabelBinarizer":
        return est.fit([[1, 2], [3]]), [[1], [2, 3]]
    if name == "IsotonicRegression":
        return est.fit(X[:, 0], yr), X[:, 0]
    if name == "KernelCenterer":
        K = X @ X.T
        return est.fit(K), K
    if name == "PatchExtractor":
        images = np.arange(2 * 6 * 6, dtype=float).reshape(2, 6, 6)
        return est.fit(images), images
    if name in ("FixedThresholdClassifier", "TunedThresholdClassifierCV"):
        return est.fit(X, yc % 2), X
    if name == "SelfTrainingClassifier":
        partial = yc.copy()
        partial[::4] = -1
        return est.fit(X, partial), X
    if name.startswith(("MultiTask", "PLS")) or name == "CCA":
        return est.fit(X, np.c_[yr, yr * 2 + 1]), X
    if name in ("MultiOutputRegressor", "RegressorChain"):
        return est.fit(X, np.c_[yr, yr * 2]), X
    if name in ("MultiOutputClassifier", "ClassifierChain"):
        return est.fit(X, np.c_[yc, yc[::-1]]), X
    if name in ("GammaRegressor", "PoissonRegressor", "TweedieRegressor"):
        return est.fit(X, data["yr_pos"]), X
    if is_classifier(est) or name in ("NeighborhoodComponentsAnalysis", "SelectFromModel"):
        return est.fit(X, yc), X
    if is_regressor(est):
        return est.fit(X, yr), X
    try:
        return est.fit(X, yc), X  # supervised transformers (selectors, target encoders)
    except (TypeError, ValueError):
        return est.fit(X), X


def _outputs(est: Any, given: Any) -> list[Any]:
    out = []
    for method in ("predict", "predict_proba", "transform", "score_samples"):
        if method in STOCHASTIC.get(type(est).__name__, ()):
            continue
        if hasattr(est, method):
            try:
                value = getattr(est, method)(given)
            except (AttributeError, NotImplementedError, ValueError, TypeError):
                continue
            out.append(value.toarray() if hasattr(value, "toarray") else np.asarray(value))
    return out


def _round_trip(est: Any, given: Any, tmp: Path) -> list[str]:
    """Problems saving ``est`` with sklambda and loading it back with no extra trust."""
    import skops.io

    path = tmp / "model.skops"
    path.unlink(missing_ok=True)
    try:
        persistence.dump(est, path, "skops")
    except UntrustedModelError as exc:
        return [f"refused at save: {exc}"]
    problems = []
    missed = set(skops.io.get_untrusted_types(file=path)) - persistence.skops_types(path)
    if missed:
        problems.append(f"types skops flags but the schema walk missed: {sorted(missed)}")
    loaded = persistence.load(path, "skops")
    try:
        for before, after in zip(_outputs(est, given), _outputs(loaded, given), strict=True):
            if before.dtype.kind in "fc":
                np.testing.assert_allclose(after, before)
            else:
                np.testing.assert_array_equal(after, before)
    except AssertionError as exc:
        problems.append(f"answers differently once loaded: {str(exc)[:300]}")
    return problems


def _variants() -> list[tuple[str, Any]]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
    )
    from sklearn.linear_model import SGDClassifier, SGDRegressor
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor, NearestNeighbors
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    out: list[tuple[str, Any]] = [
        ("KNN pipeline", make_pipeline(StandardScaler(), KNeighborsClassifier(3))),
        ("KNN ball tree", KNeighborsClassifier(3, algorithm="ball_tree")),
        ("KNN brute", KNeighborsRegressor(3, algorithm="brute")),
        ("ball tree chebyshev", NearestNeighbors(algorithm="ball_tree", metric="chebyshev")),
        ("kd tree manhattan", KNeighborsRegressor(3, algorithm="kd_tree", metric="manhattan")),
        ("minkowski p=3", KNeighborsClassifier(3, metric="minkowski", p=3)),
        (
            "HistGB categorical",
            HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]),
        ),
        ("HistGB poisson", HistGradientBoostingRegressor(max_iter=5, loss="poisson")),
        ("GB huber", GradientBoostingRegressor(n_estimators=5, loss="huber")),
        ("GB exponential", GradientBoostingClassifier(n_estimators=5)),
        ("forest", RandomForestClassifier(n_estimators=3, random_state=0)),
        ("one-hot", ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore"), [0])])),
        ("MLP sgd", MLPClassifier(solver="sgd", max_iter=20)),
        ("MLP lbfgs", MLPClassifier(solver="lbfgs", max_iter=20)),
    ]
    for loss in ("log_loss", "modified_huber", "squared_hinge", "perceptron", "huber"):
        out.append((f"SGDClassifier {loss}", SGDClassifier(loss=loss, max_iter=20)))
    for loss in ("huber", "epsilon_insensitive", "squared_epsilon_insensitive"):
        out.append((f"SGDRegressor {loss}", SGDRegressor(loss=loss, max_iter=20)))
    for name in UFUNCS:
        func = getattr(np, name)
        out.append((f"FunctionTransformer(np.{name})", FunctionTransformer(func)))
    out.append(("log1p with expm1 inverse", FunctionTransformer(np.log1p, inverse_func=np.expm1)))
    return out


@pytest.mark.slow
def test_every_estimator_scikit_learn_lists_saves_and_loads_without_trust(
    tmp_path: Path,
) -> None:
    from sklearn.utils import all_estimators

    data = _data()
    failures: dict[str, list[str]] = {}
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, cls in all_estimators():
            if name in NOT_SAVABLE:
                continue
            try:
                est, given = _fit(name, _construct(name, cls), data)
            except Exception as exc:  # the table above must know how to fit every estimator
                failures[name] = [f"could not fit: {type(exc).__name__}: {exc}"[:200]]
                continue
            problems = _round_trip(est, given, tmp_path)
            checked += 1
            if problems:
                failures[name] = problems
    assert failures == {}
    assert checked >= len(all_estimators()) - len(NOT_SAVABLE)
    assert checked > 150  # the list really is scikit-learn's whole public surface


@pytest.mark.slow
def test_fitted_internals_and_numpy_functions_need_no_trust(tmp_path: Path) -> None:
    data = _data()
    failures: dict[str, list[str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, est in _variants():
            X = data["X"].copy()
            if "categorical" in name or "one-hot" in name:
                X[:, 0] = np.arange(40) % 4
            y = data["yr"] if "Regressor" in type(est).__name__ else data["yc"]
            if "poisson" in name:
                y = data["yr_pos"]
            est.fit(X, y)
            problems = _round_trip(est, X, tmp_path)
            if problems:
                failures[name] = problems
    assert failures == {}


def test_allowlist_refuses_what_is_code() -> None:
    for name in (
        "builtins.eval",
        "builtins.exec",
        "posix.system",
        "os.system",
        "subprocess.Popen",
        "copy.copy",
        "numpy.load",
        "numpy.fromfile",
        "sklearn.utils._testing.assert_allclose",
        "sklearn.utils.deprecated",
        "sklearn.metrics.make_scorer",
        "sklearn.neighbors..KDTree",
        "tests.bundle.test_bundle.double",
    ):
        assert not persistence.is_allowed(name), name
    assert persistence.is_allowed("numpy.log1p")
    assert persistence.is_allowed("sklearn.neighbors._kd_tree.KDTree")
    assert persistence.is_allowed("sklearn.neighbors._classification.KNeighborsClassifier")
