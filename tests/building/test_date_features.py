"""A model with a date feature, built and run as Lambda runs it: the package takes ISO dates."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sklambda

pytestmark = pytest.mark.slow


def test_a_built_package_takes_iso_dates_for_date_features(tmp_path: Path) -> None:
    from sklambda.local import LocalFunction
    from sklambda.local.url_events import post_event, result_to_response

    rng = np.random.default_rng(5)
    sold = pd.Timestamp("1980-01-01") + pd.to_timedelta(rng.integers(0, 3000, 60), unit="D")
    frame = pd.DataFrame(
        {
            "sold": [str(d.date()) for d in sold],  # ISO text, as a SQL table often holds it
            "km": rng.uniform(1e3, 2e5, 60).round(),
        }
    )
    frame["price"] = 20000 - frame["km"] * 0.05 + (sold - sold.min()).days * 1.5
    sklambda.train(frame=frame, target="price", out=tmp_path / "cars")
    report = sklambda.build(tmp_path / "cars", tmp_path / "dist").report
    assert report["verification"]["ok"]
    with zipfile.ZipFile(tmp_path / "dist" / "function.zip") as zf:
        assert "sklambda/runtime/dates.py" in zf.namelist()  # shipped to date models only
    row = {"km": 50000}
    bodies = [
        {"instances": [{**row, "sold": "1982-01-01"}]},
        {"instances": [{**row, "sold": "1982-01-01 00:00:00"}]},
        {"instances": [[4383, 50000]]},
        {"instances": [{**row, "sold": "not a date"}]},
    ]
    with LocalFunction(tmp_path / "dist", concurrency=1) as function:
        answers = [
            result_to_response(function.invoke(post_event(json.dumps(b).encode())).raw)
            for b in bodies
        ]
    *good, bad = answers
    assert [a.status for a in good] == [200, 200, 200]
    predictions = [json.loads(a.body)["predictions"] for a in good]
    assert predictions[0] == predictions[1] == predictions[2]
    local = sklambda.load(tmp_path / "cars").predict([{**row, "sold": "1982-01-01"}])
    assert predictions[0] == pytest.approx(local, rel=1e-12)
    assert bad.status == 400 and json.loads(bad.body)["error"]["field"] == "instances[0].sold"
