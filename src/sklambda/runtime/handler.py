"""The AWS Lambda entry point: ``sklambda.runtime.handler.handler``.

The model is loaded here, at import, so the INIT phase pays for it once and no request does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .service import Service

MODEL_DIR_ENV = "SKLAMBDA_MODEL_DIR"


def _model_dir() -> Path:
    explicit = os.environ.get(MODEL_DIR_ENV)
    if explicit:
        return Path(explicit)
    root = os.environ.get("LAMBDA_TASK_ROOT") or str(Path(__file__).resolve().parents[2])
    return Path(root) / "model"


service = Service.load(_model_dir())


def handler(event: Any, context: Any = None) -> Any:
    """Answer a function URL, API Gateway, direct-invoke or keep-warm event."""
    return service.handle(event)
