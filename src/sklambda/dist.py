"""The package directory format that ``sklambda build`` writes and every later stage reads.

```
dist/
  build.json      the build report: target, handler, artifacts with their sha256, proof
  function.zip    the handler, sklambda's runtime modules, the model
  layer.zip       numpy / scikit-learn for the target, when the runtime needs them
  image/          a container build context instead of the zips (``build --image``)
  tuning.json     the memory size ``sklambda tune --apply`` chose (read by ``deploy``)
```

``build.json`` is a :class:`BuildReport`; :func:`read_report` is its one reader (used by the
emulator, deploy, bench and cost). Its ``format_version`` is :data:`FORMAT_VERSION`; a report
without one was written before versions were recorded and reads as version 1.

And the checks every stage that runs or ships a package makes before using it (``serve``,
``invoke``, ``bench``, ``deploy``): each artifact ``build.json`` lists matches its sha256, and
the sizes the zips declare in their central directories fit Lambda's unzipped limit, read
before anything is extracted (a zip bomb is refused, not unpacked). Each check takes the error
type to raise, so each stage reports in its own error tree.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from sklambda import limits
from sklambda.errors import SklambdaError
from sklambda.files import sha256_file

BUILD_JSON = "build.json"
FUNCTION_ZIP = "function.zip"
LAYER_ZIP = "layer.zip"
IMAGE_DIR = "image"
TUNING_JSON = "tuning.json"
"""The memory size ``sklambda tune --apply`` chose; ``sklambda deploy`` reads it."""

FORMAT_VERSION = 1
"""The version of ``build.json`` this sklambda writes; it reads this one and older."""


class DistError(SklambdaError):
    """A package directory without a readable ``build.json``, or one this sklambda cannot read."""


class ArtifactReport(TypedDict):
    file: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    sha256: str


class TargetReport(TypedDict):
    python: str
    arch: str
    runtime: str
    os: str
    glibc: str
    platform: str
    chosen: NotRequired[str]  # why --python auto picked this version


class ModelReport(TypedDict):
    name: str
    version: str | None
    task: str


class BuildReport(TypedDict):
    """``build.json`` as ``sklambda build`` writes it.

    Packages written by hand (the emulator's tests) or by other builders (the alert notifier,
    ``"kind": "notifier"``) hold a subset: readers check the keys they need
    (:func:`read_report`'s ``required``).
    """

    format_version: int
    sklambda: str
    name: str
    bundle_sha256: str
    model: ModelReport
    runtime: str
    python: str
    arch: str
    target: TargetReport
    handler: str
    layer_packages: dict[str, str]
    slim: dict[str, Any] | None
    artifacts: dict[str, ArtifactReport]
    limits: dict[str, Any]
    bytecode: dict[str, Any]
    notes: list[str]
    created_at: str
    image: NotRequired[dict[str, Any]]
    verification: NotRequired[dict[str, Any]]
    example: NotRequired[dict[str, Any]]  # a real sample row, for deploy's "try it" line
    model_store: NotRequired[dict[str, Any]]  # --model-from s3 (sklambda.building.model_s3)


def read_report(
    directory: str | Path,
    *,
    required: tuple[str, ...] = (),
    error: type[SklambdaError] = DistError,
) -> BuildReport:
    """``directory``'s ``build.json``, checked to be an object this sklambda can read.

    ``required`` keys must be present; ``error`` is the type raised (each stage reports a bad
    package in its own error type), with the fix: build the package (again).
    """
    directory = Path(directory)
    path = directory / BUILD_JSON
    if not path.is_file():
        raise error(
            f"{BUILD_JSON} not found in {directory}: it is not a sklambda package; build one "
            f"first: sklambda build BUNDLE --out {directory}"
        )
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise error(f"{path} is not valid JSON ({exc}); rebuild the package") from None
    if not isinstance(report, dict):
        raise error(
            f"{path} must hold a JSON object, got {type(report).__name__}; rebuild the package"
        )
    version = report.get("format_version", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise error(
            f"{path} has format_version {version!r}; this sklambda reads up to {FORMAT_VERSION}: "
            "upgrade sklambda, or rebuild the package with this one"
        )
    missing = [key for key in required if key not in report]
    if missing:
        keys = ", ".join(repr(k) for k in missing)
        raise error(f"{path} lacks {keys}; rebuild the package with this sklambda")
    return cast(BuildReport, report)


ARTIFACTS = {"function": FUNCTION_ZIP, "layer": LAYER_ZIP}


def check_artifacts(
    dist: Path, report: Mapping[str, Any], error: type[Exception]
) -> dict[str, Path]:
    """The artifacts ``build.json`` lists, each present and matching its recorded sha256.

    A zip in the directory that ``build.json`` does not list is refused too: whatever runs
    must be what was built and verified.
    """
    artifacts = report.get("artifacts")
    if not isinstance(artifacts, dict):
        raise error(f'{dist / BUILD_JSON} has no "artifacts"; rebuild the package')
    found: dict[str, Path] = {}
    for kind, default in ARTIFACTS.items():
        entry = artifacts.get(kind)
        if entry is None:
            if (dist / default).exists():
                raise error(
                    f"{dist / default} is not listed in {BUILD_JSON} (added after the build); "
                    "rebuild the package"
                )
            continue
        name = entry.get("file") if isinstance(entry, dict) else None
        if (
            not isinstance(name, str)
            or Path(name).name != name
            or not isinstance(entry.get("sha256"), str)
        ):
            raise error(f"{dist / BUILD_JSON} lists {kind} without a file and sha256; rebuild")
        file = dist / name
        if not file.is_file():
            raise error(f"{file} is missing; rebuild the package")
        if sha256_file(file) != entry["sha256"]:
            raise error(
                f"{file} does not match the sha256 in {BUILD_JSON} (changed after the build); "
                "rebuild the package"
            )
        found[kind] = file
    return found


def check_unzipped(zips: Iterable[Path], error: type[Exception]) -> int:
    """Total unzipped bytes the zips declare, refused over Lambda's limit before extraction.

    The sizes come from each zip's central directory; extraction never writes more than a
    member declares (``zipfile`` stops there and checks the CRC).
    """
    total = 0
    for path in zips:
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise error(f"{path} is not a readable zip ({exc}); rebuild the package") from None
        total += sum(m.file_size for m in members)
        if total > limits.UNZIPPED_BYTES:
            raise error(
                f"{path} declares {total:,} bytes unzipped (with the zips before it), over "
                f"Lambda's {limits.UNZIPPED_BYTES:,} for a function and its layers; nothing "
                "was extracted"
            )
    return total
