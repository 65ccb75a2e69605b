"""Execution environments: one child process each, started the way Lambda starts a sandbox.

A fresh directory per environment holds the extracted function code (the task root, Lambda's
``/var/task``), the extracted layer (``/opt``) and a writable scratch directory: ``/tmp`` itself
in the environment's own mount namespace where the host allows one, else ``TMPDIR`` (also
``HOME``); see :mod:`sklambda.local.sandbox`. The process is the target Python version in
isolated mode (``-I -S``: no host site-packages, no ``PYTHONPATH``) running the runtime
directory's bootstrap, which hands over to the official runtime client ``awslambdaric``; on a
root host it runs as the sandbox user (uid 993), in a memory cgroup by default. It talks to its
own :class:`RuntimeAPIServer` (Runtime and Extensions APIs), gets Lambda's environment variables
and nothing of the host's. Executables in the layer's ``extensions/`` start first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sklambda.local.bootstrap import BOOTSTRAP_NAME
from sklambda.local.cgroups import Cgroup
from sklambda.local.dist import Dist
from sklambda.local.interpreters import Interpreter
from sklambda.local.logs import LinePump, LogLine, LogSink
from sklambda.local.report import Report, peak_rss_mb
from sklambda.local.runtime_api import Invocation, Outcome, RuntimeAPIServer, error_payload
from sklambda.local.sandbox import (
    MountPlan,
    isolation,
    make_preexec,
    make_read_only,
    make_writable,
    reachable_by_others,
    tree_size_mb,
)

__all__ = [
    "INIT_LIMIT_S",
    "RESERVED_ENV_VARS",
    "WORKDIR_PREFIX",
    "Environment",
    "EnvironmentSpec",
    "RunResult",
    "sweep_orphaned_workdirs",
]

# Lambda caps the INIT phase at 10 s, then retries init within the invoke and its timeout; the
# emulator makes a single attempt, allowed the longer of the two.
INIT_LIMIT_S = 10.0
WORKDIR_PREFIX = "sklambda-env-"
_OWNER_FILE = ".owner-pid"
# Trees from before owner files existed, or unreadable ones, are left alone this long.
_UNOWNED_GRACE_S = 3600.0
_DRAIN_LIMIT_S = 0.2
_SHUTDOWN_S = 2.0

# Names Lambda refuses in a function's configuration (it sets them itself).
RESERVED_ENV_VARS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything that is the same for all environments of one function."""

    dist: Dist
    interpreter: Interpreter
    runtime_dir: Path
    function_name: str
    function_arn: str
    memory_mb: int
    region: str
    user_env: Mapping[str, str] = field(default_factory=dict)
    cpu_share: bool = False
    """Give each environment Lambda's CPU share for ``memory_mb`` (where cgroups allow it)."""
    memory_cgroup: bool = False
    """Enforce ``memory_mb`` as resident memory with a memory cgroup (OOM kill, as Lambda)."""
    ephemeral_storage_mb: int = 512
    """The size of ``/tmp`` (Lambda's ``EphemeralStorage``)."""
    isolate: bool = True
    """A private mount namespace (sized ``/tmp``) and the sandbox user, where the host allows
    it (:func:`sklambda.local.sandbox.isolation`)."""


@dataclass(frozen=True)
class RunResult:
    """An invocation's outcome and its REPORT record.

    ``stale`` marks a warm environment whose process had died while idle, before the event
    reached it: Lambda would transparently start a new one, and so should the caller.
    """

    outcome: Outcome
    report: Report
    stale: bool = False


class Environment:
    """One execution environment: directory tree, Runtime API server and child process.

    Parameters
    ----------
    spec : EnvironmentSpec
    on_log : callable, optional
        Receives every :class:`LogLine` (function output and START/END/REPORT lines).
    on_exit : callable, optional
        Called with the environment, from a watcher thread, when its process ends.
    """

    def __init__(
        self,
        spec: EnvironmentSpec,
        *,
        on_log: LogSink | None = None,
        on_exit: Callable[[Environment], None] | None = None,
    ) -> None:
        self.spec = spec
        self._on_log = on_log
        self._on_exit = on_exit
        today = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d")
        self.log_stream = f"{today}/[$LATEST]{uuid.uuid4().hex}"
        self._workdir: Path | None = None
        self._api: RuntimeAPIServer | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self._pumps: list[LinePump] = []
        self._extension_procs: list[subprocess.Popen[bytes]] = []
        self._started_at = 0.0
        self._served = False
        # The invocation in (or last through) this environment, for attributing log lines.
        self._invocation: Invocation | None = None
        self._last_rss_mb = 0
        self._exited = threading.Event()
        self._close_lock = threading.Lock()
        self._closed = False
        self._killed = False
        self.cgroup: Cgroup | None = None
        self._scratch: Path | None = None
        self.isolated = False
        """Whether the process got its own mount namespace (private sized /tmp, sandbox user)."""

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Lay out the directories and start the process (returns before init finishes)."""
        spec = self.spec
        task, opt, scratch = self._lay_out()
        self._api = RuntimeAPIServer()
        if spec.cpu_share or spec.memory_cgroup:
            self.cgroup = Cgroup.create(
                memory_mb=spec.memory_mb, cpu=spec.cpu_share, memory=spec.memory_cgroup
            )
        memory_by_cgroup = self.cgroup is not None and self.cgroup.memory_mb is not None
        paths = self._sandbox_paths(scratch)
        # Sticky and writable by anyone, as /tmp: the sandbox user writes here.
        scratch.chmod(0o1777)
        self._scratch = scratch
        preexec = make_preexec(
            None if memory_by_cgroup else spec.memory_mb,
            self.cgroup.join_from_child if self.cgroup is not None else None,
            mounts=paths.mounts,
            file_size_mb=spec.ephemeral_storage_mb,
        )
        self.isolated = paths.mounts is not None
        command = [
            str(paths.interpreter),
            "-I",
            "-S",
            "-u",
            str(paths.runtime_dir / BOOTSTRAP_NAME),
            str(opt),
            spec.dist.handler,
        ]
        environ = self._environ(
            task,
            opt,
            Path("/tmp") if paths.mounts is not None else scratch,
            paths.lang_dir,
            paths.interpreter.parent,
            paths.runtime_dir,
        )
        self._started_at = time.perf_counter()
        # Lambda starts the layer's extensions first, and the runtime once they registered.
        self._start_extensions(opt, environ, preexec)
        self._launch(command, task, environ, preexec)

    def _lay_out(self) -> tuple[Path, Path, Path]:
        """The environment's tree: task root and layer extracted read-only, scratch directory."""
        spec = self.spec
        self._workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        # Who owns this tree: lets a later run delete it if this process dies without cleanup.
        (self._workdir / _OWNER_FILE).write_text(str(os.getpid()))
        task, opt, scratch = (self._workdir / name for name in ("task", "opt", "tmp"))
        for directory in (task, opt, scratch):
            directory.mkdir()
        _extract(spec.dist.function_zip, task)
        if spec.dist.layer_zip is not None:
            _extract(spec.dist.layer_zip, opt)
        make_read_only(task)
        make_read_only(opt)
        # Readable by the sandbox user (mkdtemp makes it owner-only).
        self._workdir.chmod(0o755)
        return task, opt, scratch

    def _sandbox_paths(self, scratch: Path) -> _SandboxPaths:
        """Where the process finds its interpreter and runtime client, and its mount plan."""
        spec = self.spec
        assert self._workdir is not None
        interpreter = spec.interpreter.path.resolve()
        lang_dir, runtime_dir = interpreter.parent.parent, spec.runtime_dir
        if not (spec.isolate and isolation().private_tmp):
            return _SandboxPaths(interpreter, lang_dir, runtime_dir, None)
        binds: list[tuple[Path, Path]] = []
        # The sandbox user must reach the tree itself (a TMPDIR under /root would hide it).
        uid = isolation().uid if reachable_by_others(self._workdir) else None
        # It cannot reach a Python or runtime client under /root: bind them into the tree (in
        # the child's own mount namespace only).
        if uid is not None and not reachable_by_others(lang_dir):
            target = self._workdir / "lang"
            target.mkdir()
            binds.append((lang_dir, target))
            interpreter = target / interpreter.relative_to(lang_dir)
            lang_dir = target
        if uid is not None and not reachable_by_others(runtime_dir):
            target = self._workdir / "runtime"
            target.mkdir()
            binds.append((runtime_dir, target))
            runtime_dir = target
        mounts = MountPlan(self._workdir, scratch, tuple(binds), uid)
        return _SandboxPaths(interpreter, lang_dir, runtime_dir, mounts)

    def _launch(
        self, command: list[str], task: Path, environ: dict[str, str], preexec: Callable[[], None]
    ) -> None:
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=task,
            env=environ,
            preexec_fn=preexec,
            # Own session: the whole process group can be killed, and Ctrl-C in the host's
            # terminal reaches the emulator only, which then shuts environments down in order.
            start_new_session=True,
            close_fds=True,
        )
        assert self._proc.stdout is not None
        assert self._proc.stderr is not None
        self._pumps += [
            LinePump(self._proc.stdout, "stdout", self.log_stream, self._current, self._on_log),
            LinePump(self._proc.stderr, "stderr", self.log_stream, self._current, self._on_log),
        ]
        watcher = threading.Thread(target=self._watch, name="sklambda-env-watch", daemon=True)
        self._threads = [*(pump.thread for pump in self._pumps), watcher]
        watcher.start()

    def _start_extensions(
        self, opt: Path, environ: dict[str, str], preexec: Callable[[], None]
    ) -> None:
        """Start ``/opt/extensions/*`` and wait (up to the INIT limit) for them to register."""
        assert self._api is not None
        folder = opt / "extensions"
        found = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        for path in found:
            if not os.access(path, os.X_OK):
                self._init_line(
                    f"WARNING sklambda: /opt/extensions/{path.name} is not executable and was "
                    "not started (Lambda fails the init: Extension.LaunchError)"
                )
                continue
            try:
                proc = subprocess.Popen(
                    [str(path)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd="/",
                    env=environ,
                    preexec_fn=preexec,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                self._init_line(
                    f"WARNING sklambda: /opt/extensions/{path.name} could not start "
                    f"({exc.strerror}; Lambda fails the init: Extension.LaunchError)"
                )
                continue
            assert proc.stdout is not None
            assert proc.stderr is not None
            self._extension_procs.append(proc)
            self._pumps += [
                LinePump(proc.stdout, "stdout", self.log_stream, self._current, self._on_log),
                LinePump(proc.stderr, "stderr", self.log_stream, self._current, self._on_log),
            ]
        if not self._extension_procs:
            return
        deadline = time.monotonic() + INIT_LIMIT_S
        count = len(self._extension_procs)
        while not self._api.wait_registered(count, 0.05):
            if time.monotonic() > deadline or all(
                proc.poll() is not None for proc in self._extension_procs
            ):
                break
        for name in self._api.extensions:
            self._init_line(f"EXTENSION\tName: {name}\tState: Ready")

    def _init_line(self, text: str) -> None:
        if self._on_log is not None:
            self._on_log(LogLine(text, "platform", self.log_stream, None))

    def _environ(
        self, task: Path, opt: Path, scratch: Path, lang_dir: Path, bin_dir: Path, runtime: Path
    ) -> dict[str, str]:
        spec = self.spec
        assert self._api is not None
        version = spec.interpreter.version
        env = {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin:{opt}/bin",
            "LD_LIBRARY_PATH": ":".join(
                [f"{lang_dir}/lib", str(runtime), str(task), f"{task}/lib", f"{opt}/lib"]
            ),
            "LANG": "en_US.UTF-8",
            "TZ": "UTC",
            "TMPDIR": str(scratch),
            "HOME": str(scratch),
            "_HANDLER": spec.dist.handler,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "AWS_LAMBDA_RUNTIME_API": self._api.address,
            "LAMBDA_TASK_ROOT": str(task),
            "LAMBDA_RUNTIME_DIR": str(runtime),
        }
        env.update(spec.user_env)
        return env

    def _watch(self) -> None:
        assert self._proc is not None
        assert self._api is not None
        returncode = self._proc.wait()
        reason = (
            f"signal: {_signal_name(-returncode)}"
            if returncode < 0
            else f"exit status {returncode}"
        )
        # Over the memory cgroup's limit the kernel kills the runtime: Lambda's error type.
        error_type = (
            "Runtime.OutOfMemory"
            if self.cgroup is not None and self.cgroup.oom_killed()
            else "Runtime.ExitError"
        )
        self._api.runtime_exited(
            lambda request_id: Outcome(
                error_payload(
                    error_type,
                    f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
                ),
                error_type,
                status="error",
            )
        )
        self._exited.set()
        if self._on_exit is not None:
            self._on_exit(self)

    def kill(self) -> None:
        """SIGKILL the environment's process group (the runtime and anything it started)."""
        if self._proc is None and not self._extension_procs:
            return
        self._killed = True
        # Without a cgroup, descendants that left the process group (a new session) are found
        # by parentage while the runtime still holds them; one that double-forked away before
        # this is out of reach (the memory cgroup, on by default, has no such gap).
        runtime = [self._proc.pid] if self._proc is not None else []
        roots = [*runtime, *(proc.pid for proc in self._extension_procs)]
        strays = (
            {pid for root in roots for pid in _descendants(root)} if self.cgroup is None else set()
        )
        for root in roots:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(root, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if self.cgroup is not None:
            # Descendants that left the process group (a new session) are still in the cgroup.
            self.cgroup.kill_all()

    def close(self) -> None:
        """Kill the process, stop the Runtime API server and delete the directory tree."""
        with self._close_lock:
            if self._closed:
                return
            was_alive = self.alive
            self._closed = True
        # Extensions that asked for SHUTDOWN get it, and up to 2 s, as on Lambda.
        if (
            self._extension_procs
            and self._api is not None
            and was_alive
            and self._api.shutdown_extensions(int((time.time() + _SHUTDOWN_S) * 1000))
        ):
            deadline = time.monotonic() + _SHUTDOWN_S
            for proc in self._extension_procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(max(0.0, deadline - time.monotonic()))
        self.kill()
        if self._proc is not None:
            self._proc.wait()
        for proc in self._extension_procs:
            proc.wait()
        # Pipes reach EOF once every process holding them is gone (they were all in the group).
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        if self._api is not None:
            self._api.close()
        if self.cgroup is not None:
            self.cgroup.remove()
        if self._workdir is not None:
            for tree in ("task", "opt"):
                make_writable(self._workdir / tree)
            shutil.rmtree(self._workdir, ignore_errors=True)

    # -- state ---------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The runtime process's id (also its process group id)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and not (
            self._exited.is_set() or self._killed or self._closed
        )

    @property
    def cold(self) -> bool:
        """True until the environment has served its first invocation."""
        return not self._served

    def _current(self) -> str | None:
        # Lines before delivery are init output (no request id, as in Lambda); lines after the
        # response but before the next delivery are late output of the last request.
        invocation = self._invocation
        if invocation is None or invocation.delivered_at is None:
            return None
        return invocation.request_id

    def _platform(self, text: str, request_id: str) -> None:
        if self._on_log is not None:
            self._on_log(LogLine(text, "platform", self.log_stream, request_id))

    # -- invoking ------------------------------------------------------------------------------

    def run(self, invocation: Invocation) -> RunResult:
        """Run one invocation to its end: response, error, timeout or crash.

        On a timeout the process group is killed; the watcher then reports the exit and the
        caller should discard the environment (see :attr:`alive`).
        """
        assert self._api is not None
        cold = not self._served
        self._served = True
        self._invocation = invocation
        # START goes out as the event is handed over (so it precedes all the handler prints),
        # or at the end when it never is; an environment found dead before delivery writes
        # nothing, so a transparent retry leaves one START/END/REPORT per request id.
        start = _StartLine(self._platform)
        invocation.on_deliver = start
        self._api.submit(invocation)
        self._wait(invocation, cold)
        outcome = invocation.outcome
        assert outcome is not None
        report = self._report(invocation, outcome, cold)
        stale = (
            not cold
            and invocation.delivered_at is None
            and outcome.error_type == "Runtime.ExitError"
        )
        if invocation.delivered_at is None and outcome.status == "error" and not stale:
            # An init failure: Lambda throws the environment away, so the next invoke runs a
            # fresh INIT instead of getting this error again from the same sandbox.
            self.kill()
        # What the function printed before answering belongs before END (bounded: a process
        # that keeps printing must not hold the caller).
        for pump in self._pumps:
            pump.wait_drained(_DRAIN_LIMIT_S)
        if invocation.delivered_at is not None:
            self._check_tmp(invocation.request_id)
        if not stale:
            if not start.written:
                start(invocation)
            self._platform(f"END RequestId: {invocation.request_id}", invocation.request_id)
            self._platform(report.line, invocation.request_id)
        return RunResult(outcome, report, stale)

    def _wait(self, invocation: Invocation, cold: bool) -> None:
        """Wait for the outcome; past the timeout, finish it as timed out and kill."""
        timeout_s = invocation.timeout_s
        # A warm runtime is already waiting in /next; a cold one first imports the handler.
        delivery_limit = max(INIT_LIMIT_S, timeout_s) if cold else timeout_s
        delivered = invocation.wait_delivered(delivery_limit)
        if delivered and not invocation.finished:
            assert invocation.delivered_at is not None
            remaining = timeout_s - (time.perf_counter() - invocation.delivered_at)
            invocation.wait_finished(remaining)
        if invocation.finished:
            return
        message = (
            f"RequestId: {invocation.request_id} Error: "
            f"Task timed out after {timeout_s:.2f} seconds"
        )
        if invocation.finish(
            Outcome(error_payload("Sandbox.Timedout", message), "Sandbox.Timedout", "timeout")
        ):
            self.kill()

    def _report(self, invocation: Invocation, outcome: Outcome, cold: bool) -> Report:
        assert self._api is not None
        assert invocation.finished_at is not None
        rss = peak_rss_mb(self.pid) if self.pid is not None else None
        if rss is not None:
            self._last_rss_mb = rss
        init_ms: float | None = None
        if cold and self._api.ready_at is not None:
            init_ms = (self._api.ready_at - self._started_at) * 1000
        if outcome.status == "timeout" and invocation.delivered_at is not None:
            duration_ms = invocation.timeout_s * 1000
        elif invocation.delivered_at is not None:
            duration_ms = (invocation.finished_at - invocation.delivered_at) * 1000
        else:
            # Never delivered (init failed or timed out): Lambda reports the time the init took
            # as the duration, not the function's timeout.
            duration_ms = (invocation.finished_at - invocation.created_at) * 1000
        return Report.build(
            request_id=invocation.request_id,
            duration_ms=duration_ms,
            memory_size_mb=self.spec.memory_mb,
            max_memory_used_mb=self._last_rss_mb,
            init_duration_ms=init_ms,
            log_stream=self.log_stream,
            status=outcome.status,
            error_type=outcome.error_type if outcome.status else None,
        )

    def _check_tmp(self, request_id: str) -> None:
        """Warn when /tmp holds more than the ephemeral storage (Lambda would have said ENOSPC)."""
        if self._scratch is None:
            return
        used = tree_size_mb(self._scratch)
        if used > self.spec.ephemeral_storage_mb:
            self._platform(
                f"WARNING sklambda: /tmp holds {used:.0f} MB, over this function's "
                f"{self.spec.ephemeral_storage_mb} MB of ephemeral storage; on Lambda the "
                "writes past it fail with ENOSPC (raise --ephemeral-storage)",
                request_id,
            )


class _StartLine:
    """Writes an invocation's START line once (see :meth:`Environment.run`)."""

    def __init__(self, platform: Callable[[str, str], None]) -> None:
        self._platform = platform
        self.written = False

    def __call__(self, invocation: Invocation) -> None:
        self.written = True
        request_id = invocation.request_id
        self._platform(f"START RequestId: {request_id} Version: $LATEST", request_id)


@dataclass(frozen=True)
class _SandboxPaths:
    interpreter: Path
    lang_dir: Path
    runtime_dir: Path
    mounts: MountPlan | None


def sweep_orphaned_workdirs(root: Path | None = None) -> list[Path]:
    """Delete environment trees left behind by processes that died without cleaning up.

    A host process killed with SIGKILL (or SIGTERM, which skips ``atexit``) cannot remove its
    environments' directories; their runtimes exit on their own once the Runtime API socket
    closes. Returns the directories removed.
    """
    base = Path(root or tempfile.gettempdir())
    removed: list[Path] = []
    for workdir in base.glob(f"{WORKDIR_PREFIX}*"):
        try:
            owner = int((workdir / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            owner = None
        try:
            if owner is not None:
                if Path(f"/proc/{owner}").exists():
                    continue
            elif time.time() - workdir.stat().st_mtime < _UNOWNED_GRACE_S:
                continue
            for tree in ("task", "opt"):
                make_writable(workdir / tree)
            shutil.rmtree(workdir)
        except OSError:
            continue
        removed.append(workdir)
    return removed


def _extract(archive: Path, destination: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(destination)
        # zipfile drops Unix modes; keep the executable bit (layers ship programs in bin/).
        for info in zipped.infolist():
            if (info.external_attr >> 16) & 0o111 and not info.is_dir():
                path = destination / info.filename
                path.chmod(path.stat().st_mode | 0o111)


def _descendants(root: int) -> set[int]:
    """Every live descendant of ``root``, by the parent ids in ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _signal_name(number: int) -> str:
    # Go-style wording, as Lambda's (Go) runtime supervisor reports it.
    names = {
        signal.SIGKILL: "killed",
        signal.SIGSEGV: "segmentation fault",
        signal.SIGTERM: "terminated",
    }
    try:
        return names.get(signal.Signals(number), signal.Signals(number).name)
    except ValueError:
        return str(number)
