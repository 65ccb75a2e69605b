"""The README runs as written: every ``sh`` block, in order, in one fresh directory.

A block that cannot run here says why in a marker comment on the line before it
(``<!-- readme-test: skip (needs an AWS account) -->``), and the test shows that reason as a skip.
``<!-- readme-test: needs demo-out/diabetes.db -->`` marks the blocks that start from the demo
database ``make demo`` writes; the test writes it with the same function.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = re.compile(r"<!--\s*readme-test:\s*(skip|needs)\s*(.*?)\s*-->")


def shell_blocks() -> list[tuple[int, str, str | None, str | None]]:
    """``(line, code, skip reason, what it needs)`` for each ``sh`` block of the README."""
    lines = README.read_text().splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            previous = lines[start - 1] if start else ""
            marker = MARKER.search(previous)
            skip = marker.group(2).strip("() ") if marker and marker.group(1) == "skip" else None
            needs = marker.group(2) if marker and marker.group(1) == "needs" else None
            blocks.append((start + 1, "\n".join(lines[start + 1 : j]), skip, needs))
            i = j
        i += 1
    return blocks


BLOCKS = shell_blocks()


def test_the_readme_has_runnable_blocks_and_no_phantom_database() -> None:
    runnable = [b for b in BLOCKS if b[2] is None]
    assert len(runnable) >= 2
    assert "houses.db" not in README.read_text()
    head = README.read_text().split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme")


@pytest.mark.parametrize(
    ("line", "code", "skip", "needs"), BLOCKS, ids=[f"line{b[0]}" for b in BLOCKS]
)
def test_readme_block_runs_as_written(
    line: int, code: str, skip: str | None, needs: str | None, workdir: Path
) -> None:
    if skip is not None:
        pytest.skip(f"README line {line}: {skip}")
    if needs == "demo-out/diabetes.db" and not (workdir / needs).is_file():
        from sklambda.cli.demo import make_database

        make_database(workdir / needs)
    elif needs not in (None, "demo-out/diabetes.db"):
        pytest.fail(f"README line {line} needs {needs!r}, which this test cannot provide")
    if "sqlite3 " in code and shutil.which("sqlite3") is None:
        pytest.skip(f"README line {line}: no sqlite3 shell on this machine")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"README line {line}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
