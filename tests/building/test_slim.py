"""Slimming rules on a small fake site-packages tree (the real layers are built in test_build*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sklambda.building.slim import SAFE_RULES, apply_rules


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "python"
    for path, text in {
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
    }.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


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
