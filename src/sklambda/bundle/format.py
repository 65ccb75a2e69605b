"""The bundle format: what a trained model is on disk, and how it is read and checked.

```
houses/
  manifest.json   format version, name, task, features, target, classes, metrics, versions,
                  sha256 of every other file, created_at
  model.skops     the fitted estimator (model.joblib only when asked for)
  sample.json     a few feature rows and the predictions made at training time
```

Writing bundles is :mod:`sklambda.bundle.store`; this module only names the files and reads them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from sklambda import limits
from sklambda._version import __version__
from sklambda.errors import BundleError
from sklambda.files import sha256_file

if TYPE_CHECKING:
    from sklambda.bundle.features import FeatureSpec

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SAMPLE = "sample.json"
SAMPLE_ROWS = 20


class Manifest(TypedDict, total=False):
    """``manifest.json``: what :func:`sklambda.bundle.store.write_bundle` writes.

    Inside a package (``model/manifest.json``) ``training``, ``files`` and ``sample`` are left out
    and ``package`` (runtime, sklambda version, target) is added by the build.
    """

    format_version: int
    name: str
    version: str  # the model version: a digest of the fitted model's content
    task: str  # "regression" | "classification"
    estimator_class: str
    features: list[FeatureSpec]
    target: dict[str, Any] | None
    classes: list[Any] | None
    probabilities: bool
    metrics: dict[str, float] | None
    model: dict[str, str]  # file, format
    sample: dict[str, Any]  # file, synthetic, rows
    versions: dict[str, str]  # library versions the model was fitted with
    training: dict[str, Any] | None
    files: dict[str, str]  # sha256 of every other file
    created_at: str
    trusted_types: list[str]  # types of the user's own code vouched for when saved
    seal: dict[str, str]  # the manifest's own digest (and this machine's trust mark)
    package: dict[str, Any]  # packaged manifests only


def library_versions() -> dict[str, str]:
    """Versions of what the model was fitted with; a build must match them."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": ".".join(map(str, sys.version_info[:3])), "sklambda": __version__}
    for dist, key in (
        ("scikit-learn", "sklearn"),
        ("numpy", "numpy"),
        ("scipy", "scipy"),
        ("skops", "skops"),
        ("joblib", "joblib"),
    ):
        with contextlib.suppress(PackageNotFoundError):
            out[key] = version(dist)
    return out


def content_digest(path: Path) -> str:
    """sha256 of what a model file holds, the same for the same fitted model.

    A skops file names its entries after Python object ids and stamps them with the time they
    were written, so two saves of one model differ byte for byte. Here the schema's ids and
    array-file names are renumbered in traversal order and each array file is hashed where it
    is referenced, so retraining with the same data and seed yields the same model version.
    """
    if not zipfile.is_zipfile(path):
        return sha256_file(path)
    with zipfile.ZipFile(path) as archive:
        if "schema.json" not in archive.namelist():
            return sha256_file(path)
        schema = json.loads(archive.read("schema.json"))
        renumbered: dict[Any, int] = {}
        digest = hashlib.sha256()

        def canonical(node: Any) -> Any:
            if isinstance(node, dict):
                out = {}
                for key in sorted(node):
                    value = node[key]
                    if key == "__id__":
                        value = renumbered.setdefault(value, len(renumbered))
                    elif key == "file" and isinstance(value, str) and value in archive.namelist():
                        digest.update(hashlib.sha256(archive.read(value)).digest())
                        value = renumbered.setdefault(value, len(renumbered))
                    else:
                        value = canonical(value)
                    out[key] = value
                return out
            if isinstance(node, list):
                return [canonical(v) for v in node]
            return node

        digest.update(json.dumps(canonical(schema), sort_keys=True).encode())
    return digest.hexdigest()


def check_name(name: str) -> str:
    """A model name usable as a Lambda function name."""
    if not limits.is_function_name(name):
        raise BundleError(
            f'model name "{name}" is not usable as a Lambda function name; use '
            f"{limits.FUNCTION_NAME_RULE}"
        )
    return name


def default_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:64]
    return cleaned or "model"


def read_manifest(path: str | Path, *, verify: bool = True) -> Manifest:
    """Read and check a bundle's manifest (format version, and file hashes when ``verify``)."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise BundleError(f"bundle not found: {path} (a directory written by `sklambda train`)")
    if not manifest_path.is_file():
        raise BundleError(f"{path} is not a sklambda bundle: it has no {MANIFEST}")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleError(f"{manifest_path} is not valid JSON ({exc})") from None
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise BundleError(f"{manifest_path} has no format_version; it was not written by sklambda")
    if version > FORMAT_VERSION:
        raise BundleError(
            f"{path} was written by a newer sklambda (bundle format {version}; this sklambda "
            f"{__version__} reads up to {FORMAT_VERSION}); upgrade sklambda"
        )
    if verify:
        for file_name, expected in manifest.get("files", {}).items():
            file_path = path / file_name
            if not file_path.is_file():
                raise BundleError(f"{path} is damaged: {file_name} is missing")
            if sha256_file(file_path) != expected:
                raise BundleError(
                    f"{path} is damaged or was edited: {file_name} does not match its sha256 "
                    "in the manifest; retrain or restore the bundle"
                )
    return manifest


def read_sample(path: str | Path) -> dict[str, Any]:
    """The bundle's verification sample: rows plus the predictions made at training time."""
    return json.loads((Path(path) / SAMPLE).read_text())
