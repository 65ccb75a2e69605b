"""The Lambda API the local front answers: Invoke and GetFunction, as AWS shapes them.

The front (:mod:`sklambda.local.function_url`) sends every request under ``/2015-03-31/functions/``
here through :meth:`LambdaAPI.dispatch`, so ``boto3.client("lambda", endpoint_url=...)`` works:

- **Qualifiers**: one package is every version of the function. ``$LATEST``, any version number
  and the aliases (``live``, the one ``sklambda deploy`` creates) name the same code; anything
  else is ``ResourceNotFoundException``. The qualifier may come as ``?Qualifier=`` or as the
  name's suffix (``houses:live``, a full ARN), as on AWS.
- **Errors** carry Lambda's types in ``X-Amzn-ErrorType`` (so botocore raises the modelled
  exception: ``ResourceNotFoundException``, ``RequestTooLargeException``,
  ``InvalidRequestContentException``, ``TooManyRequestsException``...); a function error is a
  200 with ``X-Amz-Function-Error: Unhandled``.
- **LogType=Tail**: ``X-Amz-Log-Result``, the last 4 KB of the invocation's log, base64.
- **Asynchronous invokes** (``InvocationType=Event``): at most 1 MB (the Invoke API's limit for
  asynchronous payloads); accepted events go to a bounded queue (never dropped while the front
  runs; a full queue is a 429 saying so), run by as many workers as the function's concurrency,
  retried up to two more times after a function error as Lambda does (AWS waits about 1 and 2
  minutes; here the delays are :data:`ASYNC_RETRY_DELAYS_S`), and throttles are retried until
  an environment is free. Events still queued when the front closes are not run (counted in
  :attr:`AsyncStats.dropped_at_close`).
- **GetFunction** / **GetFunctionConfiguration**: the configuration the emulator runs with; the
  code location is a ``file://`` URI of ``function.zip`` (a stub: AWS gives a presigned S3 URL).
"""

from __future__ import annotations

import base64
import binascii
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from sklambda import limits
from sklambda.local.errors import RequestTooLargeError, TooManyRequestsError
from sklambda.local.url_events import HttpResponse
from sklambda.runtime.contract import RequestError, parse_json

if TYPE_CHECKING:
    from sklambda.local.function import InvokeResult, LocalFunction

__all__ = [
    "ASYNC_QUEUE_SIZE",
    "ASYNC_RETRY_DELAYS_S",
    "DEFAULT_ALIASES",
    "AsyncStats",
    "LambdaAPI",
]

API_PREFIX = "/2015-03-31/functions/"
DEFAULT_ALIASES = ("live",)
ASYNC_QUEUE_SIZE = 1000
ASYNC_RETRY_DELAYS_S = (1.0, 2.0)
"""Before the second and third attempt of a failed asynchronous event (AWS: ~1 and ~2 min)."""
# An Invoke payload may be any event, for any handler: deeper than a request to the model
# service needs, but bounded before Python's parser recurses (the runtime parses it again).
INVOKE_MAX_DEPTH = 500
_THROTTLE_BACKOFF_S = 0.05
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
_GET = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)(?P<config>/configuration)?$")
_VERSION = re.compile(r"^[1-9][0-9]{0,9}$")


class _ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


@dataclass
class AsyncStats:
    """Counters of the asynchronous queue."""

    accepted: int = 0
    succeeded: int = 0
    failed: int = 0
    """Events whose every attempt (three) failed; Lambda would send them to a DLQ/destination."""
    retries: int = 0
    rejected_full: int = 0
    dropped_at_close: int = 0


@dataclass(frozen=True)
class _Event:
    payload: bytes
    request_id: str
    accepted_at: float


class LambdaAPI:
    """Invoke / GetFunction for one :class:`LocalFunction`, with its asynchronous queue.

    Parameters
    ----------
    function : LocalFunction
    aliases : iterable of str
        Alias names that resolve to the package (``live`` by default).
    queue_size : int
        Most asynchronous events waiting at once.
    retry_delays : sequence of float
        Seconds before each retry of a failed asynchronous event (two: Lambda's attempts).
    """

    def __init__(
        self,
        function: LocalFunction,
        *,
        aliases: Iterable[str] = DEFAULT_ALIASES,
        queue_size: int = ASYNC_QUEUE_SIZE,
        retry_delays: tuple[float, ...] = ASYNC_RETRY_DELAYS_S,
    ) -> None:
        self.function = function
        self.aliases = tuple(aliases)
        self.retry_delays = tuple(retry_delays)
        self.stats = AsyncStats()
        self._queue: queue.Queue[_Event | None] = queue.Queue(maxsize=queue_size)
        self._queue_size = queue_size
        self._lock = threading.Condition()
        self._closed = threading.Event()
        self._workers: list[threading.Thread] = []

    # -- routing -------------------------------------------------------------------------------

    @staticmethod
    def handles(method: str, target: str) -> bool:
        """Whether a request is for this API (else it is a function URL request)."""
        path = target.split("?", 1)[0]
        if method == "POST" and _INVOKE.match(path):
            return True
        return method == "GET" and _GET.match(path) is not None

    def dispatch(self, method: str, target: str, headers: Any, body: bytes | None) -> HttpResponse:
        """Answer one request; ``headers`` has a case-insensitive ``get(name, default)``."""
        return self.dispatch_with_result(method, target, headers, body)[0]

    def dispatch_with_result(
        self, method: str, target: str, headers: Any, body: bytes | None
    ) -> tuple[HttpResponse, InvokeResult | None]:
        """:meth:`dispatch`, plus the synchronous invocation's result when the function ran
        (for a front's access log); None for answers given without running it."""
        request_id = str(uuid.uuid4())
        split = urlsplit(target)
        query = parse_qs(split.query)
        try:
            invoke = _INVOKE.match(split.path)
            if method == "POST" and invoke is not None:
                return self._invoke(
                    unquote(invoke["name"]), query, headers, body or b"", request_id
                )
            get = _GET.match(split.path)
            if method == "GET" and get is not None:
                qualifier = self._resolve(unquote(get["name"]), query)
                doc = self._configuration(qualifier)
                if not get["config"]:
                    doc = {"Configuration": doc, "Code": self._code()}
                return _json(200, doc, request_id), None
            raise _ApiError(404, "ResourceNotFoundException", f"no such API: {method} {split.path}")
        except _ApiError as error:
            return _error(error, request_id), None

    def too_large(self) -> HttpResponse:
        """The answer to an Invoke request whose body is over 6 MB (read no further)."""
        return _error(self.too_large_error(), str(uuid.uuid4()))

    # -- names and qualifiers ------------------------------------------------------------------

    def _resolve(self, name: str, query: dict[str, list[str]]) -> str:
        """The qualifier a request names (``$LATEST`` when none), or ResourceNotFound."""
        function = self.function
        suffix: str | None = None
        if name.startswith("arn:"):
            parts = name.split(":")
            # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
            if len(parts) not in (7, 8) or parts[5] != "function":
                raise self._not_found(name)
            base, suffix = parts[6], parts[7] if len(parts) == 8 else None
        elif ":function:" in name:  # <account>:function:<name>[:<qualifier>]
            base, _, rest = name.partition(":function:")[2].partition(":")
            suffix = rest or None
        else:
            base, _, rest = name.partition(":")
            suffix = rest or None
        given = query.get("Qualifier", [None])[0]
        if suffix is not None and given is not None and suffix != given:
            raise _ApiError(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            )
        qualifier = suffix or given or "$LATEST"
        if base not in (function.name, "function"):
            raise self._not_found(name)
        if (
            qualifier != "$LATEST"
            and qualifier not in self.aliases
            and not _VERSION.match(qualifier)
        ):
            raise self._not_found(f"{function.arn}:{qualifier}")
        return qualifier

    def _not_found(self, what: str) -> _ApiError:
        served = ", ".join(("$LATEST", "<version number>", *self.aliases))
        return _ApiError(
            404,
            "ResourceNotFoundException",
            f"Function not found: {what} (this emulator serves {self.function.arn} as {served})",
        )

    def _executed_version(self, qualifier: str) -> str:
        # An alias points at a published version; locally every version is the package.
        return "1" if qualifier in self.aliases else qualifier

    # -- GetFunction ---------------------------------------------------------------------------

    def _configuration(self, qualifier: str) -> dict[str, Any]:
        function = self.function
        dist = function.dist
        arn = function.arn if qualifier == "$LATEST" else f"{function.arn}:{qualifier}"
        return {
            "FunctionName": function.name,
            "FunctionArn": arn,
            "Runtime": f"python{dist.python}",
            "Handler": dist.handler,
            "CodeSize": dist.function_zip.stat().st_size,
            "MemorySize": function.memory,
            "Timeout": int(function.timeout) if function.timeout >= 1 else 1,
            "Version": self._executed_version(qualifier),
            "PackageType": "Zip",
            "Architectures": [dist.arch],
            "EphemeralStorage": {"Size": function.ephemeral_storage},
            "State": "Active",
            "LastUpdateStatus": "Successful",
        }

    def _code(self) -> dict[str, str]:
        return {"RepositoryType": "S3", "Location": self.function.dist.function_zip.as_uri()}

    # -- Invoke --------------------------------------------------------------------------------

    def _invoke(
        self,
        name: str,
        query: dict[str, list[str]],
        headers: Any,
        payload: bytes,
        request_id: str,
    ) -> tuple[HttpResponse, InvokeResult | None]:
        qualifier = self._resolve(name, query)
        payload = payload or b"{}"
        try:  # the service's own parser: strict JSON, depth bounded before it recurses
            parse_json(payload, max_depth=INVOKE_MAX_DEPTH)
        except RequestError as error:
            raise _ApiError(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error.message}",
            ) from None
        invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        version = self._executed_version(qualifier)
        if invocation_type == "DryRun":
            return HttpResponse(204, [("x-amzn-RequestId", request_id)]), None
        if invocation_type == "Event":
            self._enqueue(payload, request_id)
            accepted = [("x-amzn-RequestId", request_id), ("X-Amz-Executed-Version", version)]
            return HttpResponse(202, accepted), None
        if invocation_type != "RequestResponse":
            raise _ApiError(
                400,
                "InvalidParameterValueException",
                f"InvocationType must be RequestResponse, Event or DryRun, got {invocation_type!r}",
            )
        client_context = None
        encoded_context = headers.get("X-Amz-Client-Context")
        if encoded_context:
            try:
                client_context = base64.b64decode(encoded_context, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise _ApiError(
                    400, "InvalidRequestContentException", "Client context must be base64 JSON"
                ) from None
        try:
            result = self.function.invoke_raw(
                payload, client_context=client_context, request_id=request_id
            )
        except TooManyRequestsError as exc:
            raise _ApiError(429, "TooManyRequestsException", f"Rate Exceeded. {exc}") from None
        except RequestTooLargeError:
            raise self.too_large_error() from None
        return _invoke_response(result, version, headers.get("X-Amz-Log-Type")), result

    @staticmethod
    def too_large_error() -> _ApiError:
        return _ApiError(
            413,
            "RequestTooLargeException",
            f"Request must be smaller than {limits.SYNC_PAYLOAD_BYTES} bytes for the "
            "InvokeFunction operation",
        )

    # -- the asynchronous queue ----------------------------------------------------------------

    def _enqueue(self, payload: bytes, request_id: str) -> None:
        if len(payload) > limits.ASYNC_PAYLOAD_BYTES:
            raise _ApiError(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limits.ASYNC_PAYLOAD_BYTES} bytes for the "
                "InvokeAsync operation",
            )
        if self._closed.is_set():
            raise _ApiError(503, "ServiceException", "the local front is shutting down")
        self._start_workers()
        try:
            self._queue.put_nowait(_Event(payload, request_id, time.monotonic()))
        except queue.Full:
            with self._lock:
                self.stats.rejected_full += 1
            raise _ApiError(
                429,
                "TooManyRequestsException",
                f"the local asynchronous queue is full ({self._queue_size} events wait to run); "
                "retry later, or raise the function's concurrency",
            ) from None
        with self._lock:
            self.stats.accepted += 1

    def _start_workers(self) -> None:
        with self._lock:
            if self._workers:
                return
            for index in range(self.function.concurrency):
                worker = threading.Thread(
                    target=self._work, name=f"sklambda-async-{index}", daemon=True
                )
                self._workers.append(worker)
                worker.start()

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                if self._closed.is_set() or not self._run(event):
                    with self._lock:
                        self.stats.dropped_at_close += 1
            finally:
                self._queue.task_done()
                with self._lock:
                    self._lock.notify_all()

    def _run(self, event: _Event) -> bool:
        """Run an event with Lambda's retries; False when the front closed before it ended."""
        delays = (0.0, *self.retry_delays)
        for attempt, delay in enumerate(delays):
            if delay and self._closed.wait(delay):
                return False
            while True:
                if self._closed.is_set():
                    return False
                try:
                    result = self.function.invoke_raw(event.payload, request_id=event.request_id)
                    break
                except TooManyRequestsError:
                    # Lambda keeps a throttled event and retries it (for up to six hours).
                    if self._closed.wait(_THROTTLE_BACKOFF_S):
                        return False
                except Exception:  # closed under us: nothing to report to
                    return False
            if result.error is None:
                with self._lock:
                    self.stats.succeeded += 1
                return True
            if attempt < len(delays) - 1:
                with self._lock:
                    self.stats.retries += 1
        with self._lock:
            self.stats.failed += 1
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no asynchronous event is queued or running (for tests and ``serve``)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            # Counted from put() to task_done(): an event a worker has taken is not idle.
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.05))
        return True

    def close(self) -> None:
        """Stop the workers; events still queued are counted as dropped, not run."""
        self._closed.set()
        dropped = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
            if item is not None:
                dropped += 1
        with self._lock:
            self.stats.dropped_at_close += dropped
            workers = list(self._workers)
        for _ in workers:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break


def _json(status: int, doc: Any, request_id: str) -> HttpResponse:
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)],
        json.dumps(doc).encode(),
    )


def _error(error: _ApiError, request_id: str) -> HttpResponse:
    body = json.dumps({"Type": "User", "message": error.message}).encode()
    return HttpResponse(
        error.status,
        [
            ("Content-Type", "application/json"),
            ("X-Amzn-ErrorType", error.error_type),
            ("x-amzn-RequestId", request_id),
        ],
        body,
    )


def _invoke_response(result: InvokeResult, version: str, log_type: str | None) -> HttpResponse:
    headers = [
        ("Content-Type", "application/json"),
        ("X-Amz-Executed-Version", version),
        ("x-amzn-RequestId", result.request_id),
    ]
    if result.error is not None:
        headers.append(("X-Amz-Function-Error", "Unhandled"))
    if log_type == "Tail":
        # The last 4 KB of the invocation's log, base64 (boto3 returns it as LogResult).
        tail = base64.b64encode(result.log_tail().encode()).decode()
        headers.append(("X-Amz-Log-Result", tail))
    return HttpResponse(200, headers, result.raw)
