"""Crafted skops files that carry no code: every one is a one-line BundleError, never a traceback.

The corpus is mutations of a real skops file (a fitted scaler + logistic regression, with
arrays): truncations, a schema that is not one, nodes missing keys or holding the wrong types,
unknown loaders, missing or damaged array files, nesting deep enough to exhaust recursion, and
random edits (Hypothesis) anywhere in the schema.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklambda.bundle import persistence
from sklambda.errors import BundleError


@pytest.fixture(scope="module")
def real_skops(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.arange(40.0).reshape(20, 2)
    est = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, np.arange(20) % 2)
    path = tmp_path_factory.mktemp("skops") / "model.skops"
    persistence.dump(est, path, "skops")
    persistence.load(path, "skops")  # the original is fine
    return path.read_bytes()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _with_schema(data: bytes, change: Callable[[Any], Any]) -> bytes:
    members = _members(data)
    schema = json.loads(members["schema.json"])
    changed = change(schema)
    members["schema.json"] = json.dumps(schema if changed is None else changed).encode()
    return _zip(members)


def _nodes(node: Any) -> list[dict[str, Any]]:
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item:
                found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _first(schema: Any, loader: str) -> dict[str, Any]:
    return next(n for n in _nodes(schema) if n["__loader__"] == loader)


def _array_files(data: bytes) -> list[str]:
    return [n for n in _members(data) if n.endswith(".npy")]


def _deep(depth: int) -> str:
    """A schema of lists nested ``depth`` deep (written as text: json.dumps would recurse)."""
    head = '{"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": ['
    leaf = '{"__class__": "list", "__module__": "builtins", "__loader__": "ListNode"}'
    return head * depth + leaf + "]}" * depth


MUTATIONS: dict[str, Callable[[bytes], bytes]] = {
    "empty file": lambda d: b"",
    "not a zip": lambda d: b"this is not a zip file at all",
    "truncated to half": lambda d: d[: len(d) // 2],
    "truncated central directory": lambda d: d[:-10],
    "no schema.json": lambda d: _zip({k: v for k, v in _members(d).items() if k != "schema.json"}),
    "schema not JSON": lambda d: _zip({**_members(d), "schema.json": b"{not json"}),
    "schema a list": lambda d: _with_schema(d, lambda s: [s]),
    "schema a number": lambda d: _with_schema(d, lambda s: 42),
    "schema empty object": lambda d: _with_schema(d, lambda s: {}),
    "no __class__": lambda d: _with_schema(d, lambda s: s.pop("__class__") and None),
    "no __module__": lambda d: _with_schema(d, lambda s: s.pop("__module__") and None),
    "__module__ a number": lambda d: _with_schema(d, lambda s: s.update(__module__=7)),
    "__class__ a list": lambda d: _with_schema(d, lambda s: s.update(__class__=["x"])),
    "no content": lambda d: _with_schema(d, lambda s: s.pop("content") and None),
    "content a string": lambda d: _with_schema(d, lambda s: s.update(content="oops")),
    "content a list": lambda d: _with_schema(d, lambda s: s.update(content=[1, 2])),
    "unknown loader": lambda d: _with_schema(d, lambda s: s.update(__loader__="EvilNode")),
    "loader a number": lambda d: _with_schema(d, lambda s: s.update(__loader__=3)),
    "protocol from the future": lambda d: _with_schema(d, lambda s: s.update(protocol=999)),
    "no protocol": lambda d: _with_schema(d, lambda s: s.pop("protocol", None) and None),
    "dict content a list": lambda d: _with_schema(
        d, lambda s: _first(s, "DictNode").update(content=[1])
    ),
    "array file missing": lambda d: _zip(
        {k: v for k, v in _members(d).items() if k not in _array_files(d)[:1]}
    ),
    "array file garbage": lambda d: _zip({**_members(d), _array_files(d)[0]: b"\x93NUMPY garbage"}),
    "array file truncated": lambda d: _zip(
        {**_members(d), _array_files(d)[0]: _members(d)[_array_files(d)[0]][:20]}
    ),
    "array node points nowhere": lambda d: _with_schema(
        d, lambda s: _first(s, "NdArrayNode").update(file="nowhere.npy")
    ),
    "array node file a number": lambda d: _with_schema(
        d, lambda s: _first(s, "NdArrayNode").update(file=12)
    ),
    "json node not JSON": lambda d: _with_schema(
        d, lambda s: _first(s, "JsonNode").update(content="{nope", is_json=True, __id__=-1)
    ),
    "schema nested 5,000 deep": lambda d: _zip({"schema.json": _deep(5000).encode()}),
    "schema nested 100,000 deep": lambda d: _zip(
        {"schema.json": ("[" * 100_000 + "]" * 100_000).encode()}
    ),
    "trusted type with no fields": lambda d: _zip(
        {
            "schema.json": json.dumps(
                {
                    "__class__": "StandardScaler",
                    "__module__": "sklearn.preprocessing._data",
                    "__loader__": "ObjectNode",
                    "protocol": json.loads(_members(d)["schema.json"])["protocol"],
                }
            ).encode()
        }
    ),
}


def test_a_bound_method_is_named_and_refused(tmp_path: Path) -> None:
    """A method of a trusted object runs what the method does: it needs the caller's trust."""
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from sklambda.errors import UntrustedModelError

    X = np.arange(40.0).reshape(20, 2)
    scaler = StandardScaler().fit(X)
    est = make_pipeline(FunctionTransformer(scaler.transform), LinearRegression())
    est.fit(X, X[:, 0])
    path = tmp_path / "model.skops"
    name = "sklearn.preprocessing._data.StandardScaler.transform"
    with pytest.raises(UntrustedModelError, match=name.replace(".", r"\.")):
        persistence.dump(est, path, "skops")
    assert persistence.dump(est, path, "skops", trusted_types=[name]) == [name]
    loaded = persistence.load(path, "skops", trusted_types=[name])
    np.testing.assert_allclose(loaded.predict(X), est.predict(X))


def _refused_in_one_line(data: bytes, tmp_path: Path) -> BundleError:
    path = tmp_path / "model.skops"
    path.write_bytes(data)
    try:
        persistence.load(path, "skops")
    except BundleError as exc:
        message = str(exc)
        assert "\n" not in message and "model.skops" in message, message
        return exc
    raise AssertionError("a crafted file was loaded")


@pytest.mark.parametrize("mutation", list(MUTATIONS), ids=list(MUTATIONS))
def test_crafted_file_is_a_one_line_bundle_error(
    real_skops: bytes, tmp_path: Path, mutation: str
) -> None:
    _refused_in_one_line(MUTATIONS[mutation](real_skops), tmp_path)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_edits_of_the_schema_never_escape_as_tracebacks(
    real_skops: bytes, tmp_path: Path, data: st.DataObject
) -> None:
    members = _members(real_skops)
    schema = json.loads(members["schema.json"])
    nodes = _nodes(schema)
    node = data.draw(st.sampled_from(nodes))
    key = data.draw(st.sampled_from(sorted(node)))
    node[key] = data.draw(_VALUES)
    members["schema.json"] = json.dumps(schema).encode()
    path = tmp_path / "model.skops"
    path.write_bytes(_zip(members))
    try:
        persistence.load(path, "skops")  # some edits are harmless (a changed id): loading is fine
    except BundleError as exc:
        assert "\n" not in str(exc)


def test_a_class_named_with_a_newline_is_refused_in_one_line(
    real_skops: bytes, tmp_path: Path
) -> None:
    # Found by the random-edit test above: the refusal printed the crafted name raw.
    members = _members(real_skops)
    schema = json.loads(members["schema.json"])
    schema["__class__"] = "Pipe\nline"
    members["schema.json"] = json.dumps(schema).encode()
    path = tmp_path / "model.skops"
    path.write_bytes(_zip(members))
    with pytest.raises(BundleError) as caught:
        persistence.load(path, "skops")
    assert "\n" not in str(caught.value)
    assert "Pipe\\nline" in str(caught.value)
