"""Prove a built package before it is called built.

The package is cold-started in the local emulator (an isolated interpreter of the target Python
that sees only the package's own files, bootstrapped by awslambdaric), asked over a real function
URL to predict every probe row, and its answers are compared with scikit-learn's by the one rule
of :func:`sklambda.lean.equivalence.compare`.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.dist import BUILD_JSON, FUNCTION_ZIP, IMAGE_DIR, LAYER_ZIP

if TYPE_CHECKING:
    from sklambda.building.layer import Layers
    from sklambda.building.machines import Machines
    from sklambda.building.probe import Probe
    from sklambda.building.targets import Target
    from sklambda.dist import BuildReport


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


def _check_documents(base: str, result: Verification, log: list[str]) -> bool:
    """``GET /`` (the model card) and ``GET /openapi.json``; False with ``result.detail`` set."""
    started = time.perf_counter()
    status, card = _http(base + "/")
    result.first_request_ms = round((time.perf_counter() - started) * 1000, 1)
    if status != 200 or not isinstance(card, dict) or "features" not in card:
        tail = "\n".join(log[-20:])
        result.detail = f"GET / answered {status}: {str(card)[:300]}\n{tail}"
        return False
    result.checks.append("GET / → model card")
    status, spec = _http(base + "/openapi.json")
    if status != 200 or not isinstance(spec, dict) or "openapi" not in spec:
        result.detail = f"GET /openapi.json answered {status}"
        return False
    result.checks.append("GET /openapi.json → OpenAPI document")
    return True


def _check_predictions(
    base: str,
    result: Verification,
    *,
    task: str,
    rows: list[dict[str, Any]],
    expected: list[Any],
    expected_proba: list[list[float]] | None,
) -> str | None:
    """``POST /predict`` compared with scikit-learn, then a malformed request.

    Returns the first problem ("" for none), or None with ``result.detail`` set when the
    function did not answer at all.
    """
    from sklambda.lean.equivalence import compare

    request: dict[str, Any] = {"instances": rows}
    if expected_proba is not None:
        request["return_probabilities"] = True
    status, answer = _http(base + "/predict", "POST", request)
    if status != 200 or not isinstance(answer, dict):
        result.detail = f"POST /predict answered {status}: {str(answer)[:300]}"
        return None
    got_proba = None
    if expected_proba is not None:
        got_proba = [list(p.values()) for p in answer.get("probabilities", [])]
    found = compare(task, answer.get("predictions", []), expected, got_proba, expected_proba)
    problem = found.problem
    result.max_abs_error, result.max_rel_error = found.max_abs_error, found.max_rel_error
    result.label_mismatches = found.label_mismatches
    result.checks.append(f"POST /predict with {len(rows)} rows → compared")
    status, error = _http(base + "/predict", "POST", {"instances": [{}]})
    if status != 400 or "error" not in (error or {}):
        problem = problem or f"a malformed request answered {status}, not 400"
    else:
        result.checks.append("malformed request → 400")
    return problem


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
            base = server.url.rstrip("/")
            if not _check_documents(base, result, log):
                return result
            problem = _check_predictions(
                base, result, task=task, rows=rows, expected=expected, expected_proba=expected_proba
            )
            if problem is None:
                return result
        reports = function.reports
        inits = [r.init_duration_ms for r in reports if r.init_duration_ms is not None]
        result.init_ms = round(inits[0], 1) if inits else None
    result.ok = not problem
    result.detail = problem or "predictions match scikit-learn"
    return result


def _what_to_run(
    dist: Path,
    staging: Path,
    report: BuildReport,
    *,
    image: bool,
    machines: Machines,
    layers: Layers,
) -> Path:
    """The directory the emulator runs: the package, its image's tree, or its twin."""
    verify_at = dist
    if image:
        # The image's own file tree, run as the emulator runs a zip: what ships is proven.
        from sklambda.building.zips import write_zip

        verify_at = staging / "image-as-zip"
        verify_at.mkdir()
        as_zip = write_zip(dist / IMAGE_DIR / "task", verify_at / FUNCTION_ZIP)
        # What the emulator runs must match the build.json beside it (local/dist checks).
        zipped = {"function": as_zip.to_dict()}
        (verify_at / BUILD_JSON).write_text(json.dumps({**report, "artifacts": zipped}))
    if machines.twin:
        verify_at = staging / "twin"
        verify_at.mkdir()
        shutil.copy2(dist / FUNCTION_ZIP, verify_at / FUNCTION_ZIP)
        twin_artifacts = {"function": report["artifacts"]["function"]}
        if layers.twin is not None:
            shutil.copy2(layers.twin.artifact.path, verify_at / LAYER_ZIP)
            twin_artifacts["layer"] = layers.twin.artifact.to_dict()
        twin_report = {**report, "python": machines.here.python, "artifacts": twin_artifacts}
        (verify_at / BUILD_JSON).write_text(json.dumps(twin_report))
    return verify_at


def prove(
    dist: Path,
    staging: Path,
    report: BuildReport,
    *,
    task: str,
    probe: Probe,
    tgt: Target,
    image: bool,
    machines: Machines,
    layers: Layers,
    notes: list[str],
    env: dict[str, str] | None = None,
) -> Verification:
    """Verify the staged package (or what stands for it here); a BuildError when it fails.

    ``env``: the function's environment (a model kept in S3 is read from the staged files)."""
    from sklambda.errors import BuildError

    verify_at = _what_to_run(dist, staging, report, image=image, machines=machines, layers=layers)
    if machines.twin:
        here = machines.here
        notes.append(
            f"verified a twin for python{here.python} on {here.arch} (the same function code "
            f"and package releases): {machines.why_twin(tgt)}"
        )
    verification = verify_dist(
        verify_at,
        task=task,
        rows=probe.rows,
        expected=probe.expected,
        expected_proba=probe.expected_proba,
        python=None,
        twin=machines.twin,
        env=env,
    )
    if not verification.ok:
        raise BuildError(
            f"the package failed verification ({verification.detail}); nothing was written"
        )
    return verification
