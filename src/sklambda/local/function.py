"""``LocalFunction``: a built package running as a Lambda function on this machine."""

from __future__ import annotations

import json
import threading
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sklambda import limits
from sklambda.local.bootstrap import ensure_runtime
from sklambda.local.cgroups import cpu_share as lambda_cpu_share
from sklambda.local.cgroups import support as cgroup_support
from sklambda.local.cgroups import sweep_orphans as sweep_cgroups
from sklambda.local.dist import Dist, load_dist
from sklambda.local.environment import (
    RESERVED_ENV_VARS,
    Environment,
    EnvironmentSpec,
    sweep_orphaned_workdirs,
)
from sklambda.local.errors import RequestTooLargeError, SettingsError
from sklambda.local.interpreters import Interpreter, find_interpreter, host_version, inspect_python
from sklambda.local.logs import LogLine, LogSink
from sklambda.local.pool import EnvironmentPool
from sklambda.local.report import Report
from sklambda.local.runtime_api import MAX_PAYLOAD_BYTES, Invocation
from sklambda.local.sandbox import isolation

LOG_TAIL_BYTES = 4096  # LogType=Tail returns the last 4 KB of the invocation's log

__all__ = ["ACCOUNT_ID", "Enforcement", "EnvironmentInfo", "InvokeResult", "LocalFunction"]

ACCOUNT_ID = "123456789012"
# An idle environment found dead is replaced by a fresh one; more than a couple in a row means
# the runtime keeps crashing, and that error is returned.
_STALE_RETRIES = 3


@dataclass(frozen=True)
class InvokeResult:
    """What an invoke returned.

    Attributes
    ----------
    payload : Any
        The response decoded from JSON (the error document when ``error`` is set); None when the
        bytes are not JSON.
    error : str or None
        None on success; else the error type, e.g. ``Runtime.ImportModuleError``,
        ``Sandbox.Timedout``, ``ValueError`` (the invoke API reports these as
        ``X-Amz-Function-Error: Unhandled``).
    report : Report
        The invoke's REPORT record.
    raw : bytes
        The response bytes as the runtime posted them.
    """

    payload: Any
    error: str | None
    report: Report
    raw: bytes
    log_lines: tuple[str, ...] = ()
    """The invocation's log as CloudWatch would store it: START, what the function printed
    while it ran, END, REPORT."""

    @property
    def request_id(self) -> str:
        return self.report.request_id

    def log_tail(self, limit: int = LOG_TAIL_BYTES) -> str:
        """The last ``limit`` bytes of :attr:`log_lines`, as ``LogType=Tail`` returns them."""
        text = "".join(f"{line}\n" for line in self.log_lines).encode()
        return text[-limit:].decode("utf-8", "replace")


@dataclass(frozen=True)
class Enforcement:
    """What of Lambda's CPU and memory limits the emulator enforces on this machine.

    Attributes
    ----------
    vcpus : float or None
        The CPU share each environment gets (``memory / 1769``), or None: not throttled (every
        environment may use the whole machine, so small memory sizes look faster than on AWS).
    memory : str
        ``"cgroup"`` (resident memory, OOM kill as Lambda) or ``"address-space"`` (``RLIMIT_AS``
        of memory + 1 GiB: a ``MemoryError`` well past the setting).
    reason : str
        Why a CPU share or memory limit asked for is not enforced, when it is not.
    """

    vcpus: float | None
    memory: str
    reason: str = ""
    tmp: str = "directory"
    """``"namespace"`` (a private tmpfs on ``/tmp`` of the ephemeral-storage size) or
    ``"directory"`` (a private ``TMPDIR``, each file bound by ``RLIMIT_FSIZE``; a hard-coded
    ``/tmp`` path reaches the host's)."""
    uid: int | None = None
    """The user functions run as when not the host's (993, Lambda's ``sbx_user1051``)."""
    sandbox_reason: str = ""
    """Why ``/tmp`` is not a private mount or the user is the host's, when so."""


@dataclass(frozen=True)
class EnvironmentInfo:
    """A live environment, for inspection."""

    pid: int
    log_stream: str


class LocalFunction:
    """A built package served by local execution environments, like a Lambda function.

    Environments start on demand (a cold start per new one), run one invoke at a time, and are
    reused while idle. Use as a context manager, or call :meth:`close`: it kills every
    environment's process group and deletes their directories.

    Parameters
    ----------
    dist : str, Path or Dist
        The package directory (``function.zip``, ``build.json``, optional ``layer.zip``).
    memory : int
        Memory size in MB, 128–10,240 (sets ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` and the
        process's memory ceiling, see :mod:`sklambda.local.sandbox`).
    timeout : float
        Seconds per invoke, up to 900; past it the environment is killed and replaced.
    concurrency : int
        Most environments at once.
    env : mapping, optional
        The function's environment variables (4 KB at most; Lambda's reserved names refused).
    name : str, optional
        Function name; defaults to the package's.
    region : str
        ``AWS_REGION`` inside the function.
    max_wait : float
        Seconds an invoke waits for a free environment when ``concurrency`` are busy before
        failing with :class:`TooManyRequestsError`. Lambda throttles at once (``0``); waiting is
        kinder to local load tests.
    python : str or Path, optional
        Interpreter to run instead of the one found for the package's Python version.
    on_report : callable, optional
        Receives each :class:`Report`.
    on_log : callable, optional
        Receives each :class:`LogLine` (function output, START / END / REPORT).
    cpu_share : bool
        Give each environment the CPU Lambda gives ``memory`` (1,769 MB = one vCPU) with a
        cgroup CPU quota, where this machine allows it (:func:`sklambda.local.cgroups.support`);
        see :attr:`cpu_limited`.
    memory_cgroup : bool
        Enforce ``memory`` as resident memory with a memory cgroup: over it, the environment is
        killed and the invoke fails with ``Runtime.OutOfMemory``, as on Lambda. On by default
        where the machine allows it; elsewhere the fallback is ``RLIMIT_AS`` (see
        :attr:`enforcement`). The group also holds every descendant, so none outlives the
        environment.
    ephemeral_storage : int
        ``/tmp`` size in MB, 512–10,240 (Lambda's ``EphemeralStorage``).
    isolate : bool
        Give each environment a private mount namespace (its own sized ``/tmp``) and run it as
        the sandbox user (uid 993) where the host allows it (root);
        :func:`sklambda.local.sandbox.isolation` says what this machine can do.

    Raises
    ------
    DistError
        When the package directory is incomplete.
    RuntimeClientError
        When ``awslambdaric`` cannot be installed for the interpreter.
    ValueError
        When a setting is outside Lambda's limits.
    """

    def __init__(
        self,
        dist: str | Path | Dist,
        *,
        memory: int = 1024,
        timeout: float = 30,
        concurrency: int = 4,
        env: Mapping[str, str] | None = None,
        name: str | None = None,
        region: str = "us-east-1",
        max_wait: float = 10.0,
        python: str | Path | None = None,
        on_report: Callable[[Report], None] | None = None,
        on_log: LogSink | None = None,
        cpu_share: bool = False,
        memory_cgroup: bool = True,
        ephemeral_storage: int = limits.TMP_DEFAULT_MB,
        isolate: bool = True,
    ) -> None:
        self.dist = dist if isinstance(dist, Dist) else load_dist(dist)
        _check_settings(memory, timeout, concurrency, max_wait, env or {})
        _check_ephemeral_storage(ephemeral_storage)
        self.name = name or self.dist.name
        self.memory = memory
        self.ephemeral_storage = ephemeral_storage
        self.timeout = float(timeout)
        self.concurrency = concurrency
        self.max_wait = float(max_wait)
        self.arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{self.name}"
        self.interpreter = _pick_interpreter(self.dist, python)
        self._on_report = on_report
        self._spec = EnvironmentSpec(
            dist=self.dist,
            interpreter=self.interpreter,
            runtime_dir=ensure_runtime(self.interpreter),
            function_name=self.name,
            function_arn=self.arn,
            memory_mb=memory,
            region=region,
            user_env=dict(env or {}),
            cpu_share=cpu_share,
            memory_cgroup=memory_cgroup,
            ephemeral_storage_mb=ephemeral_storage,
            isolate=isolate,
        )
        self._on_log = on_log
        # Lines by request id while an invoke runs, for InvokeResult.log_lines (LogType=Tail).
        self._captured: dict[str, list[str]] = {}
        self._captured_lock = threading.Lock()
        sweep_orphaned_workdirs()
        sweep_cgroups()
        self.enforcement = _enforcement(memory, cpu_share, memory_cgroup, isolate)
        self._pool = EnvironmentPool(self._new_environment, concurrency)
        self._reports: list[Report] = []
        self._reports_lock = threading.Lock()
        # Children must not outlive a forgotten LocalFunction.
        self._finalizer = weakref.finalize(self, self._pool.close)

    def _new_environment(self) -> Environment:
        env = Environment(self._spec, on_log=self._log, on_exit=self._pool.environment_exited)
        try:
            env.start()
        except BaseException:
            env.close()
            raise
        return env

    def _log(self, line: LogLine) -> None:
        if line.request_id is not None:
            with self._captured_lock:
                captured = self._captured.get(line.request_id)
                if captured is not None:
                    captured.append(line.text)
        if self._on_log is not None:
            self._on_log(line)

    # -- invoking ------------------------------------------------------------------------------

    def invoke(self, event: Any) -> InvokeResult:
        """Invoke synchronously with a JSON-serialisable event.

        Raises
        ------
        TooManyRequestsError
            When every environment stayed busy for ``max_wait`` seconds.
        RequestTooLargeError
            When the event is over 6 MB.
        """
        return self.invoke_raw(json.dumps(event).encode())

    def invoke_raw(
        self,
        payload: bytes,
        *,
        client_context: str | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
    ) -> InvokeResult:
        """Invoke with the event's JSON bytes, as the Lambda Invoke API receives them.

        Parameters
        ----------
        payload : bytes
            The event as JSON.
        client_context : str, optional
            JSON passed to the runtime as ``Lambda-Runtime-Client-Context``.
        request_id, trace_id : str, optional
            The invocation's ids (``Lambda-Runtime-Aws-Request-Id``, ``Lambda-Runtime-Trace-Id``);
            a function URL front passes those it wrote into the event, so that
            ``requestContext.requestId`` is the invocation's id as on AWS. Fresh ones otherwise.
        """
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise RequestTooLargeError(
                f"the event is {len(payload)} bytes; Lambda accepts at most {MAX_PAYLOAD_BYTES}"
            )
        for _ in range(_STALE_RETRIES):
            invocation = Invocation(
                payload,
                function_arn=self.arn,
                timeout_s=self.timeout,
                client_context=client_context,
                request_id=request_id,
                trace_id=trace_id,
            )
            trace_id = invocation.trace_id
            request_id = invocation.request_id
            with self._captured_lock:
                self._captured.setdefault(request_id, [])
            env = self._pool.acquire(self.max_wait)
            try:
                result = env.run(invocation)
                if result.stale:
                    env.kill()  # dead already; make sure the pool does not hand it out again
            finally:
                self._pool.release(env)
            if not result.stale:
                break
        with self._captured_lock:
            lines = tuple(self._captured.pop(invocation.request_id, ()))
        with self._reports_lock:
            self._reports.append(result.report)
        if self._on_report is not None:
            self._on_report(result.report)
        raw = result.outcome.payload
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = None
        return InvokeResult(decoded, result.outcome.error_type, result.report, raw, lines)

    # -- inspection ----------------------------------------------------------------------------

    @property
    def reports(self) -> list[Report]:
        """REPORT records of all invokes so far, oldest first."""
        with self._reports_lock:
            return list(self._reports)

    @property
    def environments(self) -> list[EnvironmentInfo]:
        """The live environments."""
        return [
            EnvironmentInfo(env.pid, env.log_stream)
            for env in self._pool.environments()
            if env.pid is not None
        ]

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Kill all environments (their whole process groups) and delete their directories."""
        self._finalizer()

    def __enter__(self) -> LocalFunction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check_settings(
    memory: int, timeout: float, concurrency: int, max_wait: float, env: Mapping[str, str]
) -> None:
    limits.check_memory(memory, SettingsError)
    limits.check_timeout(timeout, SettingsError)
    if concurrency < 1:
        raise SettingsError(f"concurrency must be at least 1, got {concurrency}")
    if max_wait < 0:
        raise SettingsError(f"max_wait must be >= 0 seconds, got {max_wait}")
    reserved = sorted(set(env) & RESERVED_ENV_VARS)
    if reserved:
        raise SettingsError(
            f"environment variables {reserved} are reserved: Lambda sets them itself"
        )
    bad = [key for key, value in env.items() if not isinstance(value, str)]
    if bad:
        raise SettingsError(f"environment variable values must be strings; not for {bad}")
    limits.check_env_size(dict(env), SettingsError)


def _check_ephemeral_storage(size: int) -> None:
    if (
        isinstance(size, bool)
        or not isinstance(size, int)
        or not limits.TMP_DEFAULT_MB <= size <= limits.TMP_MAX_MB
    ):
        raise SettingsError(
            f"ephemeral storage must be {limits.TMP_DEFAULT_MB}–{limits.TMP_MAX_MB} MB "
            f"(Lambda's range for /tmp), got {size}"
        )


def _enforcement(memory: int, cpu_share: bool, memory_cgroup: bool, isolate: bool) -> Enforcement:
    can = cgroup_support()
    reasons = []
    if (cpu_share and not can.cpu) or (memory_cgroup and not can.memory):
        reasons.append(can.reason)
    sandbox = isolation()
    private = isolate and sandbox.private_tmp
    return Enforcement(
        vcpus=lambda_cpu_share(memory) if cpu_share and can.cpu else None,
        memory="cgroup" if memory_cgroup and can.memory else "address-space",
        reason="; ".join(reasons),
        tmp="namespace" if private else "directory",
        uid=sandbox.uid if private else None,
        sandbox_reason=sandbox.reason if isolate else "not asked for (isolate=False)",
    )


def _pick_interpreter(dist: Dist, python: str | Path | None) -> Interpreter:
    if python is not None:
        explicit = inspect_python(python)
        if explicit is None:
            raise SettingsError(f"{python} does not run as a Python interpreter")
        return explicit
    found = find_interpreter(dist.python)
    if found is not None:
        return found
    import sys

    host = host_version()
    warnings.warn(
        f"no Python {dist.python} interpreter found (looked on PATH, with `uv python find` and "
        f"in pyenv); running the package with this Python {host} instead, which may import "
        f"differently from Lambda's python{dist.python} (install one, e.g. "
        f"`uv python install {dist.python}`)",
        RuntimeWarning,
        stacklevel=3,
    )
    return Interpreter(Path(sys.executable), host)
