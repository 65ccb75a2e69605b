"""Reading a package directory (function.zip, layer.zip, build.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sklambda.local import DistError, load_dist


def write(dist: Path, meta: object, *, zips: tuple[str, ...] = ("function.zip",)) -> Path:
    dist.mkdir(exist_ok=True)
    for name in zips:
        (dist / name).write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    (dist / "build.json").write_text(json.dumps(meta))
    return dist


def test_reads_build_json(tmp_path: Path) -> None:
    meta = {"python": "3.12", "handler": "h.handler", "arch": "arm64", "runtime": "lean"}
    dist = load_dist(write(tmp_path / "houses", meta, zips=("function.zip", "layer.zip")))
    assert dist.python == "3.12"
    assert dist.handler == "h.handler"
    assert dist.arch == "arm64"
    assert dist.name == "houses"
    assert dist.layer_zip == tmp_path / "houses" / "layer.zip"
    named = load_dist(write(tmp_path / "other", {**meta, "name": "prices"}))
    assert named.name == "prices"
    assert named.layer_zip is None


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"handler": "h.handler"}, "'python'"),
        ({"python": "3.12"}, "'handler'"),
        ({"python": "3.12", "handler": "nodot"}, "module.function"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_malformed_build_json(tmp_path: Path, meta: object, message: str) -> None:
    with pytest.raises(DistError, match=message):
        load_dist(write(tmp_path / "d", meta))


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DistError, match=r"function\.zip not found"):
        load_dist(write(tmp_path / "d", {"python": "3.12", "handler": "h.handler"}, zips=()))
    with pytest.raises(DistError, match=r"build\.json not found"):
        load_dist(tmp_path / "nowhere")
