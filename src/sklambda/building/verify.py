"""Prove a built package before it is called built.

The package is cold-started in the local emulator (an isolated interpreter of the target Python
that sees only the package's own files, bootstrapped by awslambdaric), asked over a real function
URL to predict every probe row, and its answers are compared with scikit-learn's.
"""

from __future__ import annotations

import json
import math
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REGRESSION_RTOL = 1e-9
PROBABILITY_ATOL = 1e-9


@dataclass
class Verification:
    """What verification did and found (stored in build.json)."""

    ok: bool
    rows: int
    interpreter: str
    python: str
    twin: bool
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    label_mismatches: int = 0
    init_ms: float | None = None
    first_request_ms: float | None = None
    detail: str = ""
    checks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    task: str,
    got: list[Any],
    expected: list[Any],
    got_proba: list[list[float]] | None = None,
    expected_proba: list[list[float]] | None = None,
) -> tuple[float, float, int, str]:
    """``(max_abs, max_rel, label_mismatches, first problem or "")`` between two answers."""
    if len(got) != len(expected):
        return math.inf, math.inf, len(expected), f"{len(got)} answers for {len(expected)} rows"
    if task == "classification":
        mismatches = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
        worst = 0.0
        if expected_proba is not None:
            if got_proba is None:
                return math.inf, math.inf, 0, "no probabilities in the answer"
            for a_row, b_row in zip(got_proba, expected_proba, strict=True):
                for a, b in zip(a_row, b_row, strict=True):
                    worst = max(worst, abs(a - b))
        problem = ""
        if mismatches:
            i = mismatches[0]
            problem = f"row {i}: label {got[i]!r}, scikit-learn says {expected[i]!r}"
        elif worst > PROBABILITY_ATOL:
            problem = f"probabilities differ by up to {worst:.3g}"
        return worst, worst, len(mismatches), problem
    scale = max([abs(float(b)) for b in expected] + [1e-300])
    worst_abs = worst_rel = 0.0
    problem = ""
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        err = abs(float(a) - float(b))
        rel = err / max(abs(float(b)), scale)
        worst_abs, worst_rel = max(worst_abs, err), max(worst_rel, rel)
        if rel > REGRESSION_RTOL and not problem:
            problem = f"row {i}: {a!r}, scikit-learn says {b!r} (relative error {rel:.3g})"
    return worst_abs, worst_rel, 0, problem


def _http(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def verify_dist(
    dist: Path,
    *,
    task: str,
    rows: list[dict[str, Any]],
    expected: list[Any],
    expected_proba: list[list[float]] | None,
    python: Path | None,
    twin: bool,
    memory: int = 1024,
    env: dict[str, str] | None = None,
) -> Verification:
    """Serve ``dist`` in the emulator and check its answers against scikit-learn's (``env``:
    the function's environment variables)."""
    from sklambda.local import LocalFunction, LogLine, serve

    log: list[str] = []

    def keep(line: LogLine) -> None:
        if line.stream != "platform":
            log.append(line.text.replace("\r", "\n"))

    with LocalFunction(
        dist, memory=memory, concurrency=1, python=python, timeout=120, on_log=keep, env=env
    ) as function:
        result = Verification(
            ok=False,
            rows=len(rows),
            interpreter=str(function.interpreter.path),
            python=function.interpreter.version,
            twin=twin,
        )
        with serve(function, port=0) as server:
            started = time.perf_counter()
            base = server.url.rstrip("/")
            status, card = _http(base + "/")
            result.first_request_ms = round((time.perf_counter() - started) * 1000, 1)
            if status != 200 or not isinstance(card, dict) or "features" not in card:
                tail = "\n".join(log[-20:])
                result.detail = f"GET / answered {status}: {str(card)[:300]}\n{tail}"
                return result
            result.checks.append("GET / → model card")
            status, spec = _http(base + "/openapi.json")
            if status != 200 or not isinstance(spec, dict) or "openapi" not in spec:
                result.detail = f"GET /openapi.json answered {status}"
                return result
            result.checks.append("GET /openapi.json → OpenAPI document")
            request: dict[str, Any] = {"instances": rows}
            if expected_proba is not None:
                request["return_probabilities"] = True
            status, answer = _http(base + "/predict", "POST", request)
            if status != 200 or not isinstance(answer, dict):
                result.detail = f"POST /predict answered {status}: {str(answer)[:300]}"
                return result
            got_proba = None
            if expected_proba is not None:
                got_proba = [list(p.values()) for p in answer.get("probabilities", [])]
            worst_abs, worst_rel, mismatches, problem = compare(
                task, answer.get("predictions", []), expected, got_proba, expected_proba
            )
            result.max_abs_error, result.max_rel_error = worst_abs, worst_rel
            result.label_mismatches = mismatches
            result.checks.append(f"POST /predict with {len(rows)} rows → compared")
            status, error = _http(base + "/predict", "POST", {"instances": [{}]})
            if status != 400 or "error" not in (error or {}):
                problem = problem or f"a malformed request answered {status}, not 400"
            else:
                result.checks.append("malformed request → 400")
        reports = function.reports
        inits = [r.init_duration_ms for r in reports if r.init_duration_ms is not None]
        result.init_ms = round(inits[0], 1) if inits else None
    result.ok = not problem
    result.detail = problem or "predictions match scikit-learn"
    return result
