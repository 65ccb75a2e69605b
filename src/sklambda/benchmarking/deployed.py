"""A deployed function, measured from its own REPORT lines: invoke, and force cold starts.

Two separate parts, because they talk to different halves of Lambda:

- :class:`DeployedFunction` is the data plane: ``Invoke`` with ``LogType=Tail``, whose
  ``LogResult`` (base64 of the invocation's last 4 KB of log) ends with the REPORT line —
  Duration, Billed Duration, Init Duration, Max Memory Used. The local emulator's Invoke API
  answers the same way, so this half is tested against it.
- :class:`ColdStarts` is the control plane: a change to the function's configuration makes
  Lambda start new environments for ``$LATEST``, so a cold start is forced by setting an
  environment variable (``SKLAMBDA_BENCH_NONCE``) to a new value and waiting until the update
  is done; memory sizes are set the same way. What it changed is put back by
  :meth:`ColdStarts.restore`. This half is tested against moto's server.

Invocations go to ``$LATEST`` (unqualified): that is what configuration changes apply to —
a published version behind the ``live`` alias never changes.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from sklambda.benchmarking.errors import BenchError
from sklambda.benchmarking.samples import Sample, parse_report_line

__all__ = ["NONCE_VARIABLE", "ColdStarts", "DeployedFunction"]

NONCE_VARIABLE = "SKLAMBDA_BENCH_NONCE"


class DeployedFunction:
    """Invoke a function through the Lambda Invoke API and read its REPORT line.

    Parameters
    ----------
    client : sklambda.aws.client.AwsClient
        Region, credentials and endpoint (AWS, or the emulator's ``serve`` URL).
    name : str
        The function.
    """

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def invoke(self, payload: bytes) -> tuple[Sample, int]:
        """One synchronous invoke: the sample read from REPORT, and the response's size."""
        start = time.perf_counter()
        out = self.client.call(
            "lambda", "Invoke", FunctionName=self.name, Payload=payload, LogType="Tail"
        )
        body = out["Payload"].read()
        wall_ms = (time.perf_counter() - start) * 1000
        log = base64.b64decode(out.get("LogResult") or "").decode("utf-8", "replace")
        report = parse_report_line(log)
        if report is None:
            raise BenchError(
                f"the invoke of {self.name} returned no REPORT line in its log tail "
                "(LogType=Tail): is this a Lambda Invoke API?"
            )
        error = out.get("FunctionError")
        if report.get("status") and not error:
            error = report["status"]
        sample = Sample(
            cold=report["init_ms"] is not None,
            duration_ms=report["duration_ms"],
            billed_ms=report["billed_ms"],
            init_ms=report["init_ms"],
            max_memory_mb=report["max_memory_mb"] or 0,
            memory_size_mb=report["memory_size_mb"] or 0,
            wall_ms=wall_ms,
            error=error,
        )
        return sample, len(body)


class ColdStarts:
    """Force cold starts and set memory sizes of a deployed function; put everything back.

    Nothing is read or changed until a method is called, so invoking alone needs no
    control-plane permission (``lambda:GetFunctionConfiguration`` /
    ``lambda:UpdateFunctionConfiguration``).
    """

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name
        self._original: dict[str, Any] | None = None

    def _config(self) -> dict[str, Any]:
        return self.client.call("lambda", "GetFunctionConfiguration", FunctionName=self.name)

    def _remember(self) -> dict[str, Any]:
        if self._original is None:
            config = self._config()
            self._original = {
                "MemorySize": config.get("MemorySize"),
                "Variables": dict((config.get("Environment") or {}).get("Variables") or {}),
            }
        return self._original

    def _update(self, **changes: Any) -> None:
        self.client.wait_ready(self.name)  # Lambda refuses an update while one is running
        self.client.call("lambda", "UpdateFunctionConfiguration", FunctionName=self.name, **changes)
        self.client.wait_ready(self.name)

    def memory(self) -> int:
        """The memory size configured before sklambda changed anything."""
        return int(self._remember()["MemorySize"])

    def set_memory(self, memory_mb: int) -> None:
        """Set the memory size (which also starts new environments)."""
        self._remember()
        self._update(MemorySize=memory_mb)

    def force(self) -> str:
        """Make the next invoke start a new environment; returns the nonce it set."""
        original = self._remember()
        nonce = uuid.uuid4().hex
        variables = {**original["Variables"], NONCE_VARIABLE: nonce}
        self._update(Environment={"Variables": variables})
        return nonce

    @property
    def changed(self) -> bool:
        return self._original is not None

    def restore(self) -> None:
        """Put back the memory size and environment variables found (if anything changed)."""
        if self._original is None:
            return
        self._update(
            MemorySize=self._original["MemorySize"],
            Environment={"Variables": self._original["Variables"]},
        )
        self._original = None
