"""The AWS Lambda entry point: ``sklambda.runtime.handler.handler``.

The model is loaded here, at import, so the INIT phase pays for it once and no request does.
"""

from __future__ import annotations

import os

from .service import Service

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MODEL_DIR_ENV = "SKLAMBDA_MODEL_DIR"


def _model_dir() -> str:
    explicit = os.environ.get(MODEL_DIR_ENV)
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))  # <root>/sklambda/runtime
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.path.dirname(os.path.dirname(here))
    return os.path.join(root, "model")


def _loadable_dir() -> str:
    """The model directory; a model kept in S3 (``build --model-from s3``: ``remote.json``, and
    ``model_store`` shipped only then) is downloaded to /tmp and its sha256 checked first."""
    directory = _model_dir()
    if os.path.isfile(os.path.join(directory, "remote.json")):
        from .model_store import materialise

        directory = materialise(directory)
    return directory


service = Service.load(_loadable_dir())


def handler(event: Any, context: Any = None) -> Any:
    """Answer a function URL, API Gateway, direct-invoke or keep-warm event."""
    return service.handle(event, context)
