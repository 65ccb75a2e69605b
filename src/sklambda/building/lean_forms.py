"""The lean form of a tree model, chosen by measurement: stdlib arrays or numpy.

Trees, forests and gradient boosting compile to two forms that predict the same bits: pure
Python walking ``lean.bin`` (no layer) and numpy over ``lean.npz`` (a numpy layer). When the
user forces neither (``--numpy``/``--no-numpy``), both packages are built and proven, each is
cold-started in the emulator a few times and asked for ``batch_rows`` rows, and the one with
the lower expected duration per request is kept; both figures go into ``build.json``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from sklambda.dist import BUILD_JSON

__all__ = ["COLD_STARTS", "REQUESTS_PER_COLD_START", "build_measured", "has_two_forms", "measure"]

COLD_STARTS = 2
"""Fresh environments per form (the median counts)."""
WARM_REQUESTS = 5
REQUESTS_PER_COLD_START = 100
"""The expected-cost rule: duration per request = warm + cold start / this many requests."""


def has_two_forms(lean: Any) -> bool:
    """Whether a compiled model holds trees that also have a numpy form."""
    from sklambda.lean.compiler import _model_nodes

    return any(
        node.get("form") == "python" and node["op"] in ("forest", "gradient_boosting")
        for node in _model_nodes(lean.spec["graph"]["model"])
    )


def measure(dist: Path, rows: list[dict[str, Any]], batch_rows: int) -> dict[str, Any]:
    """Median INIT (cold start) and warm latency of ``batch_rows`` rows, in the emulator."""
    from sklambda.building.verify import _http
    from sklambda.local import LocalFunction, serve

    batch = [rows[i % len(rows)] for i in range(max(1, batch_rows))]
    inits: list[float] = []
    warm: list[float] = []
    for _ in range(COLD_STARTS):
        with LocalFunction(dist, memory=1024, concurrency=1, timeout=120) as function:
            with serve(function, port=0) as server:
                url = server.url.rstrip("/") + "/predict"
                status, _ = _http(url, "POST", {"instances": batch})
                if status != 200:
                    raise RuntimeError(f"{dist.name}: POST /predict answered {status}")
                for _ in range(WARM_REQUESTS):
                    started = time.perf_counter()
                    _http(url, "POST", {"instances": batch})
                    warm.append((time.perf_counter() - started) * 1000)
            reports = function.reports
        first = [r.init_duration_ms for r in reports if r.init_duration_ms is not None]
        if first:
            inits.append(first[0])
    cold = statistics.median(inits) if inits else float("nan")
    warm_ms = statistics.median(warm)
    return {
        "cold_start_ms": round(cold, 2),
        "warm_ms": round(warm_ms, 3),
        "expected_ms_per_request": round(warm_ms + cold / REQUESTS_PER_COLD_START, 3),
    }


def build_measured(
    build: Any, bundle: str | Path, out: str | Path, batch_rows: int, **kwargs: Any
) -> Any:
    """Build both forms (each proven), measure them, keep the cheaper one at ``out``."""
    from sklambda.building.builder import _load
    from sklambda.building.probe import probe
    from sklambda.files import check_replaceable, replace_dir, staging_dir

    out = Path(out)
    check_replaceable(out, BUILD_JSON, "sklambda package")
    model = _load(
        bundle,
        trust_pickle=kwargs.get("trust_pickle", False),
        trusted_types=kwargs.get("trusted_types", ()),
    )
    rows = probe(model).rows
    staging = staging_dir(out)
    try:
        results = {}
        figures = {}
        for form, numpy in (("python", False), ("numpy", True)):
            results[form] = build(
                bundle, staging / form, numpy=numpy, batch_rows=batch_rows, **kwargs
            )
            figures[form] = measure(results[form].dist, rows, batch_rows)
        chosen = min(figures, key=lambda f: figures[f]["expected_ms_per_request"])
        result = results[chosen]
        report = result.report
        report["lean_form"] = {
            "chosen": chosen,
            "batch_rows": batch_rows,
            "rule": f"lower warm latency + cold start / {REQUESTS_PER_COLD_START} requests, "
            f"medians of {COLD_STARTS} emulator cold starts",
            **figures,
        }
        other = "numpy" if chosen == "python" else "python"
        report["notes"] = [
            *report.get("notes", []),
            f"lean form {chosen} chosen by measurement over {other} (build.json lean_form; "
            "--numpy/--no-numpy force one)",
        ]
        (result.dist / BUILD_JSON).write_text(json.dumps(report, indent=2) + "\n")
        replace_dir(result.dist, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return type(result)(out, report)
