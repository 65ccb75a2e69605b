"""scikit-learn-lambda's clients move over unchanged (#10 item 5).

Its own model file (``testdata/svm.joblib``) is imported with ``sklambda.import_legacy``, built
into a verified package and run in the local emulator; its own documented requests get, from
that package, the responses its own handler (vendored in tests/support) gives in process:
same status, same fields, same values.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sklambda
from sklambda.runtime.contract import RequestError, RequestParser
from tests.support import scikit_learn_lambda as skl
from tests.support.events import rest_event, url_event
from tests.support.scikit_learn_lambda import lib

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

# Its README's two curl examples, then what its test helper sends, then its flags as its
# handler reads them (by truthiness), then its error cases.
REQUESTS: list[dict[str, Any]] = [
    {"input": [[0, 0, 0, 0]]},
    {"input": [[0, 0, 0, 0]], "return_probabilities": True},
    json.loads(skl.apigw_event([[0, 0, 0, 0]])["body"]),
    json.loads(skl.apigw_event([[0, 0, 0, 0]], return_probabilities=True)["body"]),
    json.loads(
        skl.apigw_event(
            [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]],
            return_prediction=False,
            return_probabilities=True,
        )["body"]
    ),
    {"input": [[6.3, 2.5, 5.0, 1.9]], "return_probabilities": 1},
    {"input": [[6.3, 2.5, 5.0, 1.9]], "return_probabilities": "yes", "return_prediction": 0},
    {"input": [[4.9, 3.1, 1.5, 0.1]], "return_prediction": None, "return_probabilities": [1]},
    {"input": [[1, 2, 3, 4]], "model_version": "v3"},  # keys it does not know: ignored
    {"bad": "request"},
    {"input": [[0, 0, 0, 0]], "return_prediction": False},
]


@pytest.fixture(scope="module")
def theirs() -> Any:
    """Its handler with its model, loaded as it loads it (joblib)."""
    import joblib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fitted with scikit-learn 0.23.1
        lib.use_model(joblib.load(skl.MODEL_FILE))
    return lib.handler


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("skl") / "svm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sklambda.import_legacy(skl.MODEL_FILE, features=FEATURES, out=out, trust_pickle=True)
    return out


@pytest.fixture(scope="module")
def emulated(imported: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sklambda.building import build
    from sklambda.local import LocalFunction

    dist = build(imported, tmp_path_factory.mktemp("skl") / "dist").dist  # verified
    with LocalFunction(dist, concurrency=1, timeout=60) as function:
        yield function


def status_and_body(response: dict[str, Any]) -> tuple[int, Any]:
    return response["statusCode"], json.loads(response["body"])


def test_its_flags_are_read_as_its_handler_reads_them(imported: Path) -> None:
    """In process, no package: the parser's reading of each request."""
    parser = RequestParser.from_manifest(sklambda.load(imported).manifest)
    parsed = parser.parse({"input": [[0, 0, 0, 0]], "return_probabilities": "yes"})
    assert (parsed.legacy, parsed.return_prediction, parsed.return_probabilities) == (
        True,
        True,
        True,
    )
    with pytest.raises(RequestError, match="return_prediction: True or return_probabilities"):
        parser.parse({"input": [[0, 0, 0, 0]], "return_prediction": 0, "x": 1})
    parsed = parser.parse(
        {"input": [[0, 0, 0, 0]], "return_prediction": "", "return_probabilities": {"a": 1}}
    )
    assert (parsed.return_prediction, parsed.return_probabilities) == (False, True)


@pytest.mark.slow
@pytest.mark.parametrize("request_", REQUESTS, ids=[json.dumps(r)[:60] for r in REQUESTS])
def test_its_documented_requests_get_its_handlers_responses(
    theirs: Any, emulated: Any, request_: dict[str, Any]
) -> None:
    expected_status, expected = status_and_body(theirs({"body": json.dumps(request_)}, None))
    # API Gateway (its deployment: Lambda proxy integration) and a function URL, in the emulator
    for event in (rest_event(request_), url_event(request_)):
        result = emulated.invoke(event)
        assert result.error is None, result.payload
        status, body = status_and_body(result.payload)
        assert status == expected_status, (body, expected)
        if status == 200:
            # same fields, in the order its sort_keys=True writes them; the same labels
            assert list(body) == list(expected)
            assert body.get("prediction") == expected.get("prediction")
            for ours, its in zip(
                body.get("probabilities", []), expected.get("probabilities", []), strict=True
            ):
                assert list(ours) == list(its)
                # the lean runtime's exp() may differ from numpy's in the last bit or two
                assert ours == pytest.approx(its, rel=1e-12, abs=1e-15)
        else:
            assert "error" in body and "error" in expected


@pytest.mark.slow
def test_sklambdas_own_shape_stays_the_default(emulated: Any) -> None:
    result = emulated.invoke(url_event({"instances": [[0, 0, 0, 0]]}))
    status, body = status_and_body(result.payload)
    assert status == 200
    assert set(body) == {"predictions", "model"}
