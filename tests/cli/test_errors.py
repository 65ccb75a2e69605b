"""Every mistake a user can make ends the same way: one line on stderr and exit code 2.

Run as a user runs the command (a fresh process), since what is checked is what the terminal
shows: no traceback, whatever layer raised it (the emulator's settings, the OS, a closed pipe).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import run_cli


def _one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def dist(local_dists: dict[str, Path]) -> Path:
    return local_dists["web"]


def test_serve_a_path_that_does_not_exist(tmp_path: Path) -> None:
    _one_line(run_cli("serve", str(tmp_path / "nonexistent")), "build.json not found")


def test_serve_an_empty_directory(tmp_path: Path) -> None:
    _one_line(run_cli("serve", str(tmp_path)), "sklambda build")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--port", "99999"), ("port must be 0-65535", "99999")),
        (("--host", "0.0.0.0"), ("loopback", "0.0.0.0")),
        # A DNS name that merely starts like a loopback address is not one.
        (("--host", "127.evil.example"), ("loopback", "127.evil.example")),
        (("--memory", "64"), ("memory must be 128", "64")),
        (("--timeout", "901"), ("timeout must be", "901")),
    ],
)
def test_serve_settings_outside_lambdas_range(
    dist: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    _one_line(run_cli("serve", str(dist), *args), *words)


def test_invoke_memory_below_lambdas_minimum(dist: Path) -> None:
    _one_line(run_cli("invoke", str(dist), "--memory", "50", "--json", "{}"), "memory", "50")


def test_serve_on_a_port_already_in_use_names_the_flag(dist: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line(run_cli("serve", str(dist), "--port", str(port)), str(port), "in use")
    # The fix is spelled the way a shell user types it (and as port=0 from Python).
    assert "--port 0" in line


def test_an_unwritable_out_is_one_line(diabetes_db: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_cli(
        "train",
        "--db",
        str(diabetes_db),
        "--table",
        "patients",
        "--target",
        "progression",
        "--out",
        str(blocker / "bundle"),
    )
    _one_line(result, "a-file")


def test_a_fix_is_spelled_in_the_callers_language(tmp_path: Path) -> None:
    """The library names the setting that fixes it; the CLI spells it as a flag, once."""
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    import sklambda

    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    model = LinearRegression().fit(frame, [0.0, 1.0, 2.0, 3.0])
    sklambda.save(model, tmp_path / "pickled", X_sample=frame, format="joblib")
    with pytest.raises(sklambda.UntrustedModelError, match=r"pass trust_pickle=True$"):
        sklambda.load(tmp_path / "pickled")
    result = run_cli("predict", str(tmp_path / "pickled"), "--json", '{"x": 1}')
    line = _one_line(result, "pass --trust-pickle")
    assert "trust_pickle" not in line


def test_output_into_a_closed_pipe_ends_quietly(diabetes_bundle: Path) -> None:
    """`sklambda predict … | head -c 10`: the reader leaves early; no traceback, no noise."""
    rows = [[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]] * 200
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sklambda",
            "predict",
            str(diabetes_bundle),
            "--json",
            json.dumps({"instances": rows}),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the model has even loaded: every write meets a closed pipe
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0
    assert stderr == ""
