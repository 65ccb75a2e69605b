"""Batches are bounded by Lambda's 6 MB payload, not a row count (#10 item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sklambda
from sklambda.runtime import service as service_module
from sklambda.runtime.service import Service
from tests.support.events import url_event

ROW = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]


def test_the_default_cap_is_far_above_a_10000_row_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKLAMBDA_MAX_ROWS", raising=False)
    assert service_module._max_rows() == 100_000
    monkeypatch.setenv("SKLAMBDA_MAX_ROWS", "500")
    assert service_module._max_rows() == 500
    monkeypatch.setenv("SKLAMBDA_MAX_ROWS", "0")
    assert service_module._max_rows() is None


def test_an_answer_over_6_mb_is_a_413_not_a_lost_response(houses_classifier: Path) -> None:
    """Lambda fails a response over 6 MB; the service says so and how to fix it instead."""
    model = sklambda.load(houses_classifier)

    class LongLabels:  # a classifier whose class names are long: 60k rows answer ~6.5 MB
        def predict(self, rows: list[list[object]]) -> list[str]:
            return ["a long class name " * 6] * len(rows)

    service = Service({**model.manifest, "package": {"runtime": "lean"}}, LongLabels(), None)
    rows = [[3, 80, 1, "north"]] * 60_000
    body = json.dumps({"instances": rows})
    assert len(body) < 6 * 1024 * 1024
    response = service.handle(url_event(raw_body=body))
    assert response["statusCode"] == 413, response["body"][:300]
    error = json.loads(response["body"])["error"]
    assert error["code"] == "response_too_large" and "split the batch" in error["message"]
    small = service.handle(url_event(raw_body=json.dumps({"instances": rows[:10]})))
    assert small["statusCode"] == 200
    direct = service.handle({"instances": rows})  # a direct invoke: the same limit
    assert direct["error"]["code"] == "response_too_large"
    assert service.handle({"instances": rows[:10]})["predictions"]


@pytest.mark.slow
def test_a_10000_row_batch_of_the_seed_model_in_the_emulator(
    seed_dist: Path, diabetes_bundle: Path
) -> None:
    from sklambda.local import LocalFunction

    rows = [[*ROW[:2], 20 + i % 20, *ROW[3:]] for i in range(10_000)]
    body = json.dumps({"instances": rows})
    assert len(body) < 6 * 1024 * 1024
    with LocalFunction(seed_dist, concurrency=1, timeout=60) as function:
        result = function.invoke(url_event(raw_body=body))
    assert result.error is None, result.payload
    assert result.payload["statusCode"] == 200, result.payload["body"][:300]
    predictions = json.loads(result.payload["body"])["predictions"]
    assert predictions == pytest.approx(sklambda.load(diabetes_bundle).predict(rows), rel=1e-9)
