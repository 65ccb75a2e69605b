"""sklambda: scikit-learn models as small, verified AWS Lambda prediction services.

The public API is re-exported here and imported lazily, so ``import sklambda`` (and the CLI's
``--help``) stays fast: scikit-learn and pandas load only when a function that needs them runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .bundle import load, save
    from .deploying import deploy
    from .errors import (
        BundleError,
        DataError,
        SklambdaError,
        TrainError,
        UntrustedModelError,
    )
    from .legacy import import_legacy
    from .model import Model, SklambdaVersionWarning
    from .runtime.contract import RequestError
    from .training import TrainResult, train

_EXPORTS = {
    "deploy": "deploying",
    "train": "training",
    "TrainResult": "training",
    "save": "bundle",
    "load": "bundle",
    "import_legacy": "legacy",
    "Model": "model",
    "SklambdaVersionWarning": "model",
    "SklambdaError": "errors",
    "DataError": "errors",
    "TrainError": "errors",
    "BundleError": "errors",
    "UntrustedModelError": "errors",
    "RequestError": "runtime.contract",
}

__all__ = [
    "BundleError",
    "DataError",
    "Model",
    "RequestError",
    "SklambdaError",
    "SklambdaVersionWarning",
    "TrainError",
    "TrainResult",
    "UntrustedModelError",
    "__version__",
    "deploy",
    "import_legacy",
    "load",
    "save",
    "train",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sklambda' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
