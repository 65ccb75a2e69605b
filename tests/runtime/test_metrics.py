"""EMF lines of the service, in process: what each kind of invocation counts, valid per the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sklambda
from sklambda.lean.compiler import compile_estimator
from sklambda.runtime import service as service_module
from sklambda.runtime.contract import Feature, RequestParser
from sklambda.runtime.metrics import MAX_FEATURE_METRICS, Metrics, Record
from sklambda.runtime.service import Service
from tests.support.emf import check_emf, metric_names
from tests.support.events import SCHEDULED_EVENT, url_event


class Parsed:
    """A parsed request as #10's contract gives it (rows and their warnings)."""

    def __init__(self, rows: list[list[Any]], warnings: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.warnings = warnings


class Context:
    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


@pytest.fixture(scope="module")
def parts(diabetes_bundle: Path) -> tuple[dict[str, Any], Any]:
    model = sklambda.load(diabetes_bundle)
    lean = compile_estimator(model.estimator, [f["name"] for f in model.features])
    return {**model.manifest, "package": {"runtime": "lean"}}, lean.predictor()


def metered(parts: tuple[dict[str, Any], Any], **options: Any) -> tuple[Service, list[str]]:
    manifest, predictor = parts
    lines: list[str] = []
    metrics = Metrics(
        "houses-fn",
        manifest["name"],
        manifest["version"],
        write=lines.append,
        **options,
    )
    return Service(manifest, predictor, 1000, metrics), lines


def in_range_row(manifest: dict[str, Any]) -> list[float]:
    return [(f["min"] + f["max"]) / 2 for f in manifest["features"]]


def test_a_scripted_sequence_counts_what_happened(parts) -> None:
    service, lines = metered(parts)
    manifest = parts[0]
    good = in_range_row(manifest)
    far = [f["max"] + 1000 for f in manifest["features"]]  # every feature out of range
    one_off = list(good)
    one_off[2] = manifest["features"][2]["min"] - 1  # only the third feature
    events = [
        url_event({"instances": [good, one_off, far]}),  # 3 rows, 2 out of range
        url_event({"instances": [{"age": 1}]}),  # 400 missing_feature
        url_event({"instances": [{"agee": 1}]}),  # 400 unknown_feature
        url_event(path="/nope", method="GET"),  # 404 not_found
        url_event(method="GET"),  # the model card: a request, no rows
        SCHEDULED_EVENT,  # keep-warm: not a request
        {"instances": [good]},  # direct invoke
        {"instances": [{"age": 1}]},  # direct invoke, 400
    ]
    for i, event in enumerate(events):
        service.handle(event, Context(f"req-{i}"))
    docs = [check_emf(line) for line in lines]
    assert len(docs) == len(events)  # one line per invocation

    def total(metric: str) -> int:
        return sum(d.get(metric, 0) for d in docs if metric in metric_names(d))

    assert total("Requests") == 7 and total("Warmups") == 1
    assert total("Rows") == 4
    assert total("Errors4xx") == 4 and total("Errors5xx") == 0
    assert total("OutOfRangeRows") == 2
    assert total("ColdStart") == 1 and docs[0]["ColdStart"] == 1
    codes = [d["ErrorCode"] for d in docs if "ClientErrors" in metric_names(d)]
    assert codes == ["missing_feature", "unknown_feature", "not_found", "missing_feature"]
    name_of = manifest["features"][2]["name"]
    assert docs[0][f"OutOfRangeRows.{name_of}"] == 2  # one_off and far
    first = manifest["features"][0]["name"]
    assert docs[0][f"OutOfRangeRows.{first}"] == 1  # only far
    assert [d.get("requestId") for d in docs] == [f"req-{i}" for i in range(len(events))]
    assert all(d["FunctionName"] == "houses-fn" for d in docs)
    assert all(d["ModelVersion"] == manifest["version"] for d in docs)
    assert "PredictLatency" in metric_names(docs[0]) and docs[0]["PredictLatency"] >= 0
    assert "PredictLatency" not in metric_names(docs[1])  # nothing predicted


def test_a_fault_is_one_5xx_and_one_json_error_line_with_the_request_id(parts, capsys) -> None:
    manifest, _ = parts

    class Broken:
        def predict(self, rows):
            raise ZeroDivisionError("secret detail")

        predict_proba = predict

    lines: list[str] = []
    metrics = Metrics("fn", "m", "v1", write=lines.append)
    broken = Service(manifest, Broken(), 10, metrics)
    response = broken.handle(url_event({"instances": [in_range_row(manifest)]}), Context("r-500"))
    assert response["statusCode"] == 500
    doc = check_emf(lines[0])
    assert doc["Errors5xx"] == 1 and doc["Errors4xx"] == 0 and "ClientErrors" not in doc
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert len(logged) == 1  # one event, not one per traceback line
    assert logged[0]["level"] == "ERROR" and logged[0]["requestId"] == "r-500"
    assert logged[0]["errorType"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in logged[0]["stackTrace"]
    assert "secret detail" not in response["body"]


def test_provisioned_environments_are_never_cold(parts) -> None:
    service, lines = metered(parts, on_demand=False)
    for _ in range(2):
        service.handle(url_event(method="GET"), Context("x"))
    assert [check_emf(line)["ColdStart"] for line in lines] == [0, 0]


def test_switched_off_no_line_and_no_module(parts, monkeypatch) -> None:
    manifest = parts[0]
    monkeypatch.setenv("SKLAMBDA_METRICS", "0")
    assert service_module._metrics(manifest) is None
    monkeypatch.setenv("SKLAMBDA_METRICS", "1")
    assert isinstance(service_module._metrics(manifest), Metrics)


def test_unknown_categories_are_counted_where_the_manifest_ignores_them() -> None:
    features = [
        {
            "name": "district",
            "type": "string",
            "categories": ["north", "south"],
            "unknown": "ignore",
        },
        {"name": "colour", "type": "string", "categories": ["red"]},  # unknowns are refused
        {"name": "rooms", "type": "number", "min": 1.0, "max": 6.0},
    ]
    rows = [["east", "red", 3.0], ["north", "red", 9.0]]
    parser = RequestParser([Feature.from_manifest(f) for f in features], probabilities=False)
    parsed = parser.parse({"instances": rows})
    record = Record("r", cold=False)
    record.predicted(parsed, 0.001)
    assert record.counts == {
        ("unknown_category", "district"): 1,
        ("unknown_category", ""): 1,
        ("out_of_range", "rooms"): 1,
        ("out_of_range", ""): 1,
    }
    assert parsed.warnings == [
        {
            "row": 0,
            "feature": "district",
            "kind": "unknown_category",
            "value": "east",
            "expected": "north, south",
        },
        {
            "row": 1,
            "feature": "rooms",
            "kind": "out_of_range",
            "value": 9.0,
            "expected": "1.0 … 6.0",
        },
    ]


def test_the_contracts_warnings_are_used_when_the_request_has_them() -> None:
    """#10's ``PredictRequest.warnings`` is the source when present (not recomputed)."""

    parsed = Parsed([[1.0], [2.0]], [{"row": 1, "feature": "x", "kind": "unknown_category"}])
    record = Record("r", cold=False)
    record.predicted(parsed, 0.001)
    assert record.counts == {("unknown_category", "x"): 1, ("unknown_category", ""): 1}


@settings(max_examples=200, deadline=None)
@given(
    hits=st.lists(
        st.tuples(
            st.integers(0, 50),
            st.text(min_size=1, max_size=300),
            st.sampled_from(["out_of_range", "unknown_category"]),
        ),
        max_size=400,
    ),
    status=st.sampled_from([200, 400, 404, 413, 500]),
)
def test_every_line_is_valid_emf_and_bounded(hits, status) -> None:
    parsed = Parsed([[0.0]] * 51, [{"row": r, "feature": f, "kind": k} for r, f, k in hits])
    metrics = Metrics("fn", "m", "v", write=lambda line: None)
    record = metrics.begin(None)
    record.predicted(parsed, 0.002)
    doc = metrics.document(record, status, "some_code" if status >= 400 else None)
    checked = check_emf(json.dumps(doc))
    per_feature = [n for n in metric_names(checked) if "." in n]
    assert len(per_feature) <= MAX_FEATURE_METRICS
    rows_hit = {(k, r) for r, _, k in hits}
    assert checked["OutOfRangeRows"] == sum(1 for k, _ in rows_hit if k == "out_of_range")


# -- a real package in the emulator --------------------------------------------------------------


@pytest.fixture(scope="module")
def served_dist(seed_dist_312: Path) -> Path:
    return seed_dist_312  # built once per session (tests/conftest.py)


def _http(url: str, method: str = "GET", body: Any = None) -> int:
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _serve_and_ask(dist: Path, env: dict[str, str], manifest: dict[str, Any]) -> list[str]:
    from sklambda.local import LocalFunction, LogLine, serve

    lines: list[str] = []

    def keep(line: LogLine) -> None:
        if line.stream == "stdout":
            lines.append(line.text)

    good = in_range_row(manifest)
    far = [f["max"] + 1000 for f in manifest["features"]]
    first = manifest["features"][0]["name"]
    with LocalFunction(dist, concurrency=1, env=env, on_log=keep, name="houses-live") as fn:
        with serve(fn, port=0) as server:
            base = server.url.rstrip("/")
            script = [
                ("POST", "/", {"instances": [good, far, far]}, 200),
                ("POST", "/predict", {"instances": [{first: 1}]}, 400),
                ("POST", "/predict", {"instances": [{first: 1}]}, 400),
                ("POST", "/", {"instances": [{"nope": 1}]}, 400),
                ("GET", "/", None, 200),
                ("GET", "/nope", None, 404),
            ]
            for method, path, body, status in script:
                assert _http(base + path, method, body) == status
        assert fn.invoke(SCHEDULED_EVENT).error is None
    return lines


def test_emf_lines_of_a_real_package_count_a_scripted_sequence(served_dist, parts) -> None:
    from tests.support.emf import parse_emf

    manifest = parts[0]
    lines = _serve_and_ask(served_dist, {}, manifest)
    docs = [check_emf(line) for line in lines if parse_emf(line) is not None]
    assert len(docs) == 7  # six HTTP requests and a keep-warm ping, one line each
    requests = [d for d in docs if "Requests" in metric_names(d)]
    assert sum(d["Requests"] for d in requests) == 6
    assert sum(d["Rows"] for d in requests) == 3
    assert sum(d["OutOfRangeRows"] for d in requests) == 2
    assert sum(d["Errors4xx"] for d in requests) == 4
    assert sum(d["Errors5xx"] for d in requests) == 0
    by_code: dict[str, int] = {}
    for d in docs:
        if "ClientErrors" in metric_names(d):
            by_code[d["ErrorCode"]] = by_code.get(d["ErrorCode"], 0) + d["ClientErrors"]
    assert by_code == {"missing_feature": 2, "unknown_feature": 1, "not_found": 1}
    assert [d["ColdStart"] for d in docs] == [1, 0, 0, 0, 0, 0, 0]
    assert {d["FunctionName"] for d in docs} == {"houses-live"}  # AWS_LAMBDA_FUNCTION_NAME
    assert {d["ModelVersion"] for d in docs} == {manifest["version"]}
    assert all(len(d["requestId"]) == 36 for d in docs)  # the invocation's request id
    assert docs[-1]["Warmups"] == 1 and "Requests" not in metric_names(docs[-1])


def test_switched_off_in_the_emulator_no_line_is_written(served_dist, parts) -> None:
    from tests.support.emf import parse_emf

    lines = _serve_and_ask(served_dist, {"SKLAMBDA_METRICS": "0"}, parts[0])
    assert [line for line in lines if parse_emf(line) is not None] == []


@settings(max_examples=60, deadline=None)
@given(
    names=st.tuples(st.text(max_size=12), st.text(max_size=12), st.text(max_size=12)),
    rows=st.integers(0, 10**6),
    cold=st.booleans(),
    latency=st.none() | st.floats(0, 1e6, allow_nan=False),
    request_id=st.none() | st.text(max_size=40),
    status=st.sampled_from([200, 400, 404, 413, 500, 502]),
)
def test_the_plain_line_is_the_text_the_general_line_writes(
    names: tuple[str, str, str],
    rows: int,
    cold: bool,
    latency: float | None,
    request_id: str | None,
    status: int,
) -> None:
    # An ordinary invocation's line is formatted directly; it must be the dict's JSON exactly.
    metrics = Metrics(*names)
    record = Record(request_id, cold)
    record.rows, record.predict_ms = rows, latency
    plain, general = metrics.line(record, status, None), metrics._line(record, status, None)
    # The two lines may straddle a millisecond: compare all but the time.
    assert _untimed(plain) == _untimed(general)
    assert json.loads(plain).keys() == json.loads(general).keys()


def _untimed(line: str) -> tuple[str, str]:
    start = line.index('"Timestamp":')
    return line[:start], line[line.index(",", start) :]
