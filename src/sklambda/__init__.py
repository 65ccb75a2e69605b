"""sklambda: scikit-learn models as small, verified AWS Lambda prediction services.

The public API is re-exported here and imported lazily, so ``import sklambda`` (and the CLI's
``--help``) stays fast: scikit-learn and pandas load only when a function that needs them runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sklambda._version import __version__

if TYPE_CHECKING:
    from sklambda.benchmarking.benchmark import bench
    from sklambda.benchmarking.results import BenchResults
    from sklambda.benchmarking.tuning import TuneResult, tune
    from sklambda.building.builder import BuildResult, build
    from sklambda.bundle.legacy import import_legacy
    from sklambda.bundle.model import Model, SklambdaVersionWarning
    from sklambda.bundle.store import load, save
    from sklambda.costing.estimate import CostEstimate, cost
    from sklambda.deploying import deploy
    from sklambda.errors import (
        BuildError,
        BundleError,
        DataError,
        SklambdaError,
        TrainError,
        UntrustedModelError,
    )
    from sklambda.runtime.contract import RequestError
    from sklambda.training import TrainResult, train

# name → the module that defines it (a stage's module is never named like one of these: a
# submodule named ``build`` would replace ``sklambda.build`` once imported — hence the stages
# ``building``, ``benchmarking`` (bench, tune) and ``costing`` (cost)).
_EXPORTS = {
    "train": "training",
    "TrainResult": "training",
    "save": "bundle.store",
    "load": "bundle.store",
    "import_legacy": "bundle.legacy",
    "Model": "bundle.model",
    "SklambdaVersionWarning": "bundle.model",
    "build": "building.builder",
    "BuildResult": "building.builder",
    "deploy": "deploying",
    "bench": "benchmarking.benchmark",
    "BenchResults": "benchmarking.results",
    "tune": "benchmarking.tuning",
    "TuneResult": "benchmarking.tuning",
    "cost": "costing.estimate",
    "CostEstimate": "costing.estimate",
    "SklambdaError": "errors",
    "DataError": "errors",
    "TrainError": "errors",
    "BundleError": "errors",
    "UntrustedModelError": "errors",
    "BuildError": "errors",
    "RequestError": "runtime.contract",
}

__all__ = [
    "BenchResults",
    "BuildError",
    "BuildResult",
    "BundleError",
    "CostEstimate",
    "DataError",
    "Model",
    "RequestError",
    "SklambdaError",
    "SklambdaVersionWarning",
    "TrainError",
    "TrainResult",
    "TuneResult",
    "UntrustedModelError",
    "__version__",
    "bench",
    "build",
    "cost",
    "deploy",
    "import_legacy",
    "load",
    "save",
    "train",
    "tune",
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
