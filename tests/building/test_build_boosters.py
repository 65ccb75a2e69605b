"""XGBoost and LightGBM end to end: ``train --estimator`` on a SQLite table, a skops bundle
that loads with no extra trust, ``build`` (``--runtime auto`` picks lean, without a layer), and
the package answering function URL events in the emulator with the library's own predictions.
``--runtime sklearn`` is refused in one line naming ``--runtime lean``; without the extra
installed, ``train`` says which one to install.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import sklambda
from sklambda.building import build
from sklambda.building.forms import lean_only_library
from sklambda.bundle.format import read_sample
from sklambda.errors import BuildError
from tests.support.events import ask_every_event_kind

pytestmark = pytest.mark.slow

CASES = {"xgboost": "classification", "lightgbm": "regression"}
FEATURES = ["rooms", "area", "age", "district"]


@pytest.fixture(scope="module", params=sorted(CASES))
def built(request: Any, houses_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Per library: the trained bundle and its package, built once (``--runtime auto``)."""
    library = request.param
    task = CASES[library]
    root = tmp_path_factory.mktemp(library)
    sklambda.train(
        str(houses_db),
        table="houses",
        target="band" if task == "classification" else "price",
        task=task,
        features=FEATURES,
        estimator=library,
        out=root / "bundle",
    )
    result = build(root / "bundle", root / "dist")
    return library, task, root, result.report


def test_auto_builds_lean_without_a_layer_and_verifies(built: Any) -> None:
    library, _, root, report = built
    assert report["runtime"] == "lean"
    assert report["verification"]["ok"], report["verification"]
    assert report["verification"]["max_rel_error"] == 0.0
    assert report["layer_packages"] == {}
    assert not (root / "dist" / "layer.zip").exists()
    model = sklambda.load(root / "bundle")  # the skops file, no extra trust
    assert lean_only_library(model.estimator) == library


def test_the_package_answers_with_the_library_s_predictions(built: Any) -> None:
    _, task, root, _ = built
    model = sklambda.load(root / "bundle")
    rows = read_sample(root / "bundle")["rows"]
    rows = [*rows, {"rooms": 9.0, "area": 1e6, "age": None, "district": None}]  # out of range
    answers = ask_every_event_kind(root / "dist", rows, proba=task == "classification")
    expected = model.predict(rows)  # the library's own prediction, through the pipeline
    assert answers["url"]["predictions"] == expected
    assert answers["direct"]["predictions"] == expected
    if task == "classification":
        got = [[p[str(c)] for c in model.classes] for p in answers["url"]["probabilities"]]
        assert got == [list(p) for p in model.predict_proba(rows)]


def test_the_scikit_learn_runtime_is_refused_naming_lean(built: Any) -> None:
    library, _, root, _ = built
    with pytest.raises(BuildError) as caught:
        build(root / "bundle", root / "sklearn-dist", runtime="sklearn")
    message = caught.value.for_cli()
    assert "--runtime lean" in message and library in message and "\n" not in message
    assert not (root / "sklearn-dist").exists()


BLOCKED = textwrap.dedent(
    """
    import sys
    sys.modules[{library!r}] = None  # as if the extra were not installed
    from sklambda.cli import main
    sys.exit(main({argv!r}))
    """
)


@pytest.mark.parametrize("library", sorted(CASES))
def test_train_without_the_extra_names_it_in_one_line(
    library: str, houses_db: Path, tmp_path: Path
) -> None:
    argv = ["train", "--db", str(houses_db), "--table", "houses", "--target", "price"]
    argv += ["--estimator", library, "--out", str(tmp_path / "bundle")]
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED.format(library=library, argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f'sklambda train: error: estimator "{library}" needs {library}, which is not '
        f"installed; install it with: pip install 'sklambda[{library}]'"
    ]
    assert not (tmp_path / "bundle").exists()


def test_loading_a_bundle_without_its_library_names_the_extra(built: Any) -> None:
    library, _, root, _ = built
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules[{library!r}] = None
        import sklambda
        from sklambda.errors import BundleError
        try:
            sklambda.load({str(root / "bundle")!r})
        except BundleError as exc:
            print(exc.for_cli())
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"pip install 'sklambda[{library}]'" in done.stdout


def test_a_booster_lean_cannot_reproduce_is_refused_not_sent_to_the_sklearn_runtime(
    houses_frame: Any, tmp_path: Path
) -> None:
    import xgboost as xgb

    X = houses_frame[["rooms", "area"]]
    model = xgb.XGBRegressor(n_estimators=3, booster="dart").fit(X, houses_frame["price"])
    sklambda.save(model, tmp_path / "bundle", X_sample=X, name="dart")
    with pytest.raises(BuildError) as caught:
        build(tmp_path / "bundle", tmp_path / "dist")  # runtime auto
    message = caught.value.for_cli()
    assert "booster='dart' is not" in message and "booster='gbtree'" in message
    assert "not xgboost" in message and "nothing was written" in message
    assert not (tmp_path / "dist").exists()


def test_the_refusal_shows_the_compilers_reason_as_written() -> None:
    # The reason (a compiler's words) may hold braces, e.g. a parameter dict's repr; a message
    # without options is not formatted, so they must not be doubled.
    from sklambda.building.forms import _lean_only_refusal

    error = _lean_only_refusal("xgboost", "step 'model': params {'booster': 'dart'} are not")
    assert "params {'booster': 'dart'} are not" in str(error)
    assert "{{" not in str(error) and "{{" not in error.for_cli()
