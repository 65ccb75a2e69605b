"""The request contract shared by `predict` and the Lambda handler."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklambda.runtime.contract import Feature, RequestError, RequestParser, parse_json

FEATURES = [
    Feature("rooms", "number"),
    Feature("age", "number", nullable=True),
    Feature("district", "string", categories=("centre", "north", "south")),
]


def parser(max_rows: int | None = None, probabilities: bool = True) -> RequestParser:
    return RequestParser(FEATURES, probabilities=probabilities, max_rows=max_rows)


@pytest.mark.parametrize(
    "request_",
    [
        {"instances": [{"rooms": 3, "age": 20, "district": "north"}]},
        {"instances": [[3, 20, "north"]]},
        {"rooms": 3, "age": 20, "district": "north"},
        {"input": [[3, 20, "north"]]},
        [{"rooms": 3, "age": 20.0, "district": "north"}],
    ],
)
def test_every_request_shape_gives_the_same_row(request_: Any) -> None:
    assert parser().parse(request_).rows == [[3.0, 20.0, "north"]]


def test_legacy_shape_and_probabilities_flag() -> None:
    parsed = parser().parse({"input": [[1, None, "south"]], "return_probabilities": True})
    assert parsed.legacy and parsed.return_probabilities
    assert parsed.rows == [[1.0, None, "south"]]


@pytest.mark.parametrize(
    ("request_", "code", "field", "words"),
    [
        (
            {"instances": [{"age": 1, "district": "north"}]},
            "missing_feature",
            "instances[0].rooms",
            "expects ['rooms', 'age', 'district']",
        ),
        (
            {"instances": [{"rooms": 1, "age": 1, "district": "north", "roms": 2}]},
            "unknown_feature",
            "instances[0].roms",
            'did you mean "rooms"',
        ),
        (
            {"instances": [{"rooms": "3", "age": 1, "district": "north"}]},
            "invalid_type",
            "instances[0].rooms",
            'must be a number, got string "3"',
        ),
        (
            {"instances": [{"rooms": True, "age": 1, "district": "north"}]},
            "invalid_type",
            "instances[0].rooms",
            "got true",
        ),
        ({"instances": [[1, 2]]}, "wrong_length", "instances[0]", "expected 3 values"),
        (
            {"instances": [[1, 2, "north"], [1, 2, "north", 4]]},
            "wrong_length",
            "instances[1]",
            "got 4",
        ),
        ({"instances": []}, "empty", "instances", "at least one row"),
        ({}, "empty", "instances", "no rows"),
        ({"instances": [[None, 2, "north"]]}, "null_value", "instances[0][0]", "may not be null"),
        ({"instances": [[1e999, 2, "north"]]}, "non_finite", "instances[0][0]", "finite"),
        (
            {"instances": [[1, 2, "east"]]},
            "unknown_category",
            "instances[0][2]",
            "expected one of ['centre', 'north', 'south']",
        ),
        ({"instances": [[1, 2, 5]]}, "invalid_type", "instances[0][2]", "must be a string"),
        ({"instances": "rows"}, "invalid_type", "instances", "must be an array"),
        ({"instances": [7]}, "invalid_type", "instances[0]", "expected an object"),
        ({"input": [{"rooms": 1}]}, "invalid_type", "input[0]", 'under "instances"'),
        ({"instances": [[1, 2, "north"]], "extra": 1}, "unknown_field", "extra", "allowed"),
        ({"instances": [[1, 2, "north"]], "input": []}, "invalid_request", "input", "not both"),
        (
            {"instances": [[1, 2, "north"]], "return_probabilities": "yes"},
            "invalid_type",
            "return_probabilities",
            "true or false",
        ),
        ("just text", "invalid_request", None, "must be a JSON object"),
    ],
)
def test_bad_requests_name_the_field_and_the_fix(
    request_: Any, code: str, field: str | None, words: str
) -> None:
    with pytest.raises(RequestError) as caught:
        parser().parse(request_)
    error = caught.value
    assert (error.code, error.field, error.status) == (code, field, 400)
    assert words in error.message
    body = error.to_dict()["error"]
    assert body["code"] == code and body["message"] == error.message


def test_probabilities_from_a_regressor_are_refused() -> None:
    with pytest.raises(RequestError, match="no class probabilities"):
        parser(probabilities=False).parse(
            {"instances": [[1, 2, "north"]], "return_probabilities": True}
        )


def test_batch_limit() -> None:
    rows = [[1, 2, "north"]] * 11
    assert len(parser(max_rows=None).parse({"instances": rows}).rows) == 11
    with pytest.raises(RequestError, match="11 rows; at most 10") as caught:
        parser(max_rows=10).parse({"instances": rows})
    assert caught.value.code == "too_many_rows"


@pytest.mark.parametrize("body", ["{", '{"instances": [NaN]}', '{"a": Infinity}', "", b"\xff\xfe"])
def test_invalid_json_and_non_finite_constants(body: str | bytes) -> None:
    with pytest.raises(RequestError) as caught:
        parse_json(body)
    assert caught.value.code in {"invalid_json", "non_finite"}


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["rooms", "age", "district", "instances", "input", "x"])
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_any_json_is_a_valid_request_or_a_request_error(value: Any) -> None:
    """Whatever a client sends, the answer is rows or a RequestError: never another exception."""
    try:
        parsed = parser(max_rows=50).parse(value)
    except RequestError as error:
        assert error.status == 400 and error.message
        json.dumps(error.to_dict())
        return
    for row in parsed.rows:
        assert len(row) == 3
        assert row[0] is not None and math.isfinite(row[0])
        assert row[1] is None or math.isfinite(row[1])
        assert row[2] in {"centre", "north", "south"}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=False, allow_infinity=False),
            st.none() | st.floats(allow_nan=False, allow_infinity=False),
            st.sampled_from(["centre", "north", "south"]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_objects_and_arrays_are_the_same_rows(rows: list[tuple[float, float | None, str]]) -> None:
    as_arrays = parser().parse({"instances": [list(r) for r in rows]}).rows
    as_objects = (
        parser()
        .parse({"instances": [{"district": d, "age": a, "rooms": r} for r, a, d in rows]})
        .rows
    )
    assert as_arrays == as_objects == [[float(r), a, d] for r, a, d in rows]


RANGED = [Feature("a", "number", min=0.0, max=10.0), Feature("b", "number", nullable=True)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.floats(-20, 20),
                st.integers(-20, 20),
                st.floats(allow_nan=False),
                st.integers(-(10**310), 10**310),
                st.none(),
            ),
            min_size=2,
            max_size=2,
        ),
        min_size=1,
        max_size=6,
    ),
    st.booleans(),
)
def test_the_fast_path_agrees_with_the_value_by_value_path(
    rows: list[list[Any]], float32: bool
) -> None:
    """All-number models take a row-at-once path; a text column forces the per-value one."""
    fast = RequestParser(RANGED, probabilities=False, float32=float32)
    slow = RequestParser([*RANGED, Feature("t", "string")], probabilities=False, float32=float32)
    outcomes = []
    for parser_, request in ((fast, rows), (slow, [[*r, "x"] for r in rows])):
        try:
            parsed = parser_.parse({"instances": request})
            outcomes.append(([r[:2] for r in parsed.rows], parsed.warnings))
        except RequestError as error:
            outcomes.append((error.code, error.field))
    assert outcomes[0] == outcomes[1]
    if isinstance(outcomes[0][1], list):
        for row in outcomes[0][0]:
            assert all(v is None or type(v) is float for v in row)
