"""The runtime directory: awslambdaric installed per interpreter version, cached, with bootstrap."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import sklambda.local
from sklambda.local.bootstrap import (
    AWSLAMBDARIC_VERSION,
    BOOTSTRAP_NAME,
    BOOTSTRAP_SOURCE,
    cache_dir,
    ensure_runtime,
)
from sklambda.local.interpreters import find_interpreter

pytestmark = pytest.mark.slow


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKLAMBDA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "sklambda"
    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"


def test_runtime_is_installed_for_the_interpreter_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKLAMBDA_CACHE_DIR", str(tmp_path))
    interpreter = find_interpreter("3.13")
    assert interpreter is not None
    runtime = ensure_runtime(interpreter)
    assert runtime == tmp_path / "runtime" / f"awslambdaric-{AWSLAMBDARIC_VERSION}-cp313"
    assert (runtime / BOOTSTRAP_NAME).read_text() == BOOTSTRAP_SOURCE
    # The compiled runtime client matches the interpreter, not the host.
    assert list(runtime.glob("runtime_client.cpython-313-*.so"))
    for package in ("awslambdaric", "simplejson", "snapshot_restore_py.py"):
        assert (runtime / package).exists()
    check = subprocess.run(
        [str(interpreter.path), "-I", "-S", "-c", "import awslambdaric, runtime_client"],
        cwd=runtime,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode != 0  # isolated: the runtime dir is not on sys.path by itself...
    check = subprocess.run(
        [
            str(interpreter.path),
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path.insert(0, {str(runtime)!r}); "
            "import awslambdaric, runtime_client",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr  # ...the bootstrap puts it there.
    marker = (runtime / ".complete").stat().st_mtime_ns
    (runtime / BOOTSTRAP_NAME).write_text("# stale\n")
    assert ensure_runtime(interpreter) == runtime
    assert (runtime / ".complete").stat().st_mtime_ns == marker  # not reinstalled
    assert (runtime / BOOTSTRAP_NAME).read_text() == BOOTSTRAP_SOURCE  # but refreshed


def test_public_api() -> None:
    assert sorted(sklambda.local.__all__) == [
        "Cors",
        "Dist",
        "DistError",
        "EnvironmentInfo",
        "FrontLimits",
        "IamCredentials",
        "InvokeResult",
        "LocalError",
        "LocalFunction",
        "LocalServer",
        "LogLine",
        "Report",
        "RequestRecord",
        "RequestTooLargeError",
        "RuntimeClientError",
        "SettingsError",
        "TooManyRequestsError",
        "load_dist",
        "serve",
    ]
    for name in sklambda.local.__all__:
        assert getattr(sklambda.local, name) is not None
    # One error tree: everything the emulator raises for a user to fix is a SklambdaError, and a
    # bad setting is still a ValueError for code written against the old behaviour.
    assert issubclass(sklambda.local.LocalError, sklambda.SklambdaError)
    assert issubclass(sklambda.local.SettingsError, sklambda.local.LocalError)
    assert issubclass(sklambda.local.SettingsError, ValueError)
