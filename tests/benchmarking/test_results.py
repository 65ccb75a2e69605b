"""Samples, REPORT lines, percentiles and the results file: pure functions, no processes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sklambda.benchmarking import BenchError, BenchResults, load_results, pick_size
from sklambda.benchmarking.percentiles import percentile, summary
from sklambda.benchmarking.results import PackageResult, SizeResult
from sklambda.benchmarking.samples import Sample, parse_report_line
from sklambda.local.report import Report


@pytest.mark.parametrize("values", [[3.0], [5.0, 1.0], [1, 9, 2, 8, 3], list(range(17))])
@pytest.mark.parametrize("q", [0, 50, 90, 99, 100])
def test_percentiles_match_numpys_linear_interpolation(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_a_summary_says_how_many_samples_it_rests_on() -> None:
    assert summary([]) is None
    assert summary([1.0, 2.0, 3.0]) == {"p50": 2.0, "p90": 2.8, "p99": pytest.approx(2.98), "n": 3}


def test_the_emulators_own_report_line_parses_back_to_its_fields() -> None:
    report = Report.build(
        request_id="r1",
        duration_ms=2.04,
        memory_size_mb=1024,
        max_memory_used_mb=81,
        init_duration_ms=812.3,
        log_stream="s",
    )
    log = f"START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\n{report.line}\n"
    fields = parse_report_line(log)
    assert fields is not None
    assert fields["duration_ms"] == 2.04
    assert fields["billed_ms"] == report.billed_duration_ms == 815  # INIT billed too
    assert (fields["memory_size_mb"], fields["max_memory_mb"]) == (1024, 81)
    assert fields["init_ms"] == 812.3


def test_a_warm_report_line_from_aws_has_no_init() -> None:
    line = (
        "REPORT RequestId: 3f2c\tDuration: 12.71 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 512 MB\tMax Memory Used: 64 MB"
    )
    fields = parse_report_line(f"some output\n{line}")
    assert fields is not None
    assert (fields["duration_ms"], fields["billed_ms"], fields["init_ms"]) == (12.71, 13, None)
    assert parse_report_line("START RequestId: x\nEND RequestId: x\n") is None


def _sample(cold: bool, duration: float, init: float | None = None, **extra: object) -> Sample:
    return Sample(
        cold=cold,
        duration_ms=duration,
        billed_ms=int(duration + (init or 0)) + 1,
        init_ms=init,
        max_memory_mb=40,
        memory_size_mb=512,
        wall_ms=duration + (init or 0) + 1,
        **extra,  # type: ignore[arg-type]
    )


def _size(memory: int, samples: list[Sample], errors: list[str] | None = None) -> SizeResult:
    share = {"applied": True, "vcpus": memory / 1769, "reason": ""}
    return SizeResult(memory, samples, share, "cgroup", 120, 80, errors or [])


def test_a_size_summarises_cold_starts_as_init_plus_duration_and_bills_warm_requests() -> None:
    size = _size(
        512,
        [
            _sample(True, 5.0, 100.0),
            _sample(True, 7.0, 140.0),
            _sample(False, 1.2),
            _sample(False, 2.6),
        ],
    )
    doc = size.to_json()
    assert doc["cold_ms"] == {
        "p50": 126.0,
        "p90": pytest.approx(105 + 0.9 * 42),  # cold starts of 105 and 147 ms
        "p99": pytest.approx(105 + 0.99 * 42),
        "n": 2,
    }
    assert doc["warm_ms"]["p50"] == pytest.approx(1.9)
    assert doc["init_ms"] == 120.0
    assert doc["billed_warm_ms"] == pytest.approx((2 + 3) / 2)
    assert doc["max_memory_mb"] == 40
    assert doc["cpu_share"]["applied"] is True
    assert len(doc["samples"]) == 4
    assert Sample.from_json(doc["samples"][0]) == size.samples[0]


def _document(sizes: list[SizeResult], name: str = "seed") -> dict:
    package = PackageResult(name, "/dist", "lean", "3.12", "x86_64", 1, sizes=sizes)
    return BenchResults([package], "2026-12-01T00:00:00Z", "test", "0.1.0").to_json()


def test_pick_size_reads_what_cost_needs() -> None:
    doc = _document([_size(512, [_sample(True, 5, 100), _sample(False, 2.2)])])
    picked = pick_size(doc)
    assert (picked.package, picked.memory_mb, picked.init_ms) == ("seed", 512, 100)
    assert picked.billed_warm_ms == 3
    assert picked.payload_bytes == 200


def test_pick_size_asks_for_a_memory_size_unless_tune_recommended_one(tmp_path: Path) -> None:
    doc = _document(
        [_size(m, [_sample(True, 5, 100), _sample(False, 2.2)]) for m in (128, 512, 1024)]
    )
    with pytest.raises(BenchError, match="measured at 128, 512, 1024 MB: pick one"):
        pick_size(doc)
    assert pick_size(doc, memory_mb=1024).memory_mb == 1024
    with pytest.raises(BenchError, match="not measured at 256"):
        pick_size(doc, memory_mb=256)
    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(dict(doc, recommended_memory_mb=512)))
    assert pick_size(path).memory_mb == 512


def test_a_size_that_failed_cannot_be_priced() -> None:
    doc = _document([_size(128, [_sample(True, 5, 100, error="Runtime.OutOfMemory")], ["oom"])])
    with pytest.raises(BenchError, match="no warm measurement to price"):
        pick_size(doc)


def test_results_files_are_checked_for_their_format_and_version(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="not found"):
        load_results(tmp_path / "none.json")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with pytest.raises(BenchError, match="not a sklambda results file"):
        load_results(tmp_path / "other.json")
    doc = _document([_size(512, [_sample(False, 1)])])
    (tmp_path / "v9.json").write_text(json.dumps(dict(doc, format_version=9)))
    with pytest.raises(BenchError, match="format_version 9"):
        load_results(tmp_path / "v9.json")
