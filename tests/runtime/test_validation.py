"""Validation that matches scikit-learn's (#15 items 1–2): nothing a client sends gets a 500.

Huge finite numbers, integers beyond float64, JSON nested thousands deep and predictions that
overflow inside the model are 4xx errors naming the field, in the parser, in the service (lean
and scikit-learn runtimes, in process) and in ``sklambda predict``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sklambda
from sklambda.lean.compiler import compile_estimator
from sklambda.runtime.contract import (
    FLOAT32_MAX,
    MAX_DEPTH,
    Feature,
    RequestError,
    RequestParser,
    json_depth,
    parse_json,
)
from sklambda.runtime.service import Service
from sklambda.runtime.sklearn_predict import SklearnPredictor, compares_as_float32
from tests.support.cli import run_cli
from tests.support.events import url_event

HUGE = 1.7976931348623157e308  # the largest finite float64
DIABETES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
ROW = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]


def numbers(n: int = 2, float32: bool = False) -> RequestParser:
    features = [Feature(f"x{i}", "number") for i in range(n)]
    return RequestParser(features, probabilities=False, float32=float32)


def refused(parser: RequestParser, request: Any) -> RequestError:
    with pytest.raises(RequestError) as caught:
        parser.parse(request)
    return caught.value


# -- the parser --------------------------------------------------------------------------------


def test_integers_beyond_float64_are_a_400_naming_the_field() -> None:
    error = refused(numbers(), {"instances": [[1, 10**400]]})
    assert (error.code, error.field, error.status) == ("too_large", "instances[0][1]", 400)
    assert "float64" in error.message
    error = refused(numbers(), {"instances": [{"x0": -(10**309), "x1": 1}]})
    assert error.field == "instances[0].x0"
    # the largest integers a float holds pass, as floats
    assert numbers().parse({"instances": [[10**308, -(10**308)]]}).rows == [[1e308, -1e308]]


def test_a_body_with_a_huge_integer_is_a_400_not_an_overflow() -> None:
    body = '{"instances": [[1, ' + "9" * 400 + "]]}"
    error = refused(numbers(), parse_json(body))
    assert (error.code, error.field) == ("too_large", "instances[0][1]")


def test_float32_models_refuse_what_sklearn_refuses_for_trees() -> None:
    # scikit-learn casts a tree's input to float32: beyond its range the value is infinite
    assert numbers(float32=True).parse({"instances": [[FLOAT32_MAX, -FLOAT32_MAX]]}).rows
    error = refused(numbers(float32=True), {"instances": [[1.0, 1e39]]})
    assert (error.code, error.field) == ("too_large", "instances[0][1]")
    assert "float32" in error.message
    assert numbers(float32=False).parse({"instances": [[1.0, 1e39]]}).rows == [[1.0, 1e39]]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
@pytest.mark.parametrize("shape", [("[", "]"), ('{"a": ', "}"), ('[{"a": ', "}]")])
def test_json_nested_deep_is_a_400_before_the_parser_recurses(
    depth: int, shape: tuple[str, str]
) -> None:
    body = shape[0] * depth + "0" + shape[1] * depth
    with pytest.raises(RequestError) as caught:
        parse_json(body)
    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "too_deep",
        400,
        "body",
    )
    assert str(MAX_DEPTH) in caught.value.message


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"instances": [["[[[[{{{{" * 500, ']]]]}}\\"}}' * 400]]})
    assert json_depth(text) == 3
    assert json_depth(text.encode()) == 3
    assert parse_json(text)["instances"][0][0].startswith("[[[[")


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def deep_json(max_depth: int) -> st.SearchStrategy[str]:
    """JSON nested up to ``max_depth`` deep: arrays and objects mixed, strings with brackets."""
    leaf = st.one_of(
        st.integers(-(10**400), 10**400).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
        st.text(alphabet='[]{}"\\ab,:', max_size=6).map(json.dumps),
        st.sampled_from(["null", "true", "false"]),
    )

    @st.composite
    def nested(draw: st.DrawFn) -> str:
        text = draw(leaf)
        for opener in draw(st.lists(st.sampled_from("[{"), max_size=max_depth)):
            key = draw(st.text(alphabet="[]{}k", max_size=3))
            text = f"[{text}]" if opener == "[" else "{" + json.dumps(key) + ": " + text + "}"
        return text

    return nested()


def wide_json() -> st.SearchStrategy[Any]:
    """Requests wide in rows and in columns: many values, some of them unparseable numbers."""
    value = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(10**320), 10**320),
        st.none(),
        st.booleans(),
        st.text(max_size=3),
    )
    row = st.lists(value, min_size=0, max_size=60)
    return st.fixed_dictionaries(
        {"instances": st.lists(row | st.dictionaries(st.text(max_size=3), value), max_size=200)}
    )


@settings(max_examples=150, deadline=None)
@given(deep_json(3 * MAX_DEPTH))
def test_deep_json_is_parsed_or_refused_never_a_crash(text: str) -> None:
    try:
        decoded = parse_json(text)
    except RequestError as error:
        assert error.status == 400 and error.code in {"too_deep", "invalid_json"}
        assert _depth(json.loads(text)) > MAX_DEPTH if error.code == "too_deep" else True
        return
    assert _depth(decoded) == json_depth(text) <= MAX_DEPTH
    try:
        numbers(3).parse(decoded)
    except RequestError as error:
        assert error.status == 400


@settings(max_examples=80, deadline=None)
@given(wide_json())
def test_wide_requests_are_rows_or_a_400(request_: dict[str, Any]) -> None:
    text = json.dumps(request_)
    try:
        parsed = numbers(40).parse(parse_json(text))
    except RequestError as error:
        assert error.status == 400 and error.message
        json.dumps(error.to_dict(), allow_nan=False)
        return
    for row in parsed.rows:
        assert all(isinstance(v, float) and math.isfinite(v) for v in row)


# -- the service: predictions that overflow inside the model ---------------------------------------


@pytest.fixture(scope="module")
def seed(diabetes_bundle: Path) -> Any:
    return sklambda.load(diabetes_bundle)


def services(model: Any) -> dict[str, Service]:
    """The same model behind the lean runtime and the scikit-learn runtime, in process."""
    from sklambda.building.forms import adapt_for_arrays

    names = [f["name"] for f in model.features]
    lean = compile_estimator(model.estimator, names).predictor()
    types = [f["type"] for f in model.features]
    return {
        "lean": Service({**model.manifest, "package": {"runtime": "lean"}}, lean, 1000),
        "sklearn": Service(  # the array-taking copy a scikit-learn package ships
            {**model.manifest, "package": {"runtime": "sklearn"}},
            SklearnPredictor(adapt_for_arrays(model.estimator, names), types),
            1000,
        ),
    }


def answer(service: Service, request: Any) -> tuple[int, Any]:
    response = service.handle(url_event(raw_body=json.dumps(request)))
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("runtime", ["lean", "sklearn"])
def test_a_huge_finite_number_is_a_422_not_a_500_nor_nan(seed: Any, runtime: str) -> None:
    import pandas as pd

    row = dict(zip(DIABETES, ROW, strict=True))
    overflowing = {**row, "sex": HUGE}  # finite, but scaled (std 0.5) it is infinite
    with (
        pytest.raises(ValueError, match="infinity or a value too large"),
        np.errstate(all="ignore"),
    ):
        seed.estimator.predict(pd.DataFrame([overflowing]))  # what scikit-learn says
    service = services(seed)[runtime]
    status, body = answer(service, {"instances": [row, overflowing]})
    assert status == 422, body
    assert body["error"]["code"] == "non_finite_result"
    assert body["error"]["field"] == "instances[1]"
    status, body = answer(service, {"instances": [row, {**row, "bmi": HUGE}]})
    assert status in (200, 422), body  # never a 500, never a NaN in a 200
    if status == 200:
        assert all(math.isfinite(p) for p in body["predictions"])
    status, body = answer(service, {"instances": [row]})
    assert status == 200 and math.isfinite(body["predictions"][0])


@pytest.mark.parametrize("runtime", ["lean", "sklearn"])
def test_a_saturated_classifier_answers_as_sklearn_does_with_warnings(
    houses_classifier: Path, runtime: str
) -> None:
    """Scaled inputs stay finite, scores saturate: scikit-learn answers, so does each runtime."""
    import pandas as pd

    model = sklambda.load(houses_classifier)
    rows = [
        {"rooms": HUGE, "area": 80.0, "age": 1.0, "district": "north"},
        {"rooms": HUGE, "area": -HUGE, "age": None, "district": "south"},
    ]
    frame = pd.DataFrame(rows).astype({"age": float})
    with np.errstate(all="ignore"):
        expected = model.estimator.predict(frame).tolist()
        proba = model.estimator.predict_proba(frame)
    status, body = answer(
        services(model)[runtime], {"instances": rows, "return_probabilities": True}
    )
    assert status == 200, body
    assert body["predictions"] == expected
    got = [[p[str(c)] for c in model.classes] for p in body["probabilities"]]
    np.testing.assert_allclose(got, proba, rtol=0, atol=1e-12)
    flagged = {(w["row"], w["feature"], w["kind"]) for w in body["warnings"]}
    assert flagged == {
        (0, "rooms", "out_of_range"),
        (1, "rooms", "out_of_range"),
        (1, "area", "out_of_range"),
    }


@pytest.fixture(scope="module")
def forest(diabetes_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("forest") / "forest"
    sklambda.train(
        str(diabetes_db), table="patients", target="progression", out=out, estimator="random-forest"
    )
    return sklambda.load(out)


@pytest.mark.parametrize("runtime", ["lean", "sklearn"])
def test_tree_models_refuse_values_beyond_float32_with_a_400(forest: Any, runtime: str) -> None:
    assert compares_as_float32(forest.estimator)
    service = services(forest)[runtime]
    status, body = answer(service, {"instances": [[*ROW[:2], 1e39, *ROW[3:]]]})
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        400,
        "too_large",
        "instances[0][2]",
    )
    status, body = answer(service, {"instances": [[*ROW[:2], 3e38, *ROW[3:]]]})
    assert status == 200, body  # float32 holds it: scikit-learn answers, so do we
    assert body["predictions"] == pytest.approx(forest.predict([[*ROW[:2], 3e38, *ROW[3:]]]))


def test_the_local_model_refuses_the_same(seed: Any, forest: Any) -> None:
    with pytest.raises(RequestError) as caught:
        seed.respond({"instances": [[*ROW[:2], HUGE, *ROW[3:]]]})
    assert (caught.value.code, caught.value.status) == ("non_finite_result", 422)
    with pytest.raises(RequestError) as caught:
        forest.respond({"instances": [[*ROW[:2], 1e39, *ROW[3:]]]})
    assert caught.value.code == "too_large"


@pytest.mark.slow
def test_predict_cli_says_one_line_for_a_huge_number(diabetes_bundle: Path) -> None:
    huge = json.dumps({"instances": [[ROW[0], HUGE, *ROW[2:]]]})
    result = run_cli("predict", str(diabetes_bundle), "--json", huge)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "overflowed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_service_answers_deep_and_huge_bodies_with_a_400(seed: Any) -> None:
    service = services(seed)["lean"]
    for body, code in (
        ("[" * 50_000 + "]" * 50_000, "too_deep"),
        ('{"instances": [[' + "1" * 400 + ", 2, 3, 4, 5, 6, 7, 8, 9, 10]]}", "too_large"),
        ('{"instances": [[1e400, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}', "non_finite"),
    ):
        response = service.handle(url_event(raw_body=body))
        assert response["statusCode"] == 400, response["body"]
        assert json.loads(response["body"])["error"]["code"] == code
