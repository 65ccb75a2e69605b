"""Shared fixtures: small real databases and trained bundles (built once per test session)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

from tests.support import aws as aws_support
from tests.support import handlers

# Hypothesis on a shared 2-core machine: no per-example deadline (a loaded machine is not a slow
# function), as many examples as each test asks, new examples each run (print_blob reproduces a
# failure). HYPOTHESIS_PROFILE=repeatable draws the same examples every run.
settings.register_profile("sklambda", deadline=None, print_blob=True)
settings.register_profile("repeatable", deadline=None, print_blob=True, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sklambda"))


@pytest.fixture(scope="session")
def diabetes_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklambda.cli.demo import make_database

    return make_database(tmp_path_factory.mktemp("db") / "diabetes.db")


@pytest.fixture(scope="session")
def houses_frame() -> pd.DataFrame:
    """Numbers, text categories and missing values: the preprocessing paths a table can take."""
    rng = np.random.default_rng(7)
    n = 240
    rooms = rng.integers(1, 7, n).astype(float)
    area = rng.normal(90, 25, n).round(1)
    age = rng.integers(0, 80, n).astype(float)
    age[rng.random(n) < 0.1] = np.nan
    district = rng.choice(["north", "south", "centre"], n).astype(object)
    district[rng.random(n) < 0.05] = None
    bonus = {"north": 30.0, "south": -10.0, "centre": 60.0, None: 0.0}
    price = (
        50 * rooms
        + 2.1 * area
        - 0.8 * np.nan_to_num(age, nan=40)
        + np.array([bonus[d] for d in district])
        + rng.normal(0, 15, n)
    )
    band = np.where(price > np.median(price), "high", "low")
    return pd.DataFrame(
        {
            "rooms": rooms,
            "area": area,
            "age": age,
            "district": district,
            "price": price.round(2),
            "band": band,
        }
    )


@pytest.fixture(scope="session")
def houses_db(tmp_path_factory: pytest.TempPathFactory, houses_frame: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("db") / "houses.db"
    with sqlite3.connect(path) as conn:
        houses_frame.to_sql("houses", conn, index=False)
        conn.execute("CREATE TABLE empty_table (a REAL, b REAL)")
    return path


@pytest.fixture(scope="session")
def diabetes_bundle(tmp_path_factory: pytest.TempPathFactory, diabetes_db: Path) -> Path:
    import sklambda

    out = tmp_path_factory.mktemp("bundles") / "diabetes"
    sklambda.train(str(diabetes_db), table="patients", target="progression", out=out)
    return out


@pytest.fixture(scope="session")
def houses_classifier(tmp_path_factory: pytest.TempPathFactory, houses_db: Path) -> Path:
    import sklambda

    out = tmp_path_factory.mktemp("bundles") / "bands"
    sklambda.train(
        str(houses_db),
        table="houses",
        target="band",
        features=["rooms", "area", "age", "district"],
        out=out,
    )
    return out


# -- local emulator (sklambda.local) ---------------------------------------------------------------


@pytest.fixture(scope="session")
def local_dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny packages for the emulator tests, by role."""
    root = tmp_path_factory.mktemp("local-dists")
    layer = {
        "python/layer_pkg/__init__.py": 'NAME = "from layer python/"\n',
        "python/lib/python3.12/site-packages/layer_site_mod.py": 'NAME = "from site-packages"\n',
    }
    make = handlers.make_local_dist
    return {
        "basic": make(root, "basic", handlers.LOCAL_BASIC_HANDLER, layer=layer),
        "web": make(root, "web", handlers.LOCAL_WEB_HANDLER),
        "init_error": make(root, "init_error", handlers.LOCAL_INIT_ERROR_HANDLER),
        "missing_import": make(root, "missing_import", handlers.LOCAL_MISSING_IMPORT_HANDLER),
    }


@pytest.fixture(scope="session")
def local_dist_maker() -> Callable[..., Path]:
    """``make(root, name, source, python="3.12", layer=None) -> Path`` for one-off packages."""
    return handlers.make_local_dist


# -- AWS: moto's server on loopback, fake credentials --------------------------------------------


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
            mp.delenv(key, raising=False)
        for key, value in aws_support.FAKE_ENV.items():
            mp.setenv(key, value)
        yield


@pytest.fixture(scope="module")
def endpoint(aws_env: None) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    yield f"http://{host}:{port}"
    server.stop()


# -- built packages for bench / tune (sklambda.benchmarking) ---------------------------------------


@pytest.fixture(scope="session")
def seed_dist(diabetes_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed model (scaler + linear regression) as a verified lean package for this
    process's Python, so its answers can be compared with the in-process runtime's bit for bit
    (Python 3.12 changed how ``sum()`` adds floats)."""
    import sys

    from sklambda.building import build

    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    return build(diabetes_bundle, tmp_path_factory.mktemp("bench") / "seed", python=host).dist


@pytest.fixture(scope="session")
def seed_dist_312(diabetes_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed model as a verified lean package for python3.12, built once for every module.

    Read-only: a test that changes a package copies it first (``shutil.copytree``).
    """
    from sklambda.building import build

    return build(diabetes_bundle, tmp_path_factory.mktemp("seed312") / "dist", python="3.12").dist


@pytest.fixture(scope="session")
def mlp_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CPU-bound package: MLPClassifier with 3 hidden layers of 100 on iris (lean + numpy)."""
    import warnings

    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    import sklambda
    from sklambda.building import build

    X, y = load_iris(return_X_y=True, as_frame=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 20 iterations do not converge, and need not
        model = Pipeline(
            [
                ("scale", StandardScaler()),
                ("mlp", MLPClassifier((100, 100, 100), max_iter=20, random_state=0)),
            ]
        ).fit(X, y)
    root = tmp_path_factory.mktemp("bench")
    sklambda.save(model, root / "mlp100", X_sample=X, name="mlp100")
    return build(root / "mlp100", root / "mlp100-dist").dist
