"""Log lines of environments: the function's stdout/stderr and Lambda's platform lines."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

__all__ = ["LogLine", "LogSink", "pump_lines"]

Stream = Literal["stdout", "stderr", "platform"]


@dataclass(frozen=True)
class LogLine:
    """One line of an environment's log, as CloudWatch would store it.

    Attributes
    ----------
    text : str
        The line without its trailing newline. awslambdaric writes a multi-line error as one
        record with ``\\r`` separators, as in CloudWatch.
    stream : {"stdout", "stderr", "platform"}
        Where it came from; ``platform`` for START / END / REPORT lines written by the emulator.
    log_stream : str
        The environment's log stream name (one per environment, like Lambda's).
    request_id : str or None
        The invocation running in that environment when the line was read; None during init.
        Attribution is by time of reading, so a line flushed late can land on the next request.
    timestamp : float
        ``time.time()`` when the line was read.
    """

    text: str
    stream: Stream
    log_stream: str
    request_id: str | None
    timestamp: float = field(default_factory=time.time)


LogSink = Callable[[LogLine], None]


def pump_lines(
    pipe: BinaryIO,
    stream: Stream,
    log_stream: str,
    current_request: Callable[[], str | None],
    sink: LogSink | None,
) -> threading.Thread:
    """Forward each line of ``pipe`` to ``sink`` from a daemon thread, until EOF.

    The pipe is drained even without a sink, so a chatty function never blocks on a full pipe.
    """

    def run() -> None:
        with pipe:
            for raw in iter(pipe.readline, b""):
                if sink is None:
                    continue
                text = raw.decode("utf-8", errors="replace").rstrip("\n")
                # A faulty callback must not stall the pipe (and so the function).
                with contextlib.suppress(Exception):
                    sink(LogLine(text, stream, log_stream, current_request()))

    thread = threading.Thread(target=run, name=f"sklambda-log-{stream}", daemon=True)
    thread.start()
    return thread
