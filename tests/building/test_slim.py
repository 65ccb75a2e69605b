"""Slimming rules on a small fake site-packages tree (the real layers are built in test_build*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sklambda.building.slim import NUMPY_ROOTS, SAFE_RULES, apply_rules, numpy_rules


def _write_tree(root: Path, files: dict[str, str]) -> Path:
    """A fake site-packages: each path written with its text."""
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return _write_tree(
        tmp_path / "python",
        {
            "numpy/__init__.py": "",
            "numpy/_core/tests/__init__.py": "",
            "numpy/_core/tests/_natype.py": "pd_NA = None\n",
            "numpy/_core/tests/test_big.py": "x = 1\n" * 500,
            "numpy/_core/include/numpy.h": "/* header */\n" * 50,
            "sklearn/__init__.py": "",
            "sklearn/linear_model/__init__.py": "",
            "sklearn/cluster/__init__.py": "",
            "sklearn/cluster/_kmeans.py": "k = 1\n" * 200,
            "bin/console-script": "#!/bin/sh\n",
        },
    )


TRACE = {
    "numpy/__init__.py",
    "numpy/_core/tests/__init__.py",
    "numpy/_core/tests/_natype.py",
    "sklearn/__init__.py",
    "sklearn/linear_model/__init__.py",
}


def test_rules_keep_what_the_trace_saw_imported(site: Path) -> None:
    report = apply_rules(site, ("installer", "tests", "sources", "unimported"), TRACE, None)
    assert (site / "numpy/_core/tests/_natype.py").is_file()
    assert not (site / "numpy/_core/tests/test_big.py").exists()
    assert not (site / "numpy/_core/include/numpy.h").exists()
    assert not (site / "sklearn/cluster").exists()
    assert (site / "sklearn/linear_model/__init__.py").is_file()
    assert not (site / "bin").exists()
    saved = {r.rule: r.bytes_saved for r in report.rules}
    assert saved["tests"] == len("x = 1\n" * 500)
    assert saved["unimported"] > 0 and saved["sources"] > 0
    assert report.after["numpy"] < report.before["numpy"]


def test_without_an_import_trace_nothing_imported_is_guessed_away(site: Path) -> None:
    """No trace means no knowledge of what is imported: keep the tests and the subpackages."""
    report = apply_rules(site, SAFE_RULES, set(), None)
    assert (site / "numpy/_core/tests/_natype.py").is_file()
    assert (site / "sklearn/cluster/_kmeans.py").is_file()
    assert {r.rule for r in report.rules}.isdisjoint({"tests", "unimported"})


def test_the_trap_rule_deletes_imported_test_modules(site: Path) -> None:
    apply_rules(site, ("tests-all",), TRACE, None)
    assert not (site / "numpy/_core/tests").exists()


def test_unknown_rule(site: Path) -> None:
    with pytest.raises(ValueError, match="unknown slimming rule 'zip-bomb'"):
        apply_rules(site, ("zip-bomb",), TRACE, None)


# -- the numpy layer's rules --------------------------------------------------------------------

SO = ".cpython-312-x86_64-linux-gnu.so"


@pytest.fixture
def numpy_site(tmp_path: Path) -> Path:
    """numpy's shape: a core extension linking a vendored library, test-helper extensions, a
    lazily imported extension, unimported subpackages, a static library and installer files."""
    return _write_tree(
        tmp_path / "python",
        {
            "numpy/__init__.py": "from . import _core, linalg\n",
            "numpy/conftest.py": "import numpy._core._umath_tests\n",
            "numpy/_core/__init__.py": "from . import _multiarray_umath\n",
            f"numpy/_core/_multiarray_umath{SO}": "\x7fELF core",
            f"numpy/_core/_simd{SO}": "\x7fELF simd" * 100,
            f"numpy/_core/_umath_tests{SO}": "\x7fELF tests",
            "numpy/_core/lib/libnpymath.a": "!<arch>" * 100,
            "numpy/linalg/__init__.py": "from . import _umath_linalg\n",
            "numpy/linalg/_linalg.py": "def legacy():\n    from numpy.linalg import lapack_lite\n",
            f"numpy/linalg/_umath_linalg{SO}": "\x7fELF linalg",
            f"numpy/linalg/lapack_lite{SO}": "\x7fELF lapack",
            "numpy/random/__init__.py": "from . import _generator\n",
            f"numpy/random/_generator{SO}": "\x7fELF random" * 100,
            "numpy.libs/libscipy_openblas64_-4b78795a.so": "\x7fELF openblas",
            "numpy-2.5.5.dist-info/METADATA": "Name: numpy\nVersion: 2.5.5\n",
            "numpy-2.5.5.dist-info/RECORD": "numpy/__init__.py,sha256=...,30\n" * 50,
            ".lock": "",
        },
    )


# What the lean runtime imports, as traced on an aarch64 twin: extension modules are matched by
# module name, whatever the platform tag of the file.
NUMPY_TRACE = {
    "numpy/__init__.py",
    "numpy/_core/__init__.py",
    "numpy/_core/_multiarray_umath.cpython-312-aarch64-linux-gnu.so",
    "numpy/linalg/__init__.py",
    "numpy/linalg/_umath_linalg.cpython-312-aarch64-linux-gnu.so",
}


def test_the_numpy_layer_keeps_loaded_and_named_extensions_and_drops_the_rest(
    numpy_site: Path,
) -> None:
    rules = numpy_rules(SAFE_RULES)
    assert rules == (
        "installer",
        "tests",
        "sources",
        "data",
        "strip",
        "unimported",
        "extensions",
        "sourceless",
    )
    report = apply_rules(numpy_site, rules, NUMPY_TRACE, None, roots=NUMPY_ROOTS)
    kept = {p.relative_to(numpy_site).as_posix() for p in numpy_site.rglob("*") if p.is_file()}
    assert kept == {
        "numpy/__init__.py",
        "numpy/_core/__init__.py",
        f"numpy/_core/_multiarray_umath{SO}",
        "numpy/linalg/__init__.py",
        "numpy/linalg/_linalg.py",
        f"numpy/linalg/_umath_linalg{SO}",
        f"numpy/linalg/lapack_lite{SO}",  # unloaded, but _linalg.py imports it lazily
        "numpy.libs/libscipy_openblas64_-4b78795a.so",  # vendored: never a candidate
        "numpy-2.5.5.dist-info/METADATA",
    }
    by_rule = {r.rule: r for r in report.rules}
    assert by_rule["extensions"].files == 2  # _simd and _umath_tests (named only by conftest)
    assert by_rule["extensions"].bytes_saved == len("\x7fELF simd" * 100) + len("\x7fELF tests")
    assert by_rule["unimported"].files == 2  # numpy/random
    assert by_rule["sources"].files == 1  # the static library
    assert by_rule["installer"].files == 2  # .lock and RECORD
    assert by_rule["tests"].files == 1  # conftest.py
    assert report.after["numpy.libs"] == report.before["numpy.libs"]


def test_without_a_trace_no_extension_module_is_dropped(numpy_site: Path) -> None:
    report = apply_rules(numpy_site, ("extensions",), set(), None, roots=NUMPY_ROOTS)
    assert report.rules == []
    assert (numpy_site / f"numpy/_core/_simd{SO}").is_file()


def test_the_scikit_learn_layer_leaves_numpy_subpackages_alone(numpy_site: Path) -> None:
    apply_rules(numpy_site, ("unimported",), NUMPY_TRACE, None)  # roots: scipy, sklearn, joblib
    assert (numpy_site / f"numpy/random/_generator{SO}").is_file()
