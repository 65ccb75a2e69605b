"""Schema-driven fuzzing in the suite (#15): the served OpenAPI document, a lean and a
scikit-learn package in the emulator, no 5xx and documented answers only.

Bounded here (``FUZZ_CASES`` per package; the scikit-learn build is most of the cost);
``make fuzz`` runs ≥ 10,000 per package and writes
the result to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sklambda.local import serve
from tests.support.fuzzing import fuzz

pytestmark = pytest.mark.slow

FUZZ_CASES = 150  # per package: 300 in all, a bounded share of the suite


@pytest.fixture(scope="module")
def sklearn_dist(houses_classifier: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklambda.building import build

    out = tmp_path_factory.mktemp("fuzz") / "sklearn"
    return build(houses_classifier, out, runtime="sklearn", python="3.12").dist


@pytest.mark.parametrize("package", ["lean", "sklearn"])
def test_schema_driven_requests_get_no_5xx_and_documented_answers(
    package: str, request: pytest.FixtureRequest
) -> None:
    dist = request.getfixturevalue("seed_dist" if package == "lean" else "sklearn_dist")
    with serve(dist, port=0, concurrency=2, timeout=30) as server:
        outcome = fuzz(server.url, FUZZ_CASES)
    assert outcome.cases >= FUZZ_CASES
    assert 400 in outcome.statuses and 200 in outcome.statuses  # both kinds were generated
    assert outcome.server_errors == 0 and outcome.failure_count == 0, (
        outcome.summary() + "\n" + "\n".join(json.dumps(f) for f in outcome.failures[:5])
    )
