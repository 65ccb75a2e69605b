"""`sklambda.deploy(svc_pipeline, ...)` with no --python works in the project's own environment.

The trap it guards: the default Python used to be the host's, and in a 3.11 environment
scikit-learn 1.9 has no wheels for python3.11's Amazon Linux 2, so every model needing the
scikit-learn runtime failed to build by default (and told a Python caller to pass a shell flag).
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

import sklambda
from tests.support.aws import REGION

pytestmark = pytest.mark.slow


def test_deploy_of_an_svc_pipeline_works_by_default(endpoint: str, tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    y = np.where(X["a"] + X["b"] > 0, "yes", "no")
    pipeline = make_pipeline(StandardScaler(), SVC()).fit(X, y)
    live = sklambda.deploy(
        pipeline,
        name="svc",
        X_sample=X.head(20),
        region=REGION,
        endpoint_url=endpoint,
        out=tmp_path / "dist",
    )
    target = live.build["target"]
    assert live.build["verification"]["ok"]
    assert target["chosen"].startswith(f"python{target['python']}: the newest")
    if live.build["runtime"] == "sklearn":
        assert target["python"] != "3.11"  # scikit-learn 1.9 has no Amazon Linux 2 wheels
    config = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint).get_function(
        FunctionName="svc"
    )["Configuration"]
    assert config["Runtime"] == f"python{target['python']}"
