"""Date features: ISO text in requests, the same epoch days as training, clear 400s otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from sklambda.runtime import dates
from sklambda.runtime.contract import RequestError, RequestParser


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("1970-01-01", 0.0),
        ("1970-01-02 12:00", 1.5),
        ("1982-01-01", 4383.0),
        ("1982-01-01 00:00:00", 4383.0),
        ("1982-01-01T00:00:00", 4383.0),
        ("1982-01-01T02:00:00+02:00", 4383.0),
        ("1982-01-01T00:00:00Z", 4383.0),
    ],
)
def test_iso_text_becomes_epoch_days(text: str, days: float) -> None:
    assert dates.epoch_days(text) == days


@pytest.mark.parametrize("text", ["19820101", "1982-W01-1", "yesterday", "1982-13-01", "82-1-1"])
def test_other_text_is_no_date(text: str) -> None:
    assert dates.epoch_days(text) is None


def test_date_objects_and_iso_round_trip() -> None:
    assert dates.epoch_days(dt.date(1982, 1, 1)) == 4383.0
    assert dates.epoch_days(dt.datetime(1982, 1, 1, 6)) == 4383.25
    assert dates.iso(4383.0) == "1982-01-01" and dates.iso(4383.25) == "1982-01-01 06:00:00"


def _parser() -> RequestParser:
    manifest = {
        "features": [
            {"name": "sold", "type": "number", "date": "epoch_days", "min": 0.0, "max": 9.0},
            {"name": "origin", "type": "string", "categories": ["eu", "us"]},
        ]
    }
    return RequestParser.from_manifest(manifest)


def test_the_contract_takes_iso_dates_for_date_features() -> None:
    rows = (
        _parser()
        .parse(
            {
                "instances": [
                    {"sold": "1982-01-01", "origin": "eu"},
                    ["1982-01-01 00:00:00", "us"],
                    [4383, "eu"],
                ]
            }
        )
        .rows
    )
    assert [r[0] for r in rows] == [4383.0, 4383.0, 4383.0]


def test_a_bad_date_is_a_400_naming_the_field_and_the_form() -> None:
    with pytest.raises(RequestError) as caught:
        _parser().parse({"instances": [{"sold": "last week", "origin": "eu"}]})
    assert caught.value.code == "invalid_type"
    assert caught.value.field == "instances[0].sold"
    assert '"1982-01-01"' in caught.value.message


def test_unknown_categories_pass_when_the_model_ignores_them() -> None:
    manifest = {"features": [{"name": "origin", "type": "string", "categories": ["eu"]}]}
    with pytest.raises(RequestError, match="not a known value"):
        RequestParser.from_manifest(manifest).parse({"origin": "asia"})
    manifest["features"][0]["unknown"] = "ignore"
    assert RequestParser.from_manifest(manifest).parse({"origin": "asia"}).rows == [["asia"]]
