"""Reading HTTP request bodies (fixed length or chunked) with a size limit."""

from __future__ import annotations

from email.message import Message
from typing import Protocol

__all__ = ["BodyTooLarge", "read_body"]

_CHUNK = 1 << 16


class Readable(Protocol):
    """What a body is read from: a handler's ``rfile`` (``io.BufferedIOBase``) or a ``BinaryIO``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


class BodyTooLarge(Exception):
    """The body is larger than the limit; it has been read and discarded."""


def read_body(stream: Readable, headers: Message, limit: int) -> bytes | None:
    """Read a request body, keeping at most ``limit`` bytes.

    Parameters
    ----------
    stream : Readable
        The connection's input.
    headers : email.message.Message
        The request headers (``Content-Length`` / ``Transfer-Encoding``).
    limit : int
        Largest body kept; a larger one is consumed (so the connection stays usable) and
        :class:`BodyTooLarge` is raised.

    Returns
    -------
    bytes or None
        The body, or None when the request has none (no length, not chunked).
    """
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(stream, limit)
    length_header = headers.get("Content-Length")
    if length_header is None:
        return None
    try:
        length = int(length_header)
    except ValueError:
        raise ValueError(f"invalid Content-Length {length_header!r}") from None
    if length < 0:
        raise ValueError(f"invalid Content-Length {length_header!r}")
    if length > limit:
        _discard(stream, length)
        raise BodyTooLarge(length)
    return _read_exact(stream, length)


def _read_exact(stream: Readable, length: int) -> bytes:
    data = stream.read(length)
    if len(data) != length:
        raise ValueError(f"connection closed after {len(data)} of {length} body bytes")
    return data


def _discard(stream: Readable, length: int) -> None:
    while length > 0:
        got = stream.read(min(length, _CHUNK))
        if not got:
            return
        length -= len(got)


def _read_chunked(stream: Readable, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    too_large = False
    while True:
        line = stream.readline(1024)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ValueError(f"invalid chunk size line {line!r}") from None
        if size == 0:
            # Trailer section ends with an empty line.
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            break
        total += size
        if total > limit:
            too_large = True
            _discard(stream, size)
        else:
            parts.append(_read_exact(stream, size))
        stream.readline(1024)
    if too_large:
        raise BodyTooLarge(total)
    return b"".join(parts)
