"""Log lines of environments: the function's stdout/stderr and Lambda's platform lines."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Literal

__all__ = ["MAX_LINE_BYTES", "LinePump", "LogLine", "LogSink"]

MAX_LINE_BYTES = 256 * 1024
"""CloudWatch Logs' largest event: a longer line is forwarded in pieces of at most this size."""

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


class LinePump:
    """Forwards each line of a pipe to a sink from a daemon thread, until EOF.

    The pipe is drained even without a sink, so a chatty function never blocks on a full pipe.
    :meth:`wait_drained` lets the environment make sure that everything the function wrote
    before answering has been forwarded before it writes END and REPORT.
    """

    def __init__(
        self,
        pipe: IO[bytes],
        stream: Stream,
        log_stream: str,
        current_request: Callable[[], str | None],
        sink: LogSink | None,
    ) -> None:
        self._pipe = pipe
        self._fd = pipe.fileno()
        self._stream: Stream = stream
        self._log_stream = log_stream
        self._current_request = current_request
        self._sink = sink
        self._cond = threading.Condition()
        self._idle = False
        self._eof = False
        self.thread = threading.Thread(target=self._run, name=f"sklambda-log-{stream}", daemon=True)
        self.thread.start()

    def _emit(self, raw: bytes) -> None:
        if self._sink is None:
            return
        text = raw.decode("utf-8", errors="replace")
        line = LogLine(text, self._stream, self._log_stream, self._current_request())
        # A faulty callback must not stall the pipe (and so the function).
        with contextlib.suppress(Exception):
            self._sink(line)

    def _run(self) -> None:
        # Bytes of the unfinished line, as a list of chunks: joined once per line, so output
        # without newlines costs linear time, not a copy of everything so far per read.
        parts: list[bytes] = []
        size = 0
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        with self._pipe:
            while True:
                with self._cond:
                    self._idle = True
                    self._cond.notify_all()
                # Wait for data *before* taking it: the reader is marked busy while bytes are
                # out of the pipe but not yet forwarded, so "idle and pipe empty" means drained.
                poller.poll()
                with self._cond:
                    self._idle = False
                chunk = os.read(self._fd, 1 << 16)
                if not chunk:
                    break
                start = 0
                while (end := chunk.find(b"\n", start)) != -1:
                    parts.append(chunk[start:end])
                    self._emit(b"".join(parts))
                    parts, size = [], 0
                    start = end + 1
                if start < len(chunk):
                    rest = chunk[start:]
                    parts.append(rest)
                    size += len(rest)
                    if size >= MAX_LINE_BYTES:
                        parts, size = self._emit_pieces(b"".join(parts))
            if parts:
                self._emit(b"".join(parts))
        with self._cond:
            self._eof = self._idle = True
            self._cond.notify_all()

    def _emit_pieces(self, data: bytes) -> tuple[list[bytes], int]:
        """Forward whole pieces of an over-long line; return what is left, unfinished."""
        while len(data) >= MAX_LINE_BYTES:
            cut = MAX_LINE_BYTES
            # Cut before a UTF-8 continuation byte, so no character is split in two.
            while cut < len(data) and cut > MAX_LINE_BYTES - 4 and data[cut] & 0xC0 == 0x80:
                cut -= 1
            self._emit(data[:cut])
            data = data[cut:]
        return ([data], len(data)) if data else ([], 0)

    def _drained(self) -> bool:
        if self._eof:
            return True
        if not self._idle:
            return False
        try:
            unread = struct.unpack("i", fcntl.ioctl(self._fd, termios.FIONREAD, b"\0" * 4))[0]
        except OSError:
            return True
        return unread == 0

    def wait_drained(self, timeout: float) -> bool:
        """Wait until every byte written so far has been read and forwarded (or EOF)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._drained():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                # Woken when the reader goes idle; the short cap covers bytes that arrive
                # while it is idle (the reader then wakes on its own).
                self._cond.wait(min(remaining, 0.005))
        return True
