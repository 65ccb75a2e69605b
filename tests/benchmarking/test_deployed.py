"""``bench --deployed``: its two halves, each against the fake that can show it.

- Invoke + REPORT parsing against the **local emulator's** Invoke API, which answers
  ``LogType=Tail`` with the invocation's real log (START … REPORT) as ``LogResult``. What it
  cannot show: configuration updates — it has no control plane, so no forced cold start or
  memory change can be tried there (its first invoke is cold by itself, which is used).
- Forcing cold starts and setting memory against **moto's server**, which keeps function
  configurations and answers ``UpdateFunctionConfiguration`` / ``GetFunction`` like Lambda.
  What it cannot show: that an update really recycles environments, or any REPORT line —
  moto runs no code without Docker (its invoke returns an error payload and no log).
Real AWS is the only place both meet; ``tests/aws/test_real.py`` is where such opt-in tests go.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

import sklambda
from sklambda.aws.client import AwsClient
from sklambda.benchmarking import BenchError, Deployed
from sklambda.benchmarking.deployed import NONCE_VARIABLE, ColdStarts, DeployedFunction
from sklambda.local import serve
from sklambda.local.url_events import post_event
from tests.support.aws import REGION
from tests.support.cli import run_cli

pytestmark = pytest.mark.slow

BODY = json.dumps({"instances": [[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]]}).encode()


@pytest.fixture
def emulator(seed_dist: Path, aws_env: None) -> Iterator[str]:
    with serve(seed_dist, port=0, memory=512) as server:
        yield server.url


def test_invoke_reads_the_report_line_from_the_emulators_log_result(emulator: str) -> None:
    client = AwsClient(region=REGION, endpoint_url=emulator)
    function = DeployedFunction(client, "function")
    first, size = function.invoke(json.dumps(post_event(BODY)).encode())
    second, _ = function.invoke(json.dumps(post_event(BODY)).encode())
    assert first.cold and first.init_ms is not None and first.init_ms > 0
    assert not second.cold and second.init_ms is None
    for sample in (first, second):
        assert sample.memory_size_mb == 512 and sample.max_memory_mb > 0
        assert sample.billed_ms >= sample.duration_ms + (sample.init_ms or 0)
        assert sample.error is None
    assert size > 0


def test_bench_of_a_deployed_function_needs_no_control_plane_without_cold_starts(
    emulator: str, seed_dist: Path
) -> None:
    # The package directory only supplies the request rows; the emulator answers the invokes.
    results = sklambda.bench(
        seed_dist,
        deployed=Deployed("function", region=REGION, endpoint_url=emulator),
        cold=0,
        warm=3,
    )
    (size,) = results.to_json()["packages"][0]["sizes"]
    assert size["memory_mb"] == 512  # read from REPORT's Memory Size
    # The first invoke of a fresh emulator starts an environment: REPORT says so.
    assert size["cold_ms"]["n"] == 1 and size["warm_ms"]["n"] == 2
    assert size["memory_limit"] == "lambda" and size["cpu_share"]["applied"] is True
    assert results.to_json()["packages"][0]["where"] == "deployed"


def test_the_cli_reads_a_deployed_functions_report_lines(emulator: str, seed_dist: Path) -> None:
    result = run_cli(
        "bench", str(seed_dist), "--deployed", "function", "--endpoint-url", emulator,
        "--region", REGION, "--cold", "0", "--warm", "3", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (size,) = json.loads(result.stdout)["packages"][0]["sizes"]
    assert size["warm_ms"]["n"] + size["cold_ms"]["n"] == 3
    assert size["warm_ms"]["p50"] > 0


@pytest.fixture(scope="module")
def bench_role(endpoint: str) -> str:
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
    return iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]


@pytest.fixture
def moto_function(endpoint: str, bench_role: str) -> Iterator[str]:
    role = bench_role
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return 1\n")
    boto3.client("lambda", region_name=REGION, endpoint_url=endpoint).create_function(
        FunctionName="benchfn",
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": code.getvalue()},
        MemorySize=256,
        Environment={"Variables": {"MODEL": "v3"}},
    )
    yield "benchfn"
    boto3.client("lambda", region_name=REGION, endpoint_url=endpoint).delete_function(
        FunctionName="benchfn"
    )


def _config(endpoint: str, name: str) -> dict:
    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
    return lam.get_function_configuration(FunctionName=name)


def test_cold_starts_are_forced_by_a_new_environment_variable_and_undone(
    endpoint: str, moto_function: str
) -> None:
    control = ColdStarts(AwsClient(region=REGION, endpoint_url=endpoint), moto_function)
    assert not control.changed
    first = control.force()
    variables = _config(endpoint, moto_function)["Environment"]["Variables"]
    assert variables == {"MODEL": "v3", NONCE_VARIABLE: first}
    second = control.force()
    assert second != first
    assert _config(endpoint, moto_function)["Environment"]["Variables"][NONCE_VARIABLE] == second
    control.set_memory(1769)
    assert _config(endpoint, moto_function)["MemorySize"] == 1769
    assert control.memory() == 256  # what was there before
    control.restore()
    config = _config(endpoint, moto_function)
    assert config["MemorySize"] == 256
    assert config["Environment"]["Variables"] == {"MODEL": "v3"}
    assert config["LastUpdateStatus"] == "Successful"


def test_a_failed_deployed_bench_puts_the_configuration_back(
    endpoint: str, moto_function: str, seed_dist: Path
) -> None:
    # moto's invoke runs nothing (no Docker) and returns no log: bench stops with a clear error
    # after it changed memory and forced a cold start; both must be undone.
    with pytest.raises(BenchError, match="no REPORT line"):
        sklambda.bench(
            seed_dist,
            deployed=Deployed(moto_function, region=REGION, endpoint_url=endpoint),
            memory=[512],
            cold=1,
            warm=0,
        )
    config = _config(endpoint, moto_function)
    assert config["MemorySize"] == 256
    assert config["Environment"]["Variables"] == {"MODEL": "v3"}
