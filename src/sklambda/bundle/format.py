"""The bundle format: what a trained model is on disk, and how it is read and checked.

```
houses/
  manifest.json   format version, name, task, features, target, classes, metrics, versions,
                  sha256 of every other file, trusted types, created_at, and its seal
  model.skops     the fitted estimator (model.joblib only when asked for)
  sample.json     a few feature rows and the predictions made at training time
```

Writing bundles is :mod:`sklambda.bundle.store`; this module only names the files and reads them.

The seal (``manifest["seal"]``) makes the manifest as checked as the files it lists:
``sha256`` is the digest of the whole manifest but the seal (canonical JSON), so the manifest's
digest covers every file of the bundle through their recorded sha256, and any edit — a class
list reversed, a feature range widened, a type added to ``trusted_types`` — is refused at load
(``predict``, ``build``, ``serve``/``deploy`` of a bundle) unless the seal is recomputed, which
is no longer a silent edit. ``trust`` is an HMAC of that digest with a key that never leaves
this machine (:func:`trust_key`): a bundle's recorded ``trusted_types`` are honoured only when
they were vouched for here, so a bundle from elsewhere cannot grant itself trust by carrying a
list and a recomputed digest. The package's copy of the manifest (``model/manifest.json`` in
``function.zip``) is covered by ``function.zip``'s sha256 in ``build.json``, which ``serve``,
``invoke`` and ``deploy`` check before they use the package.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from sklambda import limits
from sklambda._version import __version__
from sklambda.errors import BundleError
from sklambda.files import cache_dir, sha256_file

if TYPE_CHECKING:
    from sklambda.bundle.features import FeatureSpec

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SAMPLE = "sample.json"
SAMPLE_ROWS = 20
SEAL = "seal"
TRUST_KEY = "trust.key"


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


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """sha256 of the manifest without its seal, as canonical JSON (key order, spacing fixed)."""
    body = {k: v for k, v in manifest.items() if k != SEAL}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def trust_key(*, create: bool) -> bytes | None:
    """This machine's key for vouching for trusted types (in sklambda's cache; 0600)."""
    path = cache_dir() / TRUST_KEY
    with contextlib.suppress(OSError):
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    # Written whole under a temporary name, then linked into place: two processes creating
    # the key at once both end up using the first one's.
    temporary = path.with_name(f".{TRUST_KEY}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        key = path.read_bytes()
    finally:
        temporary.unlink()
    return key


def _trust_mac(key: bytes, digest: str) -> str:
    return hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


def seal(manifest: Mapping[str, Any]) -> Manifest:
    """``manifest`` with its seal set: the digest, and this machine's HMAC when it trusts types."""
    digest = manifest_digest(manifest)
    sealed: dict[str, Any] = {"sha256": digest}
    if manifest.get("trusted_types"):
        key = trust_key(create=True)
        assert key is not None
        sealed["trust"] = _trust_mac(key, digest)
    return cast(Manifest, {**{k: v for k, v in manifest.items() if k != SEAL}, SEAL: sealed})


def trust_vouched_here(manifest: Mapping[str, Any]) -> bool:
    """Whether the manifest's ``trusted_types`` were vouched for on this machine."""
    mac = (manifest.get(SEAL) or {}).get("trust")
    key = trust_key(create=False)
    if not isinstance(mac, str) or key is None:
        return False
    return hmac.compare_digest(mac, _trust_mac(key, manifest_digest(manifest)))


def _check_seal(path: Path, manifest: Mapping[str, Any]) -> None:
    sealed = manifest.get(SEAL)
    if not isinstance(sealed, dict) or not isinstance(sealed.get("sha256"), str):
        raise BundleError(
            f"{path / MANIFEST} has no seal (written by an older sklambda, or edited); "
            "re-save the model (sklambda train, or sklambda.save) to reseal it"
        )
    if not hmac.compare_digest(sealed["sha256"], manifest_digest(manifest)):
        raise BundleError(
            f"{path} is damaged or was edited: {MANIFEST} does not match its seal (its classes, "
            "features, ranges or trusted types changed after it was written); retrain or re-save "
            "the model instead of editing the manifest"
        )


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
    except (ValueError, RecursionError) as exc:
        raise BundleError(f"{manifest_path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{manifest_path} is not a sklambda manifest (not a JSON object)")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise BundleError(f"{manifest_path} has no format_version; it was not written by sklambda")
    if version > FORMAT_VERSION:
        raise BundleError(
            f"{path} was written by a newer sklambda (bundle format {version}; this sklambda "
            f"{__version__} reads up to {FORMAT_VERSION}); upgrade sklambda"
        )
    if verify:
        _check_seal(path, manifest)
        _check_files(path, manifest)
    return cast(Manifest, manifest)


def _check_files(path: Path, manifest: Mapping[str, Any]) -> None:
    """Every file the (sealed) manifest lists is in the bundle and matches its sha256."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BundleError(f"{path / MANIFEST} lists no files; re-save the model")
    for file_name, expected in files.items():
        if not isinstance(file_name, str) or "/" in file_name or file_name.startswith("."):
            raise BundleError(f"{path / MANIFEST} lists a file outside the bundle: {file_name!r}")
        file_path = path / file_name
        if not file_path.is_file():
            raise BundleError(f"{path} is damaged: {file_name} is missing")
        if sha256_file(file_path) != expected:
            raise BundleError(
                f"{path} is damaged or was edited: {file_name} does not match its sha256 "
                "in the manifest; retrain or restore the bundle"
            )


def read_sample(path: str | Path) -> dict[str, Any]:
    """The bundle's verification sample: rows plus the predictions made at training time."""
    return json.loads((Path(path) / SAMPLE).read_text())
