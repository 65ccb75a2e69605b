"""``build --model-from s3``: the model's files leave the function zip for S3.

The package keeps the runtime and ``model/manifest.json``, plus ``model/remote.json`` listing
each model file with its size and sha256; the files themselves go to ``DIST/model-files/``, which
``sklambda deploy`` uploads (content-addressed) and the handler fetches at INIT
(:mod:`sklambda.runtime.model_store`). ``auto`` (the default) does this only when the package
would pass Lambda's 250 MB unzipped limit; ``SKLAMBDA_S3_MODEL_THRESHOLD_BYTES`` lowers that
threshold (for tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda import limits
from sklambda.errors import BuildError
from sklambda.files import sha256_file

if TYPE_CHECKING:
    from sklambda.building.zips import Artifact
    from sklambda.local.interpreters import Interpreter

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
    files: list[dict[str, Any]] = []
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


def split(
    model_store: tuple[str, str | None],
    task_root: Path,
    dist: Path,
    artifacts: dict[str, Artifact],
    image: bool,
    notes: list[str],
    interpreter: Interpreter | None,
) -> dict[str, Any] | None:
    """Keep the model in S3 when ``model_store`` (``(model_from, s3_bucket)``) says so: the
    files move out, the fetcher (``runtime/model_store.py``, shipped only in such packages)
    comes in, and ``artifacts["function"]`` is compiled and zipped again. The record, or None."""
    from sklambda.building.task_root import zip_task_root
    from sklambda.dist import FUNCTION_ZIP

    model_from, s3_bucket = model_store
    to_s3, why = wanted(model_from, sum(a.unzipped for a in artifacts.values()), image)
    if not to_s3:
        return None
    stored = move_model(task_root, dist, s3_bucket=s3_bucket, why=why)
    runtime = Path(__file__).parent.parent / "runtime" / "model_store.py"
    shutil.copy2(runtime, task_root / "sklambda" / "runtime" / "model_store.py")
    artifacts["function"], _ = zip_task_root(task_root, dist / FUNCTION_ZIP, interpreter)
    notes.append(f"the model's files ({stored['bytes']:,} bytes) go to S3: {why}")
    return stored


@contextlib.contextmanager
def verification_env(dist: Path, store: dict[str, Any] | None) -> Iterator[dict[str, str] | None]:
    """The function's environment while the build proves the package: an S3 stand-in on
    127.0.0.1 serving ``dist/model-files`` under the keys the handler asks for, so the proof
    runs the handler's own fetch (HTTP, SigV4 headers, sha256 check). None: nothing to serve."""
    if store is None:
        yield None
        return
    import http.server
    import threading

    from sklambda.runtime.model_store import object_key

    prefix = "build/"
    files = {
        f"/verify/{object_key(prefix, entry)}": dist / FILES_DIR / str(entry["name"])
        for entry in store["files"]
    }

    class Files(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = files.get(self.path.split("?")[0])
            data = path.read_bytes() if path is not None else b""
            self.send_response(200 if path is not None else 404)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "SKLAMBDA_MODEL_BUCKET": "verify",
            "SKLAMBDA_MODEL_PREFIX": prefix,
            "SKLAMBDA_S3_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
            "AWS_ACCESS_KEY_ID": "sklambda-build-verification",
            "AWS_SECRET_ACCESS_KEY": "not-a-secret",
        }
    finally:
        server.shutdown()
        server.server_close()
