"""A built package directory (``sklambda build --out DIST``) as the deploy step reads it."""

from __future__ import annotations

import base64
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklambda.aws.errors import DeployError
from sklambda.dist import IMAGE_DIR, check_artifacts, read_report


@dataclass(frozen=True)
class Package:
    """What a package directory holds, checked against its ``build.json``.

    Attributes
    ----------
    dist:
        The directory.
    report:
        ``build.json`` as written by ``sklambda build``.
    function_zip, layer_zip:
        The artifacts (``function_zip`` is ``None`` for an image context, ``layer_zip`` when
        the package needs no layer).
    """

    dist: Path
    report: dict[str, Any]
    function_zip: Path | None
    layer_zip: Path | None

    @property
    def model_name(self) -> str:
        return str(self.report.get("model", {}).get("name") or self.report.get("name", ""))

    @property
    def model_version(self) -> str:
        return str(self.report.get("model", {}).get("version", ""))

    @property
    def runtime(self) -> str:
        return str(self.report["target"]["runtime"])

    @property
    def arch(self) -> str:
        return str(self.report["arch"])

    @property
    def handler(self) -> str:
        return str(self.report["handler"])

    def sha256(self, artifact: str) -> str:
        """Hex sha256 of ``function`` or ``layer`` as build.json records it."""
        return str(self.report["artifacts"][artifact]["sha256"])

    def lambda_code_sha256(self) -> str:
        """The function zip's digest the way Lambda reports ``CodeSha256`` (base64, not hex)."""
        return base64.b64encode(bytes.fromhex(self.sha256("function"))).decode()

    def example_instance(self) -> dict[str, Any]:
        """A real row of the bundle's sample when the build recorded one, else a plausible row
        from the packaged manifest's feature ranges."""
        recorded = self.report.get("example")
        if isinstance(recorded, dict) and recorded:
            return dict(recorded)
        if self.function_zip is None:
            return {}
        try:
            with zipfile.ZipFile(self.function_zip) as archive:
                manifest = json.loads(archive.read("model/manifest.json"))
        except (KeyError, OSError, ValueError, zipfile.BadZipFile):
            return {}
        row: dict[str, Any] = {}
        for spec in manifest.get("features", []):
            if spec.get("type") == "number":
                lo, hi = spec.get("min"), spec.get("max")
                value = 0.0 if lo is None or hi is None else (lo + hi) / 2
                row[spec["name"]] = round(value, 4)
            else:
                categories = spec.get("categories") or [""]
                row[spec["name"]] = categories[0]
        return row


def read_package(dist: str | Path) -> Package:
    """Read and check a package directory: build.json present, artifacts match their sha256.

    Raises
    ------
    DeployError
        When the directory is not a package or an artifact changed after the build.
    """
    dist = Path(dist)
    required = ("artifacts", "target", "arch", "handler")
    report: dict[str, Any] = dict(read_report(dist, required=required, error=DeployError))
    checked = check_artifacts(dist, report, DeployError)
    found: dict[str, Path | None] = {"function": None, "layer": None, **checked}
    if found["function"] is None and not (dist / IMAGE_DIR).is_dir():
        raise DeployError(f"{dist} has neither function.zip nor an {IMAGE_DIR}/ context")
    return Package(dist, report, found["function"], found["layer"])
