"""Shared fixtures: small real databases and trained bundles (built once per test session)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `sklambda` CLI in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "sklambda", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def diabetes_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklambda.demo import make_database

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

LOCAL_BASIC_HANDLER = """
import os, socket, subprocess, sys, time

import layer_pkg
import layer_site_mod

INIT_PID = os.getpid()
print("init done in", INIT_PID)


def handler(event, context):
    action = event.get("action", "echo")
    print("handling", action, context.aws_request_id)
    if action == "echo":
        return {"event": event, "pid": os.getpid(), "request_id": context.aws_request_id}
    if action == "describe":
        return {
            "version": list(sys.version_info[:2]),
            "path": sys.path,
            "awslambdaric": "awslambdaric" in sys.modules,
            "environ": dict(os.environ),
            "cwd": os.getcwd(),
            "layers": [layer_pkg.NAME, layer_site_mod.NAME],
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "pid": os.getpid(),
        }
    if action == "imports":
        found = {}
        for name in ("sklambda", "numpy", "pytest"):
            try:
                __import__(name)
                found[name] = "importable"
            except ImportError as exc:
                found[name] = type(exc).__name__
        return found
    if action == "block":
        # Connect to the test, which learns the handler is running, then wait for its word.
        with socket.create_connection(("127.0.0.1", event["port"])) as conn:
            conn.recv(1)
        return {"unblocked": True, "pid": os.getpid()}
    if action == "sleep":
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "pid": os.getpid()}
    if action == "raise":
        raise ValueError("the handler says no")
    if action == "big":
        return "x" * (7 * 1024 * 1024)
    if action == "write_task_root":
        try:
            with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "new.txt"), "w") as f:
                f.write("x")
        except OSError as exc:
            return {"error": type(exc).__name__, "errno": exc.errno}
        return {"error": None}
    if action == "write_tmp":
        path = os.path.join(os.environ["TMPDIR"], "scratch.txt")
        with open(path, "w") as f:
            f.write("ok")
        with open(path) as f:
            return {"read_back": f.read(), "path": path}
    if action == "allocate":
        blob = b"x" * (event["mb"] * 1024 * 1024)
        return {"allocated": len(blob)}
    if action == "spawn":
        child = subprocess.Popen(["sleep", "300"])
        return {"child": child.pid, "pid": os.getpid()}
    if action == "exit":
        os._exit(3)
    raise KeyError(action)
"""

LOCAL_WEB_HANDLER = """
import base64, json


def handler(event, context):
    path = event["rawPath"]
    if path == "/plain":
        return {"answer": 42}
    if path == "/string":
        return "Hello, world!"
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/cookies":
        return {"statusCode": 201, "headers": {"x-custom": "yes"}, "body": "made",
                "cookies": ["a=1; Max-Age=60", "b=2; Path=/"]}
    if path == "/raise":
        raise RuntimeError("broken route")
    if path == "/malformed":
        return {"statusCode": "not a number"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""

LOCAL_INIT_ERROR_HANDLER = """
raise RuntimeError("module-level failure")


def handler(event, context):
    return "never"
"""

LOCAL_MISSING_IMPORT_HANDLER = """
import sklambda  # on the host's venv, never in the package


def handler(event, context):
    return "never"
"""


def _local_make_dist(
    root: Path,
    name: str,
    source: str,
    *,
    python: str = "3.12",
    layer: dict[str, str] | None = None,
) -> Path:
    """Write a package directory: function.zip with ``<name>_handler.py``, layer.zip, build.json."""
    import json
    import zipfile

    dist = root / name
    dist.mkdir(parents=True)
    module = f"{name}_handler"
    with zipfile.ZipFile(dist / "function.zip", "w") as zipped:
        zipped.writestr(f"{module}.py", source)
    if layer:
        with zipfile.ZipFile(dist / "layer.zip", "w") as zipped:
            for arcname, text in layer.items():
                zipped.writestr(arcname, text)
    meta = {"runtime": "lean", "python": python, "arch": "x86_64", "handler": f"{module}.handler"}
    (dist / "build.json").write_text(json.dumps(meta))
    return dist


@pytest.fixture(scope="session")
def local_dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny packages for the emulator tests, by role."""
    root = tmp_path_factory.mktemp("local-dists")
    layer = {
        "python/layer_pkg/__init__.py": 'NAME = "from layer python/"\n',
        "python/lib/python3.12/site-packages/layer_site_mod.py": 'NAME = "from site-packages"\n',
    }
    return {
        "basic": _local_make_dist(root, "basic", LOCAL_BASIC_HANDLER, layer=layer),
        "web": _local_make_dist(root, "web", LOCAL_WEB_HANDLER),
        "init_error": _local_make_dist(root, "init_error", LOCAL_INIT_ERROR_HANDLER),
        "missing_import": _local_make_dist(root, "missing_import", LOCAL_MISSING_IMPORT_HANDLER),
    }


@pytest.fixture(scope="session")
def local_dist_maker() -> Callable[..., Path]:
    """``make(root, name, source, python="3.12", layer=None) -> Path`` for one-off packages."""
    return _local_make_dist
