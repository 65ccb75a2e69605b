"""Event routing of the Lambda-side service, in process (issue 11 item 11): stages, HEAD,
OPTIONS, ALB documents, repeated query flags, and non-HTTP sources that must fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sklambda.runtime.events import (
    UnsupportedEventError,
    event_source,
    http_request,
    is_warmup,
)
from sklambda.runtime.service import Service
from tests.fidelity import aws_events
from tests.support.cli import run_cli


@pytest.fixture(scope="module")
def service(diabetes_bundle: Path) -> Service:
    import sklambda
    from sklambda.lean.compiler import compile_estimator

    model = sklambda.load(diabetes_bundle)
    lean = compile_estimator(model.estimator, [f["name"] for f in model.features])
    return Service({**model.manifest, "package": {"runtime": "lean"}}, lean.predictor(), 100)


@pytest.fixture(scope="module")
def body(diabetes_bundle: Path) -> str:
    from sklambda.bundle.format import read_sample

    return json.dumps({"instances": read_sample(diabetes_bundle)["rows"][:2]})


def test_a_named_stage_is_stripped_from_raw_path() -> None:
    request = http_request(aws_events.http_api("{}", stage="dev", route="/predict"))
    assert request is not None and request.path == "/predict"
    root = http_request(aws_events.http_api(None, stage="dev", route="", method="GET"))
    assert root is not None and root.path == "/"
    # $default keeps the path; a path that only starts like the stage is not cut.
    assert http_request(aws_events.http_api("{}", route="/dev/predict")).path == "/dev/predict"
    other = aws_events.http_api("{}", stage="dev", route="/predict")
    other["rawPath"] = "/devices/predict"
    assert http_request(other).path == "/devices/predict"


def test_named_stage_predicts_as_default(service: Service, body: str) -> None:
    staged = service.handle(aws_events.http_api(body, stage="dev"))
    plain = service.handle(aws_events.http_api(body))
    assert staged["statusCode"] == 200
    assert staged == plain


def test_head_is_get_without_a_body_and_options_lists_methods(service: Service) -> None:
    get = service.handle(aws_events.function_url(None, method="GET"))
    head = service.handle(aws_events.function_url(None, method="HEAD"))
    assert head["statusCode"] == get["statusCode"] == 200
    assert head["body"] == "" and get["body"]
    options = service.handle(aws_events.function_url(None, method="OPTIONS"))
    assert options["statusCode"] == 200
    assert options["headers"]["allow"] == "GET, POST, HEAD, OPTIONS"
    assert (
        service.handle(aws_events.function_url(None, method="HEAD", raw_path="/x"))["statusCode"]
        == 404
    )


def test_alb_responses_are_elb_documents(service: Service, body: str) -> None:
    single = service.handle(aws_events.alb(body))
    assert single["statusDescription"] == "200 OK" and "headers" in single
    multi = service.handle(aws_events.alb(body, multi_value=True))
    assert multi["statusDescription"] == "200 OK"
    assert multi["multiValueHeaders"] == {"content-type": ["application/json"]}
    assert "headers" not in multi
    missing = service.handle(aws_events.alb(body, multi_value=True, path="/nope"))
    assert missing["statusDescription"] == "404 Not Found"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("probabilities=true", 400),  # a regressor: asked for probabilities, says it has none
        ("probabilities=true&probabilities=true", 400),  # the same, not ignored as "true,true"
        ("probabilities=false&probabilities=0", 200),
        ("probabilities=true&probabilities=false", 400),  # conflicting
    ],
)
def test_repeated_query_flags(service: Service, body: str, query: str, status: int) -> None:
    response = service.handle(aws_events.function_url(body, query=query))
    assert response["statusCode"] == status
    if status == 400:
        field = json.loads(response["body"])["error"]["field"]
        expected = "probabilities" if "false" in query else "return_probabilities"
        assert field == expected


@pytest.mark.parametrize(
    ("event", "source"),
    [
        (aws_events.sqs("{}"), "aws:sqs"),
        (aws_events.S3_PUT, "aws:s3"),
        (aws_events.sns("{}"), "aws:sns"),
        (aws_events.EC2_STATE_CHANGE, "aws.ec2"),
        ({"awslogs": {"data": "H4sI"}}, "aws:logs"),
        ({"eventSource": "aws:kafka", "records": {}}, "aws:kafka"),
        (
            {"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {}}]},
            "aws:dynamodb",
        ),
    ],
)
def test_non_http_sources_raise(service: Service, event: dict[str, Any], source: str) -> None:
    assert event_source(event) == source
    with pytest.raises(UnsupportedEventError, match=source):
        service.handle(event)


def test_the_schedule_and_direct_invokes_are_not_other_sources(service: Service, body: str) -> None:
    assert is_warmup(aws_events.SCHEDULE)  # checked before the sources
    assert not is_warmup(aws_events.EC2_STATE_CHANGE)
    assert service.handle(aws_events.SCHEDULE)["warm"] is True
    assert event_source(json.loads(body)) is None
    assert "predictions" in service.handle(json.loads(body))


@pytest.mark.slow  # a fresh CLI process
def test_cli_ephemeral_storage_out_of_range_is_one_line(tmp_path: Path) -> None:
    result = run_cli("serve", str(tmp_path), "--ephemeral-storage", "100")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--ephemeral-storage must be 512–10240 MB" in line
