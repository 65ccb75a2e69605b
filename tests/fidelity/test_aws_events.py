"""AWS-shaped events answered the same in process and through the emulator (issue 11).

Each event of :mod:`tests.fidelity.aws_events` goes to the runtime's ``Service`` called directly
and to the same package in the local emulator; the answers must be identical, and each must be
what the event source expects (ELB documents for ALB, stage-stripped routes, failures for
non-HTTP sources so Lambda retries and dead-letters them).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sklambda.local import InvokeResult, LocalFunction
from sklambda.runtime.events import UnsupportedEventError
from sklambda.runtime.service import Service
from tests.fidelity import aws_events

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def fidelity_request(diabetes_bundle: Path) -> dict[str, Any]:
    from sklambda.bundle.format import read_sample

    return {"instances": read_sample(diabetes_bundle)["rows"][:3]}


@pytest.fixture(scope="session")
def in_process(seed_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Service:
    """The packaged model loaded by this process's ``sklambda.runtime`` (same code as packaged)."""
    root = tmp_path_factory.mktemp("fidelity-task")
    with zipfile.ZipFile(seed_dist / "function.zip") as zipped:
        zipped.extractall(root)
    return Service.load(str(root / "model"))


@pytest.fixture(scope="session")
def emulated(seed_dist: Path) -> Iterator[LocalFunction]:
    with LocalFunction(seed_dist, concurrency=1, timeout=60) as function:
        yield function


@pytest.fixture(scope="session")
def answers(
    fidelity_request: dict[str, Any], in_process: Service, emulated: LocalFunction
) -> dict[str, tuple[Any, InvokeResult]]:
    """Every event, asked both ways once: name → (in-process answer or exception, emulator's)."""
    got: dict[str, tuple[Any, InvokeResult]] = {}
    for name, event in aws_events.every_event(fidelity_request).items():
        try:
            local: Any = in_process.handle(json.loads(json.dumps(event)))
        except UnsupportedEventError as exc:
            local = exc
        got[name] = (local, emulated.invoke(event))
    return got


NAMES = list(aws_events.every_event({"instances": []}))


@pytest.mark.parametrize("name", NAMES)
def test_in_process_and_emulator_answer_the_same(answers, name: str) -> None:
    local, remote = answers[name]
    if isinstance(local, UnsupportedEventError):
        assert remote.error == "UnsupportedEventError"
        assert remote.payload["errorMessage"] == str(local)
    else:
        assert remote.error is None, remote.payload
        assert remote.payload == local


@pytest.mark.parametrize(
    "name",
    [
        "function_url",
        "function_url_iam",
        "http_api_default",
        "http_api_named_stage",
        "rest_api",
        "alb",
        "alb_multi_value",
    ],
)
def test_every_http_source_predicts(answers, name: str, fidelity_request) -> None:
    local, _ = answers[name]
    assert local["statusCode"] == 200, local
    body = json.loads(local["body"])
    assert len(body["predictions"]) == len(fidelity_request["instances"])


def test_named_stage_routes_like_default(answers) -> None:
    assert answers["http_api_named_stage"][0] == answers["http_api_default"][0]
    card = answers["http_api_named_stage_card"][0]
    assert card["statusCode"] == 200 and "features" in json.loads(card["body"])


def test_alb_answers_are_elb_documents(answers) -> None:
    single = answers["alb"][0]
    assert single["statusDescription"] == "200 OK"
    assert single["headers"]["content-type"] == "application/json"
    assert "multiValueHeaders" not in single
    multi = answers["alb_multi_value"][0]
    assert multi["statusDescription"] == "200 OK"
    assert multi["multiValueHeaders"]["content-type"] == ["application/json"]
    assert "headers" not in multi


def test_head_options_and_repeated_flags(answers) -> None:
    card = answers["function_url_card"][0]
    head = answers["function_url_head"][0]
    assert head["statusCode"] == 200 and head["body"] == ""
    assert head["headers"] == card["headers"]
    options = answers["function_url_options"][0]
    assert options["statusCode"] == 200
    assert options["headers"]["allow"] == "POST, OPTIONS"
    # ?probabilities=true&probabilities=true means what ?probabilities=true means (here: the
    # regressor's 400, "no class probabilities"), through a function URL and an ALB alike.
    single = answers["function_url_single_flag"][0]
    assert single["statusCode"] == 400
    assert json.loads(single["body"])["error"]["field"] == "return_probabilities"
    assert answers["function_url_repeated_flag"][0] == single
    repeated_alb = answers["alb_multi_value_repeated_flag"][0]
    assert json.loads(repeated_alb["body"]) == json.loads(single["body"])
    conflicting = answers["function_url_conflicting_flag"][0]
    assert conflicting["statusCode"] == 400
    assert json.loads(conflicting["body"])["error"]["field"] == "probabilities"


@pytest.mark.parametrize(("name", "source"), sorted(aws_events.UNSUPPORTED.items()))
def test_non_http_sources_fail_so_lambda_retries_them(answers, name: str, source: str) -> None:
    local, remote = answers[name]
    assert isinstance(local, UnsupportedEventError)
    assert source in str(local) and "dead-letter" in str(local)
    assert remote.error == "UnsupportedEventError"


def test_the_keep_warm_schedule_is_answered(answers) -> None:
    local, _ = answers["schedule"]
    assert local["warm"] is True
