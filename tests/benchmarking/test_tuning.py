"""Choosing a memory size from priced, measured sizes; writing the choice where deploy reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sklambda.benchmarking import BenchError, tuned_memory
from sklambda.benchmarking.tuning import STRATEGIES, TunedSize, recommend

# Latency falls with memory until one vCPU (1,769 MB); cost per request is lowest in the middle.
SIZES = [
    TunedSize(128, latency_ms=80.0, cost_per_invocation_usd=3.0e-7),
    TunedSize(512, latency_ms=20.0, cost_per_invocation_usd=2.1e-7),
    TunedSize(1024, latency_ms=10.0, cost_per_invocation_usd=2.2e-7),
    TunedSize(1769, latency_ms=6.0, cost_per_invocation_usd=2.9e-7),
    TunedSize(3008, latency_ms=5.9, cost_per_invocation_usd=4.9e-7),
]


def test_the_weights_are_what_the_documentation_says() -> None:
    assert STRATEGIES == {
        "cost": {"cost": 1.0, "speed": 0.0},
        "speed": {"cost": 0.0, "speed": 1.0},
        "balanced": {"cost": 0.5, "speed": 0.5},
    }


def test_cost_picks_the_cheapest_size() -> None:
    chosen, scored = recommend(SIZES, "cost")
    assert chosen == 512
    assert {s.memory_mb: round(s.score or 0, 4) for s in scored}[512] == 1.0


def test_speed_takes_the_smallest_size_within_5_percent_of_the_fastest() -> None:
    # 3,008 MB is 1.7 % faster than 1,769 MB: within the tolerance, so the smaller wins.
    assert recommend(SIZES, "speed")[0] == 1769


def test_balanced_weighs_both_halves() -> None:
    # scores: 128 → .5×3/2.1+.5×80/5.9; 512 → .5+.5×20/5.9 = 2.19; 1024 → .524+.847 = 1.371;
    # 1769 → .690+.508 = 1.199; 3008 → 1.167+.5 = 1.667.
    chosen, scored = recommend(SIZES, "balanced")
    assert chosen == 1769
    score = {s.memory_mb: s.score for s in scored}
    assert score[1769] == pytest.approx(0.5 * 2.9 / 2.1 + 0.5 * 6.0 / 5.9)


def test_a_size_that_failed_is_never_recommended() -> None:
    failed = [TunedSize(128, None, None, excluded="Runtime.OutOfMemory at 128 MB"), *SIZES[1:]]
    chosen, scored = recommend(failed, "speed")
    assert chosen == 1769 and scored[0].score is None
    with pytest.raises(BenchError, match="no memory size ran without failing .*OutOfMemory"):
        recommend(failed[:1], "cost")
    with pytest.raises(BenchError, match="strategy must be one of cost, speed, balanced"):
        recommend(SIZES, "cheap")


def test_the_tuning_file_is_read_back_and_a_broken_one_is_an_error(tmp_path: Path) -> None:
    assert tuned_memory(tmp_path) is None
    (tmp_path / "tuning.json").write_text(
        json.dumps({"format": "sklambda-tuning", "memory_mb": 768})
    )
    assert tuned_memory(tmp_path) == 768
    (tmp_path / "tuning.json").write_text("{not json")
    with pytest.raises(BenchError, match="not readable JSON"):
        tuned_memory(tmp_path)
    (tmp_path / "tuning.json").write_text('{"memory_mb": 768}')
    with pytest.raises(BenchError, match="not a sklambda tuning file"):
        tuned_memory(tmp_path)
