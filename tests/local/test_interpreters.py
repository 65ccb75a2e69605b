"""sklambda.interpreters: finding a CPython of a given minor version, without downloads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sklambda.local.interpreters import (
    Interpreter,
    find_interpreter,
    find_python,
    host_version,
    inspect_python,
)


def version_of(path: Path) -> str:
    out = subprocess.run(
        [str(path), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def python312() -> Path:
    found = find_python("3.12")
    assert found is not None, "this machine has Python 3.12 (pyenv)"
    return found


def test_host_version() -> None:
    assert host_version() == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert find_python(host_version()) == Path(sys.executable)


@pytest.mark.parametrize("version", ["3.10", "3.12", "3.13"])
def test_finds_a_real_interpreter_of_that_version(version: str) -> None:
    found = find_interpreter(version)
    assert found is not None
    assert found.version == version
    assert version_of(found.path) == version
    # The interpreter itself, never pyenv's shim (a shell script that only works when active).
    assert "shims" not in found.path.parts


def test_unknown_version_is_none_and_bad_spelling_is_an_error() -> None:
    assert find_python("3.99") is None
    with pytest.raises(ValueError, match=r'like "3\.12"'):
        find_python("python3.12")


def test_found_on_path(tmp_path: Path, python312: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").symlink_to(python312)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    found = find_interpreter("3.12")
    assert found is not None
    assert version_of(found.path) == "3.12"


def test_found_in_pyenv_versions_after_a_broken_candidate(
    tmp_path: Path, python312: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    impostor = bin_dir / "python3.12"
    # Like a pyenv shim for an inactive version: present on PATH, fails when run.
    impostor.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    impostor.chmod(0o755)
    root = tmp_path / "pyenv"
    versions = root / "versions" / "3.12.99" / "bin"
    versions.mkdir(parents=True)
    (versions / "python3.12").symlink_to(python312)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(root))
    found = find_interpreter("3.12")
    assert found is not None
    assert found.path != impostor
    assert version_of(found.path) == "3.12"
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "empty"))
    assert find_interpreter("3.12") is None


def test_results_are_cached() -> None:
    from sklambda.local.interpreters import _find_cached

    find_python("3.13")
    hits = _find_cached.cache_info().hits
    find_python("3.13")
    assert _find_cached.cache_info().hits == hits + 1


def test_inspect_python(python312: Path, tmp_path: Path) -> None:
    assert inspect_python(python312) == Interpreter(python312, "3.12")
    assert inspect_python(tmp_path / "missing") is None
    assert os.access(python312, os.X_OK)
