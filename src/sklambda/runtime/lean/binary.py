"""``lean.bin``: a model's large parameters as raw machine arrays, read with ``array.frombytes``.

No JSON parsing of many numbers at INIT and no numpy: the spec lists each array's type code,
byte offset and length; loading is one ``read`` and a ``frombytes`` per array.
"""

from __future__ import annotations

from array import array

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BINARY_FILE = "lean.bin"


def pack(arrays: dict[str, array]) -> tuple[bytes, dict[str, list[Any]]]:
    """The file's bytes and its index ``{name: [typecode, offset, length]}``."""
    chunks = []
    index: dict[str, list[Any]] = {}
    offset = 0
    for name in sorted(arrays):
        raw = arrays[name].tobytes()
        index[name] = [arrays[name].typecode, offset, len(arrays[name])]
        chunks.append(raw)
        offset += len(raw)
    return b"".join(chunks), index


def unpack(data: bytes, index: dict[str, list[Any]]) -> dict[str, array]:
    """The arrays of :func:`pack`'s output."""
    view = memoryview(data)
    out = {}
    for name, (typecode, offset, length) in index.items():
        values = array(typecode)
        values.frombytes(view[offset : offset + length * values.itemsize])
        out[name] = values
    return out
