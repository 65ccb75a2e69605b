"""build()'s phases one at a time: each has one job and a typed result (no package is built)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sklambda import limits
from sklambda.building.forms import Form
from sklambda.building.machines import find_machines
from sklambda.building.report import bytecode_report, size_limits
from sklambda.building.targets import host_arch, target
from sklambda.building.zips import Artifact
from sklambda.errors import BuildError


def artifact(name: str, zipped: int, unzipped: int) -> Artifact:
    return Artifact(Path(name), zipped, unzipped, 1, "0" * 64)


def test_size_limits_refuse_over_250_mib_and_note_the_s3_upload() -> None:
    notes: list[str] = []
    small = {"function": artifact("function.zip", 10, 20)}
    assert size_limits(small, image=False, notes=notes)["unzipped_ok"] is True
    assert notes == []
    big = {"layer": artifact("layer.zip", limits.DIRECT_UPLOAD_BYTES + 1, 100 * 2**20)}
    checked = size_limits(big, image=False, notes=notes)
    assert checked["direct_upload_ok"] is False
    assert notes == ["an artifact is over 50 MiB zipped: deploy uploads it through S3"]
    huge = {"layer": artifact("layer.zip", 1, limits.UNZIPPED_BYTES + 1)}
    with pytest.raises(BuildError, match="over Lambda's 250 MiB limit"):
        size_limits(huge, image=False, notes=[])
    # An image is held to the image limit instead, and is not refused at 250 MiB.
    assert size_limits(huge, image=True, notes=[])["image_ok"] is True


def test_without_the_target_python_no_bytecode_ships_and_a_note_says_why() -> None:
    form = Form("lean", object(), [])
    report = bytecode_report(None, target("3.13"), form, 0)
    assert report["shipped"] is False and "no python3.13" in report["reason"]
    assert form.notes == [f"no bytecode shipped: {report['reason']}"]


def test_a_foreign_architecture_is_proven_through_a_twin() -> None:
    other = "arm64" if host_arch() == "x86_64" else "x86_64"
    machines = find_machines(target("3.12", other))
    assert machines.twin and machines.foreign_arch
    assert machines.here.arch == host_arch()
    assert f"not {other}" in machines.why_twin(target("3.12", other))
