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


# -- integrity: what runs is what was built -----------------------------------------------------


def _built(tmp_path: Path, *, layer: bool = True) -> Path:
    """A package as `sklambda build` lists it: build.json records each zip's sha256."""
    import hashlib
    import zipfile

    dist = tmp_path / "built"
    dist.mkdir()
    artifacts = {}
    kinds = {"function": "function.zip", **({"layer": "layer.zip"} if layer else {})}
    for kind, name in kinds.items():
        with zipfile.ZipFile(dist / name, "w") as zipped:
            zipped.writestr(f"{kind}.py", f"KIND = {kind!r}\n" * 50)
        sha = hashlib.sha256((dist / name).read_bytes()).hexdigest()
        artifacts[kind] = {"file": name, "sha256": sha}
    meta = {"python": "3.12", "handler": "function.handler", "artifacts": artifacts}
    (dist / "build.json").write_text(json.dumps(meta))
    return dist


def test_artifacts_matching_build_json_are_accepted(tmp_path: Path) -> None:
    dist = load_dist(_built(tmp_path))
    assert dist.layer_zip is not None and dist.layer_zip.name == "layer.zip"


@pytest.mark.parametrize("artifact", ["function.zip", "layer.zip"])
def test_a_flipped_byte_is_refused_before_anything_runs(tmp_path: Path, artifact: str) -> None:
    path = _built(tmp_path) / artifact
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DistError, match=rf"{artifact} does not match the sha256 in build\.json"):
        load_dist(path.parent)


def test_a_zip_build_json_does_not_list_is_refused(tmp_path: Path) -> None:
    dist = _built(tmp_path, layer=False)
    (dist / "layer.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    with pytest.raises(DistError, match=r"layer\.zip is not listed in build\.json"):
        load_dist(dist)


def _bomb(path: Path, declared: int) -> None:
    """A zip whose central directory declares ``declared`` bytes for a 10-byte member."""
    import struct
    import zipfile

    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("bomb.bin", b"0123456789")
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # uncompressed size
    path.write_bytes(bytes(data))


def test_declared_unzipped_size_over_lambdas_limit_is_refused_before_extracting(
    tmp_path: Path,
) -> None:
    from sklambda import limits

    dist = write(tmp_path / "d", {"python": "3.12", "handler": "h.handler"})
    _bomb(dist / "function.zip", limits.UNZIPPED_BYTES + 1)
    with pytest.raises(DistError, match=r"262,144,001 bytes unzipped.*262,144,000.*nothing"):
        load_dist(dist)
    # Function and layer count together, as Lambda counts them.
    _bomb(dist / "function.zip", limits.UNZIPPED_BYTES // 2 + 1)
    _bomb(dist / "layer.zip", limits.UNZIPPED_BYTES // 2)
    with pytest.raises(DistError, match="with the zips before it"):
        load_dist(dist)
    _bomb(dist / "layer.zip", limits.UNZIPPED_BYTES // 2 - 1)
    assert load_dist(dist).layer_zip is not None


def test_a_zip_that_is_not_one_is_refused(tmp_path: Path) -> None:
    dist = write(tmp_path / "d", {"python": "3.12", "handler": "h.handler"})
    (dist / "function.zip").write_bytes(b"not a zip at all")
    with pytest.raises(DistError, match=r"function\.zip is not a readable zip"):
        load_dist(dist)
