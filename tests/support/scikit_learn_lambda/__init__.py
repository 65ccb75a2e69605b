"""scikit-learn-lambda's own handler and model file, vendored to test sklambda's compatibility.

From https://github.com/model-zoo/scikit-learn-lambda at commit
60b32cb91f794bc3d1437a17279909a09aab6a8a (Copyright Model Zoo, Inc., Apache License 2.0: see
LICENSE in this folder):

- ``lib.py``: ``scikit_learn_lambda/lib.py``, the handler, unchanged but for one line — the model
  comes from :func:`lib.use_model` instead of its S3/file cache (``cache.Cache.get()``);
- ``svm.joblib``: ``testdata/svm.joblib``, the model its README deploys (a LogisticRegression
  fitted on iris with scikit-learn 0.23.1).

The requests below are the ones its README documents and its tests send (``apigw_event`` in
``scikit-learn-lambda/tests/test_handler.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODEL_FILE = Path(__file__).parent / "svm.joblib"


def apigw_event(
    input_data: Any, return_prediction: Any = True, return_probabilities: Any = False
) -> dict[str, Any]:
    """Its test helper, verbatim: a minimal API Gateway event."""
    return {
        "body": json.dumps(
            {
                "input": input_data,
                "return_prediction": return_prediction,
                "return_probabilities": return_probabilities,
            }
        )
    }
