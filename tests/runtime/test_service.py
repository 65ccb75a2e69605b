"""The Lambda-side service, in process: every event kind, every route, every malformed input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sklambda
from sklambda.bundle.format import read_sample
from sklambda.lean.compiler import compile_estimator
from sklambda.runtime.service import Service
from tests.support.events import SCHEDULED_EVENT, rest_event, url_event


def lean_service(bundle: Path, max_rows: int = 1000) -> tuple[Service, Any]:
    model = sklambda.load(bundle)
    lean = compile_estimator(model.estimator, [f["name"] for f in model.features])
    manifest = {**model.manifest, "package": {"runtime": "lean"}}
    return Service(manifest, lean.predictor(), max_rows), model


@pytest.fixture(scope="module")
def regression(diabetes_bundle: Path) -> tuple[Service, Any]:
    return lean_service(diabetes_bundle)


@pytest.fixture(scope="module")
def classification(houses_classifier: Path) -> tuple[Service, Any]:
    return lean_service(houses_classifier)


def body_of(response: dict[str, Any]) -> Any:
    assert response["headers"]["content-type"] == "application/json"
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def test_function_url_event_predicts_what_sklearn_predicts(regression, diabetes_bundle) -> None:
    service, model = regression
    rows = read_sample(diabetes_bundle)["rows"]
    response = service.handle(url_event({"instances": rows}))
    assert response["statusCode"] == 200
    got = body_of(response)["predictions"]
    assert got == pytest.approx(model.predict(rows), rel=1e-9)
    assert body_of(response)["model"] == {"name": "patients", "version": model.manifest["version"]}


def test_api_gateway_v1_and_direct_invoke(classification, houses_classifier) -> None:
    service, model = classification
    rows = read_sample(houses_classifier)["rows"]
    v1 = service.handle(rest_event({"instances": rows, "return_probabilities": True}))
    assert v1["statusCode"] == 200
    body = body_of(v1)
    assert body["predictions"] == model.predict(rows)
    expected = model.predict_proba(rows)
    got = [[p[str(c)] for c in model.classes] for p in body["probabilities"]]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    direct = service.handle({"instances": rows})
    assert direct["predictions"] == body["predictions"]


def test_base64_body_and_probabilities_by_query(classification) -> None:
    service, _ = classification
    row = {"rooms": 3, "area": 80, "age": None, "district": "north"}
    response = service.handle(
        url_event(raw_body=json.dumps(row), base64_body=True, query={"probabilities": "true"})
    )
    body = body_of(response)
    assert response["statusCode"] == 200
    assert set(body["probabilities"][0]) == {"high", "low"}


def test_legacy_input_shape(regression) -> None:
    service, model = regression
    row = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]
    body = body_of(service.handle(url_event({"input": [row]})))
    # exactly scikit-learn-lambda's response fields: its clients see what its handler gives
    assert set(body) == {"prediction"}
    assert body["prediction"] == pytest.approx(model.predict([row]))


@pytest.mark.parametrize("event", [SCHEDULED_EVENT, {"warmup": True}])
def test_keep_warm_events_are_answered_without_predicting(regression, event) -> None:
    service, _ = regression

    class Exploding:
        def predict(self, rows):
            raise AssertionError("a warm-up must not predict")

        predict_proba = predict

    warm = Service(service.manifest, Exploding(), 10)
    assert warm.handle(event) == {"warm": True, "model": service.model_ref}


def test_parallel_keep_warm_pings_hold_their_environment(regression) -> None:
    """The pings ``deploy --keep-warm-concurrency N`` schedules: held so N of them overlap."""
    from sklambda.aws.warming import HOLD_MS, ping

    service, _ = regression
    answer = service.handle(ping(2, 3))
    assert answer == {"warm": True, "model": service.model_ref, "held_ms": float(HOLD_MS)}
    # One ping alone need not overlap anything: no hold; a negative hold holds nothing.
    assert "held_ms" not in service.handle(ping(0, 1))
    assert service.handle({"warmup": True, "concurrency": 2, "hold_ms": -5})["held_ms"] == 0.0


def test_model_card_and_openapi(classification) -> None:
    service, _ = classification
    card = body_of(service.handle(url_event(method="GET")))
    assert [f["name"] for f in card["features"]] == ["rooms", "area", "age", "district"]
    assert card["classes"] == ["high", "low"]
    assert card["runtime"] == "lean" and card["probabilities"] is True
    assert "accuracy" in card["metrics"]
    spec = body_of(service.handle(url_event(method="GET", path="/openapi.json")))
    assert spec["openapi"] == "3.1.0"
    instance = spec["components"]["schemas"]["Instance"]
    assert instance["required"] == ["rooms", "area", "age", "district"]
    assert instance["properties"]["district"]["enum"] == ["centre", "north", "south", None]
    assert instance["properties"]["age"]["type"] == ["number", "null"]


def test_openapi_document_is_valid(classification, regression) -> None:
    from openapi_spec_validator import validate

    for service, _ in (classification, regression):
        validate(body_of(service.handle(url_event(method="GET", path="/openapi.json"))))


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (url_event(path="/nope", method="GET"), 404, "not_found"),
        (url_event({"a": 1}, path="/predict", method="PUT"), 405, "method_not_allowed"),
        (url_event(path="/openapi.json", method="POST", raw_body="{}"), 405, "method_not_allowed"),
        (url_event(raw_body="{not json"), 400, "invalid_json"),
        (url_event(raw_body=""), 400, "empty"),
        (url_event(), 400, "empty"),
        (url_event(raw_body='{"instances": [[NaN, 1]]}'), 400, "non_finite"),
        (url_event(raw_body='{"instances": [{"age": Infinity}]}'), 400, "non_finite"),
        (url_event({"instances": [{"age": 1}]}), 400, "missing_feature"),
        (url_event({"instances": [{"agee": 1}]}), 400, "unknown_feature"),
        (url_event({"instances": [["a"] * 10]}), 400, "invalid_type"),
        (url_event({"instances": [[1] * 10, [1] * 9]}), 400, "wrong_length"),
        (url_event({"instances": []}), 400, "empty"),
        (url_event({"instances": [[1] * 10] * 10_000}), 400, "too_many_rows"),
        (url_event(raw_body="x" * (6 * 1024 * 1024 + 1)), 413, "payload_too_large"),
        (
            url_event(raw_body="@@not-base64@@", base64_body=False) | {"isBase64Encoded": True},
            400,
            "invalid_body",
        ),
        (url_event({"instances": [[1] * 10]}, query={}) | {"body": 5}, 400, "invalid_request"),
    ],
)
def test_malformed_requests_are_4xx_json_never_500(regression, event, status, code) -> None:
    service, _ = regression
    response = service.handle(event)
    assert response["statusCode"] == status
    error = body_of(response)["error"]
    assert error["code"] == code
    assert "Traceback" not in error["message"]


def test_direct_invoke_errors_are_error_objects(regression) -> None:
    service, _ = regression
    answer = service.handle({"instances": [{"age": 1}]})
    assert answer["error"]["code"] == "missing_feature"
    assert answer["error"]["field"] == "instances[0].sex"


def test_faults_of_the_service_are_500_internal_error(regression, capsys) -> None:
    service, _ = regression

    class Broken:
        def predict(self, rows):
            raise ZeroDivisionError("secret detail")

        predict_proba = predict

    broken = Service(service.manifest, Broken(), 10)
    response = broken.handle(url_event({"instances": [[1] * 10]}))
    assert response["statusCode"] == 500
    assert body_of(response) == {"error": {"code": "internal_error", "message": "internal error"}}
    assert "secret detail" not in response["body"]
    assert "ZeroDivisionError" in capsys.readouterr().err  # the log keeps it for the developer


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.text(max_size=200),
        st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
            lambda c: (
                st.lists(c, max_size=11) | st.dictionaries(st.text(max_size=4), c, max_size=11)
            ),
            max_leaves=30,
        ).map(lambda v: json.dumps(v)),
    ),
    base64_body=st.booleans(),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS"]),
    path=st.sampled_from(["/", "/predict", "/openapi.json", "/x", ""]),
)
def test_no_http_input_makes_the_service_fail(regression, body, base64_body, method, path) -> None:
    service, _ = regression
    event = url_event(raw_body=body, base64_body=base64_body, method=method, path=path or "/")
    response = service.handle(event)
    assert response["statusCode"] in {200, 400, 404, 405, 413}
    json.loads(response["body"])
