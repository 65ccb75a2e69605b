"""Schema-driven fuzzing of a served model with schemathesis: the service's own OpenAPI document.

``fuzz(url, cases)`` reads ``GET /openapi.json`` from a running function URL (the emulator's),
generates requests for every operation — valid ones and, as many, ones that break the schema —
sends them over HTTP and checks every answer: no 5xx, a documented status, the documented content
type and a body matching the documented schema. Used by the bounded test in
``tests/local/test_fuzz.py`` and by ``make fuzz`` (``benchmarks/fuzz_openapi.py``).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FuzzOutcome", "fuzz"]


@dataclass
class FuzzOutcome:
    """What a fuzz run sent and what went wrong (at most a few examples per kind)."""

    url: str
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    failure_count: int = 0
    server_errors: int = 0

    def summary(self) -> str:
        by_status = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.cases} requests, {self.server_errors} 5xx, {self.failure_count} failed checks "
            f"(statuses {by_status})"
        )


def fuzz(url: str, cases: int, *, seed: int = 0, keep: int = 20) -> FuzzOutcome:
    """Send about ``cases`` generated requests to the service at ``url``; never raises on findings.

    Half of each operation's budget is schema-conformant data, half schema-breaking data
    (schemathesis' negative mode): both must be answered without a 5xx and as documented.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode, openapi
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    base = url.rstrip("/")
    with urllib.request.urlopen(f"{base}/openapi.json", timeout=60) as response:
        document = json.loads(response.read())
    schema = openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    outcome = FuzzOutcome(url=url)
    import requests

    session = requests.Session()
    # Operations without inputs (GET /) have a single case; the budget goes to those with a body.
    with_inputs = [op for op in operations if op.body or op.query]
    budget_ops = with_inputs or operations
    rounds = 0
    while outcome.cases < cases and rounds < 50:
        remaining = cases - outcome.cases
        per_strategy = max(1, remaining // (2 * len(budget_ops)))
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                examples = per_strategy if operation in budget_ops else 2
                if mode is GenerationMode.NEGATIVE and operation not in with_inputs:
                    continue

                @hypothesis_seed(seed + rounds)
                @settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                    print_blob=False,
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case: Any) -> None:
                    response = case.call(base_url=base, session=session, timeout=60)
                    outcome.cases += 1
                    status = response.status_code
                    outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
                    if status >= 500:
                        outcome.server_errors += 1
                    try:
                        case.validate_response(response, checks=checks)
                    except (Exception, BaseExceptionGroup) as exc:  # a check failed
                        outcome.failure_count += 1
                        if len(outcome.failures) < keep:
                            outcome.failures.append(
                                {
                                    "operation": case.operation.label,
                                    "mode": case.meta.generation.mode.value if case.meta else "?",
                                    "status": status,
                                    "body": _short(case.body),
                                    "answer": response.text[:300],
                                    "check": _titles(exc),
                                }
                            )

                run()
        rounds += 1
    return outcome


def _titles(exc: BaseException) -> str:
    found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    return "; ".join(str(getattr(f, "title", None) or f).splitlines()[0][:200] for f in found)


def _short(body: Any) -> str:
    try:
        text = json.dumps(body)
    except (TypeError, ValueError):
        text = repr(body)
    return text if len(text) <= 300 else text[:300] + "…"
