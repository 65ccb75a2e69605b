"""`sklambda bench`, `tune` and `cost` as users run them: fresh processes, real packages, PNGs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.support.aws import REGION
from tests.support.charts import assert_real_png
from tests.support.cli import run_cli

pytestmark = pytest.mark.slow


def _one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().count("\n") == 0, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_bench_prints_a_table_and_writes_results_and_a_chart(
    seed_dist: Path, tmp_path: Path
) -> None:
    out, chart = tmp_path / "r.json", tmp_path / "latency.png"
    result = run_cli(
        "bench", str(seed_dist), "--cold", "2", "--warm", "3", "--memory", "256,1024",
        "--out", str(out), "--chart", str(chart),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "p50 / p90 / p99" in result.stdout and "1,024 MB" in result.stdout
    doc = json.loads(out.read_text())
    assert doc["format"] == "sklambda-bench-results" and doc["format_version"] == 1
    assert [s["memory_mb"] for s in doc["packages"][0]["sizes"]] == [256, 1024]
    assert_real_png(chart)


def test_bench_json_has_the_documented_keys_per_memory_size(
    seed_dist: Path, mlp_dist: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "by-model.png"
    result = run_cli(
        "bench", str(seed_dist), str(mlp_dist), "--cold", "1", "--warm", "2", "--rows", "5",
        "--json", "--chart", str(chart),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [p["name"] for p in doc["packages"]] == ["patients", "mlp100"]
    for package in doc["packages"]:
        assert package["rows"] == 5
        (size,) = package["sizes"]
        assert size["memory_mb"] == 1024
        for key in ("cold_ms", "warm_ms"):
            assert set(size[key]) == {"p50", "p90", "p99", "n"}
        for key in ("init_ms", "max_memory_mb", "cpu_share"):
            assert key in size
        assert set(size["cpu_share"]) == {"applied", "vcpus", "reason"}
    assert_real_png(chart)  # one memory size, two packages: bars by model


def test_tune_recommends_applies_and_cost_reads_its_results(
    seed_dist: Path, tmp_path: Path, endpoint: str
) -> None:
    dist = tmp_path / "dist"
    subprocess.run(["cp", "-r", str(seed_dist), str(dist)], check=True)
    results, tune_png, cost_png = tmp_path / "t.json", tmp_path / "tune.png", tmp_path / "cost.png"
    tuned = run_cli(
        "tune", str(dist), "--memory", "128,512,1024", "--cold", "1", "--warm", "3",
        "--strategy", "cost", "--chart", str(tune_png), "--out", str(results), "--apply",
    )  # fmt: skip
    assert tuned.returncode == 0, tuned.stderr
    assert "recommended:" in tuned.stdout and "for cost" in tuned.stdout
    doc = json.loads(results.read_text())
    chosen = doc["recommended_memory_mb"]
    assert chosen in (128, 512, 1024)
    assert f"now uses {chosen} MB" in tuned.stderr
    assert json.loads((dist / "tuning.json").read_text())["memory_mb"] == chosen
    assert_real_png(tune_png)

    priced = run_cli(
        "cost", "--from", str(results), "--requests-per-month", "3000000",
        "--chart", str(cost_png), "--api-gateway", "http",
    )  # fmt: skip
    assert priced.returncode == 0, priced.stderr
    assert "Lambda is cheaper than SageMaker ml.t2.medium below" in priced.stdout
    assert f"{chosen:,} MB" in priced.stdout
    assert_real_png(cost_png)
    as_json = run_cli("cost", "--from", str(results), "--requests-per-month", "3e6", "--json")
    estimate = json.loads(as_json.stdout)
    assert estimate["inputs"]["memory_mb"] == chosen
    assert {"lambda_monthly_usd", "lambda_parts_usd", "alternatives"} <= set(estimate)
    assert all("break_even_requests_per_month" in o for o in estimate["alternatives"])

    # `sklambda deploy` takes the tuned memory unless --memory says otherwise.
    aws = ["--region", REGION, "--endpoint-url", endpoint]
    deployed = run_cli("deploy", str(dist), "--name", "tunedfn", *aws)
    assert deployed.returncode == 0, deployed.stderr
    assert f"memory: {chosen} MB, chosen by sklambda tune" in deployed.stderr
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
    assert lam.get_function_configuration(FunctionName="tunedfn")["MemorySize"] == chosen
    again = run_cli("deploy", str(dist), "--name", "tunedfn", "--memory", "2048", *aws)
    assert again.returncode == 0, again.stderr
    assert lam.get_function_configuration(FunctionName="tunedfn")["MemorySize"] == 2048


def test_cost_from_given_numbers_prints_parts_and_break_evens(tmp_path: Path) -> None:
    result = run_cli(
        "cost", "--duration-ms", "1000", "--memory", "1024", "--requests-per-month", "2000000",
        "--init-ms", "900", "--provisioned", "0", "--keep-warm-every", "10",
        "--sagemaker-instance", "ml.t2.medium",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for part in ("requests", "duration", "init", "provisioned", "keep-warm", "total"):
        assert part in result.stdout
    words = " ".join(result.stdout.split())  # as a terminal of any width shows it
    assert "below 2.83M requests/month at 1000 ms and 1,024 MB" in words


def test_bad_arguments_are_one_line_and_exit_2(seed_dist: Path, diabetes_bundle: Path) -> None:
    _one_line_error(run_cli("bench", str(seed_dist), "--memory", "64"), "memory must be 128")
    _one_line_error(run_cli("bench", str(seed_dist), "--memory", "lots"), "memory sizes in MB")
    _one_line_error(run_cli("bench", str(seed_dist), "--region", "us-east-1"), "go with --deployed")
    _one_line_error(run_cli("cost", "--requests-per-month", "5"), "--duration-ms and --memory")
    _one_line_error(
        run_cli("cost", "--from", "/nonexistent/r.json", "--requests-per-month", "5"),
        "results file not found",
    )
    _one_line_error(
        run_cli("cost", "--duration-ms", "5", "--memory", "128", "--requests-per-month", "5",
                "--region", "eu-west-1", "--provisioned", "2"),
        "no price for 'lambda.provisioned.concurrency.x86_64' in eu-west-1",
    )  # fmt: skip
    _one_line_error(run_cli("tune", str(diabetes_bundle), "--apply"), "build it first")
    _one_line_error(run_cli("tune", str(seed_dist), "--strategy", "cheap"), "invalid choice")


def test_a_chart_without_matplotlib_says_how_to_get_it(seed_dist: Path, tmp_path: Path) -> None:
    # matplotlib made unimportable in this process only: the error comes before any measuring.
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from sklambda.cli import main\n"
        f"sys.exit(main(['bench', {str(seed_dist)!r}, '--chart', {str(tmp_path / 'c.png')!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    _one_line_error(result, "pip install 'sklambda[charts]'")
    assert not (tmp_path / "c.png").exists()
