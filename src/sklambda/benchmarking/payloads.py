"""What a benchmark sends: a function URL ``POST`` of rows the packaged model accepts.

The rows are drawn from the feature ranges and categories recorded in the package's own
``model/manifest.json`` (the same generator the bundle uses for synthetic samples), so a
benchmark needs nothing but the package directory. A package without a model manifest (a
hand-written handler) needs the request body given.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sklambda.benchmarking.errors import BenchError
from sklambda.errors import Option

__all__ = ["PACKAGED_MANIFEST", "packaged_manifest", "request_body"]

PACKAGED_MANIFEST = "model/manifest.json"


def packaged_manifest(function_zip: Path) -> dict[str, Any] | None:
    """The model manifest inside ``function.zip``, or None when the package has none."""
    try:
        with zipfile.ZipFile(function_zip) as archive:
            manifest = json.loads(archive.read(PACKAGED_MANIFEST))
    except KeyError:
        return None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise BenchError(f"cannot read {PACKAGED_MANIFEST} in {function_zip}: {exc}") from None
    return manifest if isinstance(manifest, dict) else None


def request_body(function_zip: Path, rows: int, body: Mapping[str, Any] | None = None) -> bytes:
    """The JSON body of one benchmark request: ``body`` if given, else ``rows`` model rows."""
    if body is not None:
        return json.dumps(body).encode()
    if rows < 1:
        raise BenchError(f"a request needs at least one row, got rows={rows}")
    manifest = packaged_manifest(function_zip)
    if manifest is None or not manifest.get("features"):
        raise BenchError(
            f"{function_zip} holds no model manifest to draw request rows from; give the "
            "request body ({0})",
            Option("body", '{"instances": [...]}'),
        )
    from sklambda.bundle.features import synthetic_rows

    return json.dumps({"instances": synthetic_rows(manifest["features"], rows)}).encode()
