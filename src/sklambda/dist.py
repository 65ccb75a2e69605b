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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from sklambda.errors import SklambdaError

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
