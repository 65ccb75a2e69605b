"""`sklambda serve` and `sklambda invoke` as users run them: separate processes, real sockets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli

pytestmark = pytest.mark.slow

ROW = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]


@pytest.fixture(scope="module")
def dist(seed_dist: Path) -> Path:
    return seed_dist  # the same build (default python), once per session (tests/conftest.py)


def test_invoke_json_goes_through_a_function_url_event(dist: Path) -> None:
    result = run_cli("invoke", str(dist), "--json", json.dumps({"instances": [ROW]}))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["predictions"]) == 1
    assert "HTTP 200" in result.stderr
    report = [line for line in result.stderr.splitlines() if line.startswith("REPORT")]
    assert len(report) == 1 and "Init Duration" in report[0] and "Max Memory Used" in report[0]


def test_invoke_raw_event_file(dist: Path, tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text(json.dumps({"instances": [ROW]}))
    result = run_cli("invoke", str(dist), "--event", str(tmp_path / "event.json"))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["predictions"]) == 1


def test_invoke_with_a_bundle_builds_first(diabetes_bundle: Path) -> None:
    result = run_cli("invoke", str(diabetes_bundle), "--json", '{"instances": [[1]]}')
    assert result.returncode == 2, result.stderr  # a 4xx answer: the request was refused
    assert json.loads(result.stdout)["error"]["code"] == "wrong_length"
    assert "HTTP 400" in result.stderr


def test_invoke_raw_event_refused_exits_2(dist: Path, tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text(json.dumps({"instances": [[1]]}))  # a direct invoke
    result = run_cli("invoke", str(dist), "--event", str(tmp_path / "event.json"))
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["error"]["code"] == "wrong_length"


def test_invoke_missing_event_file_is_one_line(dist: Path, tmp_path: Path) -> None:
    result = run_cli("invoke", str(dist), "--event", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "event file not found" in result.stderr


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_over_http_streams_reports_and_stops_cleanly(
    dist: Path, stop_signal: int
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sklambda", "serve", str(dist), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("function URL: http://127.0.0.1:"), first
        url = first.split()[2]
        for _ in range(2):
            request = urllib.request.Request(
                url,
                data=json.dumps({"instances": [ROW]}).encode(),
                headers={"content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 200
                assert len(json.loads(response.read())["predictions"]) == 1
        environments = _children(process.pid)
        assert environments, "an execution environment should be running"
    finally:
        process.send_signal(stop_signal)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    reports = [line for line in err.splitlines() if line.startswith("REPORT")]
    assert len(reports) == 2
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]  # cold, then warm
    deadline = time.monotonic() + 5
    while (
        any(Path(f"/proc/{pid}").exists() for pid in environments) and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert not [pid for pid in environments if Path(f"/proc/{pid}").exists()]


def test_build_cli_prints_sizes_and_proof(diabetes_bundle: Path, tmp_path: Path) -> None:
    result = run_cli(
        "build", str(diabetes_bundle), "--out", str(tmp_path / "d"), "--python", "3.12"
    )
    assert result.returncode == 0, result.stderr
    for words in ("function.zip", "headroom", "verified in the local emulator", "bytecode"):
        assert words in result.stdout
    assert json.loads((tmp_path / "d" / "build.json").read_text())["python"] == "3.12"


def test_build_cli_refusal_is_one_line(houses_frame: Any, tmp_path: Path) -> None:
    from sklearn.gaussian_process import GaussianProcessRegressor

    import sklambda

    # Every `train --estimator` has a lean form now: a model the lean runtime lacks, saved
    # with joblib (the skops allowlist need not know it for this refusal).
    X = houses_frame[["rooms", "area"]].head(40)
    model = GaussianProcessRegressor().fit(X, houses_frame["price"].head(40))
    sklambda.save(model, tmp_path / "b", X_sample=X, format="joblib")
    result = run_cli(
        "build",
        str(tmp_path / "b"),
        "--out",
        str(tmp_path / "d"),
        "--runtime",
        "lean",
        "--trust-pickle",
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--runtime sklearn" in result.stderr
    assert not (tmp_path / "d").exists()
