"""A package changed after its build is refused by serve and invoke: one line, exit 2."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli import _one_line_error, run_inprocess
from tests.support import handlers
from tests.support.cli import run_cli


def _listed(dist: Path) -> Path:
    """Record the zips' sha256 in build.json, as `sklambda build` does."""
    meta = json.loads((dist / "build.json").read_text())
    meta["artifacts"] = {
        kind: {"file": name, "sha256": hashlib.sha256((dist / name).read_bytes()).hexdigest()}
        for kind, name in (("function", "function.zip"), ("layer", "layer.zip"))
        if (dist / name).is_file()
    }
    (dist / "build.json").write_text(json.dumps(meta))
    return dist


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_invoke_refuses_a_flipped_byte(
    tmp_path: Path,
    local_dist_maker: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    layer = {"python/layer_pkg/__init__.py": "NAME = 1\n", "python/layer_site_mod.py": "X = 1\n"}
    dist = _listed(local_dist_maker(tmp_path, "basic", handlers.LOCAL_BASIC_HANDLER, layer=layer))
    _flip(dist / "layer.zip")
    result = run_inprocess(capsys, "invoke", str(dist), "--json", "{}")
    _one_line_error(result, "layer.zip does not match the sha256 in build.json", "rebuild")


def test_serve_refuses_a_flipped_byte_before_listening(
    tmp_path: Path, local_dist_maker: Callable[..., Path]
) -> None:
    dist = _listed(local_dist_maker(tmp_path, "web", handlers.LOCAL_WEB_HANDLER))
    _flip(dist / "function.zip")
    result = run_cli("serve", str(dist), "--port", "0")
    _one_line_error(result, "function.zip does not match the sha256 in build.json")
    assert "function URL" not in result.stdout


@pytest.mark.parametrize("command", ["predict", "build", "invoke", "serve", "info"])
def test_every_command_refuses_a_bundle_whose_manifest_was_edited(
    houses_classifier: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    import shutil

    bundle = Path(shutil.copytree(houses_classifier, tmp_path / "bundle"))
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["classes"].reverse()  # probabilities would be served under the wrong labels
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    args = {
        "predict": ("--json", "{}"),
        "build": ("--out", str(tmp_path / "dist")),
        "invoke": ("--json", "{}"),
        "serve": ("--port", "0"),
        "info": (),
    }[command]
    if command == "serve":
        result = run_cli(command, str(bundle), *args)  # a fresh process: serve would block
    else:
        result = run_inprocess(capsys, command, str(bundle), *args)
    _one_line_error(result, "manifest.json does not match its seal", "re-save")
    assert not (tmp_path / "dist").exists()
