"""The package directory's one reader: ``sklambda.dist.read_report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sklambda.aws.errors import DeployError
from sklambda.dist import BUILD_JSON, FORMAT_VERSION, DistError, read_report
from sklambda.errors import SklambdaError


def write(directory: Path, report: object) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / BUILD_JSON).write_text(json.dumps(report))
    return directory


def test_reads_current_and_unversioned_reports(tmp_path: Path) -> None:
    current = {"format_version": FORMAT_VERSION, "python": "3.12", "handler": "h.handler"}
    assert read_report(write(tmp_path / "a", current)) == current
    # Packages built before build.json carried a version read as version 1.
    assert read_report(write(tmp_path / "b", {"python": "3.12"}))["python"] == "3.12"


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (["not", "an", "object"], "must hold a JSON object"),
        ({"format_version": FORMAT_VERSION + 1}, "upgrade sklambda"),
        ({"format_version": "1"}, "format_version '1'"),
        ({"python": "3.12"}, r"lacks 'handler'; rebuild the package"),
    ],
)
def test_refuses_what_it_cannot_read(tmp_path: Path, report: object, message: str) -> None:
    with pytest.raises(DistError, match=message):
        read_report(write(tmp_path / "d", report), required=("python", "handler"))


def test_missing_and_broken_files_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DistError, match=r"build\.json not found.*sklambda build BUNDLE --out"):
        read_report(tmp_path / "nowhere")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / BUILD_JSON).write_text("{not json")
    with pytest.raises(DistError, match="not valid JSON.*rebuild the package"):
        read_report(tmp_path / "broken")


def test_each_stage_gets_its_own_error_type(tmp_path: Path) -> None:
    from sklambda.local import DistError as LocalDistError

    with pytest.raises(DeployError, match="not a sklambda package"):
        read_report(tmp_path, error=DeployError)
    assert issubclass(DistError, SklambdaError)
    assert issubclass(LocalDistError, DistError)  # the emulator's is the same kind of error


def test_the_package_file_names_have_one_home() -> None:
    """No module spells a package file's name itself: it imports it from ``sklambda.dist``."""
    import ast

    import sklambda

    names = {"build.json", "function.zip", "layer.zip", "tuning.json"}
    root = Path(sklambda.__file__).parent
    spelled = [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "dist.py" or path.parent != root
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert spelled == []
