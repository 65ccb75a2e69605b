"""Reading HTTP request bodies (fixed length or chunked) with a size limit."""

from __future__ import annotations

from email.message import Message
from typing import BinaryIO

__all__ = ["BodyTooLarge", "read_body"]

_CHUNK = 1 << 16


class BodyTooLarge(Exception):
    """The body is larger than the limit; it has been read and discarded."""


def read_body(stream: BinaryIO, headers: Message, limit: int) -> bytes | None:
    """Read a request body, keeping at most ``limit`` bytes.

    Parameters
    ----------
    stream : BinaryIO
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


def _read_exact(stream: BinaryIO, length: int) -> bytes:
    data = stream.read(length)
    if len(data) != length:
        raise ValueError(f"connection closed after {len(data)} of {length} body bytes")
    return data


def _discard(stream: BinaryIO, length: int) -> None:
    while length > 0:
        got = stream.read(min(length, _CHUNK))
        if not got:
            return
        length -= len(got)


def _read_chunked(stream: BinaryIO, limit: int) -> bytes:
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
