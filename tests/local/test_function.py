"""LocalFunction against real environment processes driven by awslambdaric (no mocks)."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sklambda.local import (
    LocalFunction,
    LogLine,
    Report,
    RequestTooLargeError,
    TooManyRequestsError,
)
from sklambda.local.bootstrap import BOOTSTRAP_NAME

pytestmark = pytest.mark.slow

REPORT_RE = re.compile(
    r"^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: \d+ MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d{2} ms)?"
    r"(\tStatus: \w+(\tError Type: [\w.]+)?)?$"
)


class Gate:
    """A loopback socket a handler connects to and blocks on: tells the test the handler runs."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(30)
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []

    def wait_for_handler(self) -> None:
        conn, _ = self._listener.accept()
        self._conns.append(conn)

    def release(self) -> None:
        for conn in self._conns:
            conn.sendall(b"!")

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
        self._listener.close()


@pytest.fixture
def local_gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.close()


@pytest.fixture(scope="module")
def basic(local_dists: dict[str, Path]) -> Iterator[LocalFunction]:
    with LocalFunction(local_dists["basic"], memory=512, timeout=20, concurrency=2) as function:
        yield function


def process_gone(pid: int, timeout: float = 10.0) -> bool:
    """Wait for ``pid`` to exit, by pidfd (an event, not a poll); zombies count as gone."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    return bool(readable)


# -- how environments are started -------------------------------------------------------------


def test_awslambdaric_drives_an_isolated_interpreter_of_the_package_version(
    basic: LocalFunction,
) -> None:
    result = basic.invoke({"action": "describe"})
    assert result.error is None, result.payload
    described = result.payload
    assert described["version"] == [3, 12]
    assert described["awslambdaric"] is True
    cmdline = Path(f"/proc/{described['pid']}/cmdline").read_bytes().split(b"\0")[:-1]
    args = [arg.decode() for arg in cmdline]
    assert args[1:4] == ["-I", "-S", "-u"]
    assert args[4].endswith(BOOTSTRAP_NAME)
    assert args[-1] == "basic_handler.handler"
    assert Path(args[0]).name == "python3.12"
    task_root = described["environ"]["LAMBDA_TASK_ROOT"]
    assert described["cwd"] == task_root
    path = described["path"]
    # Lambda's order: task root, layer site-packages, layer root, runtime dir, then the stdlib.
    assert path[0] == task_root
    assert path[1].endswith("/opt/python/lib/python3.12/site-packages")
    assert path[2].endswith("/opt/python")
    assert path[3] == described["environ"]["LAMBDA_RUNTIME_DIR"]
    assert not any("site-packages" in entry for entry in path[4:])
    assert described["layers"] == ["from layer python/", "from site-packages"]


def test_environment_variables_are_lambdas_and_not_the_hosts(basic: LocalFunction) -> None:
    described = basic.invoke({"action": "describe"}).payload
    environ = described["environ"]
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "basic" == described["function_name"]
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert described["memory_limit_in_mb"] == "512"
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/basic"
    assert re.fullmatch(
        r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert re.fullmatch(r"127\.0\.0\.1:\d+", environ["AWS_LAMBDA_RUNTIME_API"])
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environ["_HANDLER"] == "basic_handler.handler"
    assert environ["TZ"] == "UTC"
    assert environ["TMPDIR"] == environ["HOME"]
    assert environ["LD_LIBRARY_PATH"].split(":")[-1].endswith("/opt/lib")
    assert described["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:basic"
    assert 0 < described["remaining_ms"] <= 20_000
    # Nothing leaks from the host (pytest's own variables, the venv, ...).
    assert "PYTEST_CURRENT_TEST" not in environ
    assert "VIRTUAL_ENV" not in environ


def test_host_packages_are_not_importable(basic: LocalFunction) -> None:
    found = basic.invoke({"action": "imports"}).payload
    assert found == {
        "sklambda": "ModuleNotFoundError",
        "numpy": "ModuleNotFoundError",
        "pytest": "ModuleNotFoundError",
    }


def test_a_missing_module_fails_like_lambda(local_dists: dict[str, Path]) -> None:
    with LocalFunction(local_dists["missing_import"], timeout=10) as function:
        result = function.invoke({})
    assert result.error == "Runtime.ImportModuleError"
    assert result.payload["errorType"] == "Runtime.ImportModuleError"
    assert result.payload["errorMessage"] == (
        "Unable to import module 'missing_import_handler': No module named 'sklambda'"
    )
    assert "stackTrace" in result.payload


def test_init_error_is_reported_not_hung_on(local_dists: dict[str, Path]) -> None:
    with LocalFunction(local_dists["init_error"], timeout=10, concurrency=1) as function:
        first = function.invoke({})
        # The failed environment is gone; the next invoke starts (and fails) a new one.
        second = function.invoke({})
    for result in (first, second):
        assert result.error == "RuntimeError"
        assert result.payload["errorMessage"] == "module-level failure"
        assert result.payload["errorType"] == "RuntimeError"
        assert result.report.status == "error"


def test_task_root_is_read_only_and_tmp_is_writable(basic: LocalFunction) -> None:
    denied = basic.invoke({"action": "write_task_root"}).payload
    assert denied["error"] == "PermissionError"
    written = basic.invoke({"action": "write_tmp"}).payload
    assert written["read_back"] == "ok"


# -- errors, timeouts, limits -----------------------------------------------------------------


def test_handler_exception_is_a_function_error_and_the_environment_survives(
    basic: LocalFunction,
) -> None:
    failed = basic.invoke({"action": "raise"})
    assert failed.error == "ValueError"
    assert failed.payload["errorMessage"] == "the handler says no"
    assert failed.payload["errorType"] == "ValueError"
    assert any("basic_handler.py" in frame for frame in failed.payload["stackTrace"])
    assert failed.payload["requestId"] == failed.request_id
    after = basic.invoke({"action": "echo"})
    assert after.error is None


def test_timeout_kills_the_environment_and_the_function_keeps_serving(
    local_dists: dict[str, Path],
) -> None:
    with LocalFunction(local_dists["basic"], timeout=1, concurrency=1) as function:
        warm = function.invoke({"action": "echo"})
        timed_out = function.invoke({"action": "sleep", "seconds": 60})
        assert timed_out.error == "Sandbox.Timedout"
        assert timed_out.payload["errorType"] == "Sandbox.Timedout"
        assert timed_out.payload["errorMessage"].endswith("Task timed out after 1.00 seconds")
        assert timed_out.report.status == "timeout"
        assert timed_out.report.duration_ms == 1000.0
        assert process_gone(warm.payload["pid"])
        after = function.invoke({"action": "echo"})
    assert after.error is None
    assert after.payload["pid"] != warm.payload["pid"]
    assert after.report.init_duration_ms is not None  # a cold start in a new environment


def test_response_over_6_mb_fails_with_response_size_too_large(basic: LocalFunction) -> None:
    result = basic.invoke({"action": "big"})
    assert result.error == "Function.ResponseSizeTooLarge"
    assert result.payload["errorType"] == "Function.ResponseSizeTooLarge"
    # awslambdaric exits after the 413; the next invoke is served by a fresh environment.
    assert basic.invoke({"action": "echo"}).error is None


def test_event_over_6_mb_is_refused(basic: LocalFunction) -> None:
    with pytest.raises(RequestTooLargeError, match="6291456"):
        basic.invoke({"action": "echo", "blob": "x" * (6 * 1024 * 1024)})


def test_memory_ceiling_turns_runaway_allocation_into_memory_error(
    local_dists: dict[str, Path],
) -> None:
    # The fallback where no memory cgroup can be had (the default uses one: test_cgroups.py).
    with LocalFunction(
        local_dists["basic"], memory=128, timeout=20, concurrency=1, memory_cgroup=False
    ) as function:
        assert function.enforcement.memory == "address-space"
        result = function.invoke({"action": "allocate", "mb": 3072})
        assert result.error == "MemoryError"
        small = function.invoke({"action": "allocate", "mb": 64})
    assert small.error is None
    assert small.report.max_memory_used_mb >= 64


def test_an_environment_killed_from_outside_is_replaced(basic: LocalFunction) -> None:
    pid = basic.invoke({"action": "echo"}).payload["pid"]
    os.kill(pid, signal.SIGKILL)
    assert process_gone(pid)
    after = basic.invoke({"action": "echo"})
    assert after.error is None
    assert after.payload["pid"] != pid
    assert pid not in {env.pid for env in basic.environments}


# -- concurrency ----------------------------------------------------------------------------------


def test_parallel_invokes_use_at_most_concurrency_environments(
    local_dists: dict[str, Path],
) -> None:
    with LocalFunction(local_dists["basic"], timeout=20, concurrency=3) as function:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(
                pool.map(lambda i: function.invoke({"action": "echo", "i": i}), range(16))
            )
        assert [r.payload["event"]["i"] for r in results] == list(range(16))
        assert len({r.request_id for r in results}) == 16
        pids = {r.payload["pid"] for r in results}
        assert 1 <= len(pids) <= 3
        cold = [r for r in results if r.report.init_duration_ms is not None]
        assert len(cold) == len(pids)  # one cold start per environment, the rest warm
        assert len(function.environments) <= 3


def test_busy_environments_throttle_after_max_wait(
    local_dists: dict[str, Path], local_gate: Gate
) -> None:
    with LocalFunction(local_dists["basic"], timeout=20, concurrency=1, max_wait=0) as function:
        with ThreadPoolExecutor(max_workers=1) as pool:
            blocked = pool.submit(function.invoke, {"action": "block", "port": local_gate.port})
            local_gate.wait_for_handler()
            with pytest.raises(TooManyRequestsError, match="concurrency"):
                function.invoke({"action": "echo"})
            local_gate.release()
            assert blocked.result(timeout=30).payload["unblocked"] is True
        # Once free, the same (warm) environment serves again.
        assert function.invoke({"action": "echo"}).report.init_duration_ms is None


def test_requests_wait_for_a_free_environment_within_max_wait(
    local_dists: dict[str, Path], local_gate: Gate
) -> None:
    with (
        LocalFunction(local_dists["basic"], timeout=20, concurrency=1, max_wait=30) as function,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        blocked = pool.submit(function.invoke, {"action": "block", "port": local_gate.port})
        local_gate.wait_for_handler()
        waiting = pool.submit(function.invoke, {"action": "echo"})
        local_gate.release()
        first, second = blocked.result(timeout=30), waiting.result(timeout=30)
    assert first.payload["pid"] == second.payload["pid"]


# -- REPORT and logs ------------------------------------------------------------------------------


def test_report_lines_and_logs(local_dists: dict[str, Path]) -> None:
    reports: list[Report] = []
    lines: list[LogLine] = []
    lock = threading.Lock()

    def on_log(line: LogLine) -> None:
        with lock:
            lines.append(line)

    with LocalFunction(
        local_dists["basic"], memory=256, concurrency=1, on_report=reports.append, on_log=on_log
    ) as function:
        cold = function.invoke({"action": "echo"})
        warm = function.invoke({"action": "echo"})
        assert function.reports == reports == [cold.report, warm.report]
    for report in reports:
        assert REPORT_RE.match(report.line), report.line
        assert report.memory_size_mb == 256
        assert report.max_memory_used_mb > 0
    assert cold.report.init_duration_ms is not None
    assert cold.report.init_duration_ms > 0
    assert "Init Duration" in cold.report.line
    assert warm.report.init_duration_ms is None
    assert "Init Duration" not in warm.report.line
    assert warm.report.billed_duration_ms >= warm.report.duration_ms
    assert cold.report.billed_duration_ms >= cold.report.duration_ms + cold.report.init_duration_ms
    texts = [line.text for line in lines]
    assert any(text.startswith("init done in") for text in texts)
    assert f"START RequestId: {cold.request_id} Version: $LATEST" in texts
    assert f"END RequestId: {warm.request_id}" in texts
    assert cold.report.line in texts
    handled = [line for line in lines if line.text.startswith("handling echo")]
    assert [line.request_id for line in handled] == [cold.request_id, warm.request_id]
    assert all(line.stream == "stdout" for line in handled)
    # What the handler printed is forwarded before the END of its request.
    for result in (cold, warm):
        printed = texts.index(f"handling echo {result.request_id}")
        assert printed < texts.index(f"END RequestId: {result.request_id}")


# -- versions and shutdown ------------------------------------------------------------------------


def test_package_python_version_selects_the_interpreter(tmp_path: Path, local_dist_maker) -> None:
    source = "import sys\ndef handler(event, context):\n    return list(sys.version_info[:2])\n"
    dist = local_dist_maker(tmp_path, "v313", source, python="3.13")
    with LocalFunction(dist) as function:
        assert function.invoke({}).payload == [3, 13]


def test_missing_interpreter_falls_back_to_the_host_with_a_warning(
    tmp_path: Path, local_dist_maker
) -> None:
    import sys

    source = "import sys\ndef handler(event, context):\n    return list(sys.version_info[:2])\n"
    dist = local_dist_maker(tmp_path, "v399", source, python="3.99")
    with pytest.warns(RuntimeWarning, match="no Python 3.99 interpreter"):
        function = LocalFunction(dist)
    with function:
        assert function.invoke({}).payload == list(sys.version_info[:2])


def test_close_leaves_no_process_behind(local_dists: dict[str, Path], local_gate: Gate) -> None:
    function = LocalFunction(local_dists["basic"], timeout=20, concurrency=2)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # One environment busy in a handler at close time, one idle with a grandchild process.
        busy = pool.submit(function.invoke, {"action": "block", "port": local_gate.port})
        local_gate.wait_for_handler()
        spawned = function.invoke({"action": "spawn"}).payload
        pids = [env.pid for env in function.environments]
        assert len(pids) == 2
        workdirs = [Path(f"/proc/{pid}/cwd").resolve().parent for pid in pids]
        function.close()
        assert busy.result(timeout=30).error == "Runtime.ExitError"
    for pid in [*pids, spawned["child"]]:
        assert process_gone(pid), pid
    for workdir in workdirs:
        assert not workdir.exists()
    with pytest.raises(RuntimeError, match="closed"):
        function.invoke({})


def test_settings_outside_lambda_limits_are_refused(local_dists: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="memory"):
        LocalFunction(local_dists["basic"], memory=64)
    with pytest.raises(ValueError, match="timeout"):
        LocalFunction(local_dists["basic"], timeout=901)
    with pytest.raises(ValueError, match="reserved"):
        LocalFunction(local_dists["basic"], env={"AWS_REGION": "eu-west-1"})
    with pytest.raises(ValueError, match="4 KB"):
        LocalFunction(local_dists["basic"], env={"BIG": "x" * 5000})


def test_user_environment_variables_reach_the_function(local_dists: dict[str, Path]) -> None:
    with LocalFunction(local_dists["basic"], env={"MODEL_NAME": "houses"}) as function:
        environ = function.invoke({"action": "describe"}).payload["environ"]
    assert environ["MODEL_NAME"] == "houses"


def test_trees_of_a_killed_host_process_are_swept(
    local_dists: dict[str, Path], tmp_path: Path
) -> None:
    import subprocess
    import sys

    from sklambda.local.environment import sweep_orphaned_workdirs

    # A host process that starts an environment and is SIGKILLed: no chance to clean up.
    script = (
        "import os, sys\n"
        "from sklambda.local import LocalFunction\n"
        "f = LocalFunction(sys.argv[1])\n"
        "f.invoke({'action': 'echo'})\n"
        "print(os.getpid(), flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(local_dists["basic"])],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = list(tmp_path.glob("sklambda-env-*"))
    assert len(left) == 1
    assert (left[0] / "task" / "basic_handler.py").exists()
    assert sweep_orphaned_workdirs(tmp_path) == left
    assert not left[0].exists()
