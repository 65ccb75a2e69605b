"""Fit a scikit-learn Pipeline on a table and write it as a bundle."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.bundle.persistence import EXTRAS, install_hint
from sklambda.errors import Option, TrainError

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from sklambda.bundle.columns import Decision

TASKS = ("auto", "regression", "classification")
ESTIMATORS = (
    "linear",
    "ridge",
    "lasso",
    "elastic-net",
    "decision-tree",
    "random-forest",
    "extra-trees",
    "gradient-boosting",
    "mlp",
    "hist-gradient-boosting",
    "svm",
    "knn",
    "naive-bayes",
    "sgd",
    "xgboost",
    "lightgbm",
)
# Estimators from optional extras ("xgboost", "lightgbm"): each named for the library it needs.
EXTRA_ESTIMATORS = EXTRAS
# Estimators whose fit depends on feature scale get a StandardScaler in front.
SCALED = {"linear", "ridge", "lasso", "elastic-net", "mlp", "svm", "knn", "sgd"}
REGRESSION_ONLY = {"lasso", "elastic-net"}
CLASSIFICATION_ONLY = {"naive-bayes"}
# A numeric target with at most this many distinct whole values is taken as class labels.
MAX_AUTO_CLASSES = 20
# A numeric target is refused as class labels when it has more distinct values than this, or
# than this share of the rows: it is a quantity, and each class would have a few rows at most.
MAX_CLASSES = 50
MAX_CLASS_SHARE = 0.1
# What a one-hot encoder does with a category it never saw (``--unknown-category``):
# ``error`` refuses the request (400 unknown_category); ``ignore`` encodes it as the group of
# infrequent categories (seen in fewer than MIN_CATEGORY_ROWS training rows), or as all zeros
# when no category was infrequent.
UNKNOWN_CATEGORY = ("error", "ignore")
MIN_CATEGORY_ROWS = 5


@dataclass(frozen=True)
class TrainResult:
    """What `train` produced: the bundle on disk, its manifest and the holdout metrics."""

    bundle: Path
    manifest: dict[str, Any]
    metrics: dict[str, float]
    notes: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()


def choose_task(target: pd.Series) -> tuple[str, str]:
    """The task ``--task auto`` picks for a target, and why, in words."""
    import pandas as pd

    name = target.name
    values = target.dropna()
    distinct = int(values.nunique())
    if pd.api.types.is_bool_dtype(target):
        return "classification", f'"{name}" is true/false'
    if not pd.api.types.is_numeric_dtype(target):
        return "classification", f'"{name}" is text with {distinct} distinct values (the classes)'
    whole = bool((values == values.round()).all())
    if not whole:
        return "regression", f'"{name}" holds numbers with fractions'
    if distinct <= MAX_AUTO_CLASSES and distinct > MAX_CLASS_SHARE * len(values):
        return (
            "regression",
            f'"{name}" holds {distinct} distinct whole numbers in {len(values)} rows (more than '
            f"{MAX_CLASS_SHARE:.0%} of the rows, too many to be classes): read as a quantity",
        )
    if distinct <= MAX_AUTO_CLASSES:
        return (
            "classification",
            f'"{name}" holds {distinct} distinct whole numbers (at most {MAX_AUTO_CLASSES} are '
            "read as classes); pass --task regression to predict them as quantities",
        )
    return (
        "regression",
        f'"{name}" holds {distinct} distinct whole numbers (more than {MAX_AUTO_CLASSES} '
        "classes): read as a quantity",
    )


def infer_task(target: pd.Series) -> str:
    """``regression`` for a numeric target with many distinct or fractional values."""
    return choose_task(target)[0]


def make_estimator(name: str, task: str, seed: int = 0) -> Any:
    """The scikit-learn estimator behind an ``--estimator`` choice for a task."""
    from sklearn import ensemble, linear_model, neural_network, tree

    if name not in ESTIMATORS:
        raise TrainError(f'unknown estimator "{name}"; choices: {", ".join(ESTIMATORS)}')
    if task == "classification" and name in REGRESSION_ONLY:
        raise TrainError(
            f'estimator "{name}" is for regression only; for classification choose one of '
            + ", ".join(e for e in ESTIMATORS if e not in REGRESSION_ONLY)
        )
    if task == "regression" and name in CLASSIFICATION_ONLY:
        raise TrainError(
            f'estimator "{name}" is for classification only; for regression choose one of '
            + ", ".join(e for e in ESTIMATORS if e not in CLASSIFICATION_ONLY)
        )
    regression = task == "regression"
    makers: dict[str, Callable[[], Any]] = {
        "linear": (
            linear_model.LinearRegression
            if regression
            else lambda: linear_model.LogisticRegression(max_iter=1000)
        ),
        "ridge": (
            (lambda: linear_model.Ridge(random_state=seed))
            if regression
            else (lambda: linear_model.RidgeClassifier(random_state=seed))
        ),
        "lasso": lambda: linear_model.Lasso(random_state=seed),
        "elastic-net": lambda: linear_model.ElasticNet(random_state=seed),
        "decision-tree": lambda: (
            tree.DecisionTreeRegressor if regression else tree.DecisionTreeClassifier
        )(random_state=seed, min_samples_leaf=2),
        "random-forest": lambda: (
            ensemble.RandomForestRegressor if regression else ensemble.RandomForestClassifier
        )(n_estimators=100, random_state=seed, min_samples_leaf=2),
        "extra-trees": lambda: (
            ensemble.ExtraTreesRegressor if regression else ensemble.ExtraTreesClassifier
        )(n_estimators=100, random_state=seed, min_samples_leaf=2),
        "gradient-boosting": lambda: (
            ensemble.GradientBoostingRegressor
            if regression
            else ensemble.GradientBoostingClassifier
        )(random_state=seed),
        "mlp": lambda: (
            neural_network.MLPRegressor if regression else neural_network.MLPClassifier
        )(hidden_layer_sizes=(64, 32), max_iter=2000, random_state=seed),
        **_more_makers(regression, seed),
    }
    return makers[name]()


def _more_makers(regression: bool, seed: int) -> dict[str, Callable[[], Any]]:
    """The families the lean runtime gained: histogram boosting, SVMs, kNN, naive Bayes, SGD,
    and XGBoost and LightGBM (optional extras, imported only when chosen)."""
    from sklearn import ensemble, linear_model, naive_bayes, neighbors, svm

    return {
        "hist-gradient-boosting": lambda: (
            ensemble.HistGradientBoostingRegressor
            if regression
            else ensemble.HistGradientBoostingClassifier
        )(random_state=seed),
        "svm": (svm.SVR if regression else lambda: svm.SVC(probability=True, random_state=seed)),
        "knn": (neighbors.KNeighborsRegressor if regression else neighbors.KNeighborsClassifier),
        "naive-bayes": naive_bayes.GaussianNB,
        "sgd": (
            (lambda: linear_model.SGDRegressor(random_state=seed))
            if regression
            else (lambda: linear_model.SGDClassifier(loss="log_loss", random_state=seed))
        ),
        "xgboost": lambda: _xgboost(regression, seed),
        "lightgbm": lambda: _lightgbm(regression, seed),
    }


def check_extra(estimator: str) -> None:
    """Refuse, before any data is read, an estimator whose optional library is missing."""
    import importlib.util

    library = EXTRA_ESTIMATORS.get(estimator)
    if library is not None and importlib.util.find_spec(library) is None:
        raise _missing_extra(estimator, library)


def _missing_extra(estimator: str, library: str) -> TrainError:
    return TrainError(
        f'estimator "{estimator}" needs {library}, which is not installed; ' + install_hint(library)
    )


def _import_extra(estimator: str) -> Any:
    """The library behind an extra's estimator, or the one-line error naming the install."""
    import importlib

    library = EXTRA_ESTIMATORS[estimator]
    try:
        return importlib.import_module(library)
    except ImportError:
        raise _missing_extra(estimator, library) from None


def _xgboost(regression: bool, seed: int) -> Any:
    """XGBoost's gbtree model (CPU, one thread per fit: reproducible for a seed).

    XGBClassifier takes labels 0..k-1 only; a soft VotingClassifier of this one model encodes
    the target's labels for it and maps its predictions back (its probabilities are
    XGBoost's own: an average of one).
    """
    xgboost = _import_extra("xgboost")
    common = {"n_estimators": 100, "random_state": seed, "n_jobs": 1}
    if regression:
        return xgboost.XGBRegressor(**common)
    from sklearn.ensemble import VotingClassifier

    return VotingClassifier([("xgboost", xgboost.XGBClassifier(**common))], voting="soft")


def _lightgbm(regression: bool, seed: int) -> Any:
    lightgbm = _import_extra("lightgbm")
    common = {"n_estimators": 100, "random_state": seed, "n_jobs": 1, "verbose": -1}
    return (lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier)(**common)


def build_pipeline(
    features: list[dict[str, Any]],
    task: str,
    estimator: str = "linear",
    seed: int = 0,
    unknown_category: str = "error",
) -> Pipeline:
    """The unfitted Pipeline sklambda trains for these features, task and estimator.

    All-numeric data without missing values gets the classic flat pipeline
    (``StandardScaler`` + model); text columns are one-hot encoded and columns with missing
    values imputed, inside a ``ColumnTransformer``. ``unknown_category="ignore"`` groups rare
    categories as infrequent and encodes unseen ones as that group (see
    :data:`UNKNOWN_CATEGORY`); with ``error`` the request contract refuses unseen ones.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    model = make_estimator(estimator, task, seed)
    scale = estimator in SCALED
    numeric = [f for f in features if f["type"] == "number"]
    text = [f for f in features if f["type"] == "string"]
    if not text and not any(f["nullable"] for f in numeric):
        steps: list[tuple[str, Any]] = [("scaler", StandardScaler())] if scale else []
        return Pipeline([*steps, ("model", model)])

    parts: list[tuple[str, Any, list[str]]] = []
    for nullable in (False, True):
        group = [f["name"] for f in numeric if f["nullable"] == nullable]
        if not group:
            continue
        num_steps: list[tuple[str, Any]] = []
        if nullable:
            num_steps.append(("imputer", SimpleImputer(strategy="median")))
        if scale:
            num_steps.append(("scaler", StandardScaler()))
        name = "num_missing" if nullable else "num"
        parts.append((name, Pipeline(num_steps) if num_steps else "passthrough", group))
    if text:
        cat_steps: list[tuple[str, Any]] = []
        if any(f["nullable"] for f in text):
            cat_steps.append(("imputer", SimpleImputer(strategy="most_frequent")))
        if unknown_category == "ignore":
            onehot = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=MIN_CATEGORY_ROWS,
                sparse_output=False,
            )
        else:
            # Unseen categories never reach the model (the contract answers 400), but a
            # category only in the holdout split must not fail the evaluation.
            onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        cat_steps.append(("onehot", onehot))
        parts.append(("cat", Pipeline(cat_steps), [f["name"] for f in text]))
    return Pipeline([("preprocess", ColumnTransformer(parts)), ("model", model)])


def split(
    X: pd.DataFrame, y: pd.Series, task: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """The holdout split sklambda uses (stratified for classification when it can be)."""
    from sklearn.model_selection import train_test_split

    stratify = None
    if task == "classification":
        counts = y.value_counts()
        n_test = round(test_size * len(y))
        if counts.min() >= 2 and n_test >= len(counts):
            stratify = y
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)


def evaluate(pipeline: Any, X_test: pd.DataFrame, y_test: pd.Series, task: str) -> dict[str, float]:
    """Holdout metrics: R², MAE, RMSE for regression; accuracy and macro F1 for classification."""
    import numpy as np
    from sklearn import metrics

    predicted = pipeline.predict(X_test)
    if task == "regression":
        return {
            "r2": float(metrics.r2_score(y_test, predicted)),
            "mae": float(metrics.mean_absolute_error(y_test, predicted)),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_test, predicted))),
        }
    return {
        "accuracy": float(metrics.accuracy_score(y_test, predicted)),
        "f1_macro": float(metrics.f1_score(y_test, predicted, average="macro")),
    }


@dataclass
class Prepared:
    """A table made ready for fitting: features, target, task and every decision taken."""

    X: pd.DataFrame
    y: pd.Series
    task: str
    specs: list[dict[str, Any]]
    decisions: list[Decision] = field(default_factory=list)
    task_reason: str = ""
    target_dtype: str = ""


def _drop_missing_hint(target: str, table: str | None, blanks: bool) -> Option:
    # length(trim(x)) > 0 leaves out NULL and empty text alike, and needs no quotes in a shell
    condition = f"length(trim({target})) > 0" if blanks else f"{target} IS NOT NULL"
    if table is not None:
        return Option("query", f"SELECT * FROM {table} WHERE {condition}")
    return Option("query", f"SELECT ... WHERE {condition}")


def prepare_table(
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str] | None,
    task: str,
    *,
    table: str | None = None,
    unknown_category: str = "error",
) -> Prepared:
    """Read the table's columns (see :mod:`sklambda.bundle.columns`), check the target and
    choose the task."""

    from sklambda.bundle.columns import read_columns
    from sklambda.bundle.features import coerce_frame, describe

    columns = [str(c) for c in frame.columns]
    _check_options(columns, target, features, task, unknown_category)
    read, names, dates, decisions = read_columns(frame, target=target, features=features or None)
    if not names:
        said = "; ".join(str(d) for d in decisions)
        raise TrainError(
            f'the table has no usable columns besides the target "{target}"'
            + (f" ({said}); name the ones to use with {{0}}" if said else ""),
            *([Option("features", ",".join(c for c in columns if c != target))] if said else []),
        )
    y = read[target]
    target_dtype = str(y.dtype)
    missing = int(y.isna().sum())
    if missing:
        raw = frame[target]
        blanks = bool(raw.map(lambda v: isinstance(v, str) and not v.strip()).any())
        raise TrainError(
            f'target column "{target}" has {missing} missing value(s); drop those rows, e.g. {{0}}',
            _drop_missing_hint(target, table, blanks),
        )
    reason = f"--task {task}"
    if task == "auto":
        task, reason = choose_task(y)
    y = _checked_target(y, target, task)
    if len(frame) < 10:
        raise TrainError(f"the data has {len(frame)} rows; training needs at least 10")
    specs = describe(read[names], dates=dates)
    if unknown_category == "ignore":
        for spec in specs:
            if spec["type"] == "string":
                spec["unknown"] = "ignore"
    X = coerce_frame(read[names], specs)
    return Prepared(X, y, task, specs, decisions, reason, target_dtype)


def _check_options(
    columns: list[str],
    target: str,
    features: Sequence[str] | None,
    task: str,
    unknown_category: str,
) -> None:
    if target not in columns:
        raise TrainError(f'target column "{target}" not found; columns: {", ".join(columns)}')
    if features:
        unknown = [f for f in features if f not in columns]
        if unknown:
            raise TrainError(
                f'feature column "{unknown[0]}" not found; columns: {", ".join(columns)}'
            )
        if target in features:
            raise TrainError(f'"{target}" is the target; it cannot also be a feature')
    if task not in TASKS:
        raise TrainError(f'unknown task "{task}"; choices: {", ".join(TASKS)}')
    if unknown_category not in UNKNOWN_CATEGORY:
        raise TrainError(
            f"unknown_category must be one of {', '.join(UNKNOWN_CATEGORY)}, "
            f'got "{unknown_category}"'
        )


def _checked_target(y: pd.Series, target: str, task: str) -> pd.Series:
    """The target as the task needs it, or the error that says why it cannot be."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression":
        if not numeric:
            raise TrainError(
                f'target column "{target}" is not numeric (dtype {y.dtype}); regression needs '
                "numbers: use {0} for labels",
                Option("task", "classification"),
            )
        return y.astype("float64")
    distinct = int(y.nunique())
    if distinct < 2:
        raise TrainError(
            f'target column "{target}" has a single value; classification needs two or more'
        )
    if numeric and (distinct > MAX_CLASSES or distinct > MAX_CLASS_SHARE * len(y)):
        raise TrainError(
            f'target column "{target}" holds {distinct} distinct numbers in {len(y)} rows: '
            f"too many classes (more than {MAX_CLASSES}, or than "
            f"{MAX_CLASS_SHARE:.0%} of the rows) for a classification; predict it as a "
            "quantity with {0}",
            Option("task", "regression"),
        )
    return y


def prepare(
    frame: pd.DataFrame, target: str, features: Sequence[str] | None, task: str
) -> tuple[pd.DataFrame, pd.Series, str, list[dict[str, Any]]]:
    """Check the table and target, and return ``(X, y, task, feature specs)``."""
    ready = prepare_table(frame, target, features, task)
    return ready.X, ready.y, ready.task, ready.specs


@dataclass
class Fitted:
    """A fitted pipeline, its holdout metrics and what went into it."""

    pipeline: Pipeline
    metrics: dict[str, float]
    prepared: Prepared
    notes: list[str]


def fit_table(
    frame: pd.DataFrame,
    *,
    target: str,
    features: Sequence[str] | None = None,
    task: str = "auto",
    estimator: str = "linear",
    seed: int = 0,
    test_size: float = 0.2,
    table: str | None = None,
    unknown_category: str = "error",
) -> Fitted:
    """Fit on a holdout split of a table."""
    from sklearn.exceptions import ConvergenceWarning

    if not 0 < test_size < 1:
        raise TrainError(f"test_size must be between 0 and 1 (exclusive), got {test_size}")
    check_extra(estimator)
    if task in ("regression", "classification"):
        make_estimator(estimator, task, seed)  # an estimator that cannot do the task: say so first
    ready = prepare_table(
        frame, target, features, task, table=table, unknown_category=unknown_category
    )
    X, y, task = ready.X, ready.y, ready.task
    pipeline = build_pipeline(ready.specs, task, estimator, seed, unknown_category)
    X_train, X_test, y_train, y_test = split(X, y, task, test_size, seed)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(X_train, y_train)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append(f'"{estimator}" did not fully converge; metrics may be below its best')
    metrics = evaluate(pipeline, X_test, y_test, task)
    metrics.update({"n_train": float(len(X_train)), "n_test": float(len(X_test))})
    return Fitted(pipeline, metrics, ready, notes)


def fit(
    frame: pd.DataFrame,
    *,
    target: str,
    features: Sequence[str] | None = None,
    task: str = "auto",
    estimator: str = "linear",
    seed: int = 0,
    test_size: float = 0.2,
) -> tuple[Pipeline, dict[str, float], pd.DataFrame, str, list[dict[str, Any]], list[str]]:
    """Fit on a holdout split: ``(pipeline, metrics, X, task, feature specs, notes)``."""
    done = fit_table(
        frame,
        target=target,
        features=features,
        task=task,
        estimator=estimator,
        seed=seed,
        test_size=test_size,
    )
    ready = done.prepared
    return done.pipeline, done.metrics, ready.X, ready.task, ready.specs, done.notes


def train(
    db: str | None = None,
    *,
    target: str,
    out: str | Path,
    table: str | None = None,
    query: str | None = None,
    frame: pd.DataFrame | None = None,
    features: Sequence[str] | None = None,
    name: str | None = None,
    task: str = "auto",
    estimator: str = "linear",
    seed: int = 0,
    test_size: float = 0.2,
    format: str = "skops",
    sample_data: bool = True,
    unknown_category: str = "error",
) -> TrainResult:
    """Train a model from a SQL table (or a DataFrame) and write it as a bundle.

    Parameters
    ----------
    db:
        SQLite file path or SQLAlchemy URL; with ``table`` or ``query``. Or pass ``frame``.
    target:
        The column to predict.
    out:
        The bundle directory to write (replaced atomically if it exists).
    features:
        The columns to train on; default: every column but the target, less those with
        nothing to learn from and those that look like identifiers (each choice is in
        ``TrainResult.decisions`` and the manifest; see :mod:`sklambda.bundle.columns`).
    task:
        ``auto`` (numeric target with fractions or many distinct values → regression; its
        reason is the first decision), ``regression`` or ``classification``.
    unknown_category:
        ``error`` (a request with a category training never saw is a 400) or ``ignore``
        (rare categories are grouped as infrequent, and unseen ones encoded as that group).
    estimator:
        One of :data:`ESTIMATORS`; ``linear`` is StandardScaler + LinearRegression (or
        LogisticRegression).
    seed, test_size:
        The holdout split and the estimators' randomness; the same seed gives the same model.
    format:
        ``skops`` (safe, default) or ``joblib`` (a pickle: loading it needs trust).
    sample_data:
        Store real rows in ``sample.json`` for verification; False stores synthetic rows drawn
        from the recorded ranges instead (for private data).
    """
    from sklambda.data import check_database, load_frame, source_of

    check_extra(estimator)
    if frame is None:
        if db is None:
            raise TrainError("pass a database (db=...) with a table or query, or frame=...")
        check_database(db)  # before anything heavy is imported
    from sklambda.bundle.store import write_bundle

    if frame is None:
        assert db is not None
        frame = load_frame(db, table=table, query=query)
        source = source_of(db, table=table, query=query).to_dict()
    else:
        source = {"frame": True}
    done = fit_table(
        frame,
        target=target,
        features=features,
        task=task,
        estimator=estimator,
        seed=seed,
        test_size=test_size,
        table=table,
        unknown_category=unknown_category,
    )
    ready = done.prepared
    pipeline, metrics, task, specs = done.pipeline, done.metrics, ready.task, ready.specs
    decisions = [f"task: {task} ({ready.task_reason})", *(str(d) for d in ready.decisions)]
    bundle_name = name or (table if table else Path(str(out)).name)
    manifest = write_bundle(
        pipeline,
        out,
        name=bundle_name,
        task=task,
        features=specs,
        X_sample=ready.X,
        target={"name": target, "dtype": ready.target_dtype},
        metrics=metrics,
        format=format,
        sample_data=sample_data,
        seed=seed,
        training={
            "estimator": estimator,
            "seed": seed,
            "test_size": test_size,
            "source": source,
            "task_reason": ready.task_reason,
            "columns": [d.to_dict() for d in ready.decisions],
            "unknown_category": unknown_category,
        },
    )
    return TrainResult(Path(out), manifest, metrics, tuple(done.notes), tuple(decisions))
