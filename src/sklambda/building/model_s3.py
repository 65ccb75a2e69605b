"""``build --model-from s3``: the model's files leave the function zip for S3.

The package keeps the runtime and ``model/manifest.json``, plus ``model/remote.json`` listing
each model file with its size and sha256; the files themselves go to ``DIST/model-files/``, which
``sklambda deploy`` uploads (content-addressed) and the handler fetches at INIT
(:mod:`sklambda.runtime.model_store`). ``auto`` (the default) does this only when the package
would pass Lambda's 250 MB unzipped limit; ``SKLAMBDA_S3_MODEL_THRESHOLD_BYTES`` lowers that
threshold (for tests).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from sklambda import limits
from sklambda.errors import BuildError
from sklambda.files import sha256_file

MODEL_FROM = ("auto", "package", "s3")
THRESHOLD_ENV = "SKLAMBDA_S3_MODEL_THRESHOLD_BYTES"
FILES_DIR = "model-files"
REMOTE_JSON = "remote.json"
MANIFEST = "manifest.json"


def threshold() -> int:
    """Unzipped bytes above which ``auto`` keeps the model in S3 (Lambda's limit, or the env)."""
    raw = os.environ.get(THRESHOLD_ENV)
    if not raw:
        return limits.UNZIPPED_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise BuildError(f"{THRESHOLD_ENV} must be a number of bytes, got {raw!r}") from None
    return max(value, 0)


def check(model_from: str, s3_bucket: str | None, image: bool) -> None:
    if model_from not in MODEL_FROM:
        raise BuildError(f'unknown --model-from "{model_from}"; choose one of auto, package, s3')
    if image and model_from == "s3":
        raise BuildError(
            "--model-from s3 is for zip packages; a container image holds its model (up to 10 GB)"
        )
    if s3_bucket is not None and model_from == "package":
        raise BuildError("--s3-bucket goes with --model-from s3 (or auto); drop one of them")


def wanted(model_from: str, unzipped: int, image: bool) -> tuple[bool, str]:
    """Whether to keep the model in S3, and why."""
    if image or model_from == "package":
        return False, ""
    if model_from == "s3":
        return True, "asked (--model-from s3)"
    limit = threshold()
    if unzipped > limit:
        return True, (
            f"the package would be {unzipped:,} bytes unzipped, over {limit:,} "
            f"({'Lambda' if limit == limits.UNZIPPED_BYTES else THRESHOLD_ENV}'s limit)"
        )
    return False, ""


def move_model(task_root: Path, dist: Path, *, s3_bucket: str | None, why: str) -> dict[str, Any]:
    """Move the model files out of ``task_root/model`` into ``dist/model-files``; the record
    written to ``model/remote.json`` and to build.json's ``model_store``."""
    model_dir = task_root / "model"
    out = dist / FILES_DIR
    out.mkdir()
    files = []
    for path in sorted(model_dir.iterdir()):
        if path.name in (MANIFEST, REMOTE_JSON) or not path.is_file():
            continue
        files.append({"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)})
        shutil.move(str(path), out / path.name)
    if not files:
        raise BuildError("the model has no files besides its manifest; nothing to keep in S3")
    (model_dir / REMOTE_JSON).write_text(json.dumps({"files": files}, indent=1) + "\n")
    return {
        "kind": "s3",
        "why": why,
        "bucket": s3_bucket,
        "dir": FILES_DIR,
        "files": files,
        "bytes": sum(int(f["bytes"]) for f in files),
    }


def verification_env(dist: Path) -> dict[str, str]:
    """The environment under which the build verifies the package: files from ``dist``."""
    return {"SKLAMBDA_MODEL_FILES_DIR": str((dist / FILES_DIR).resolve())}
