"""``make fuzz``: schemathesis against the served OpenAPI document of a lean and a scikit-learn
package in the emulator, ≥ 10,000 generated requests each; the counts and findings go to
``benchmarks/RESULTS.md``.

Usage: ``uv run python benchmarks/fuzz_openapi.py [--cases N]``. Exit code 1 when any request got
a 5xx or an undocumented answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).parent))
from results import write_section
from tests.support.fuzzing import FuzzOutcome, fuzz


def packages(root: Path) -> dict[str, Path]:
    """The diabetes regression as a lean package; the houses classifier with scikit-learn."""
    import sqlite3

    import numpy as np
    import pandas as pd

    import sklambda
    from sklambda.building import build
    from sklambda.cli.demo import make_database

    diabetes = make_database(root / "diabetes.db")
    sklambda.train(str(diabetes), table="patients", target="progression", out=root / "lean-b")
    rng = np.random.default_rng(7)
    n = 240
    frame = pd.DataFrame(
        {
            "rooms": rng.integers(1, 7, n).astype(float),
            "area": rng.normal(90, 25, n).round(1),
            "district": rng.choice(["north", "south", "centre"], n),
        }
    )
    frame["band"] = np.where(frame["area"] + 10 * frame["rooms"] > 120, "high", "low")
    with sqlite3.connect(root / "houses.db") as conn:
        frame.to_sql("houses", conn, index=False)
    sklambda.train(str(root / "houses.db"), table="houses", target="band", out=root / "sk-b")
    return {
        "lean (diabetes regression)": build(root / "lean-b", root / "lean").dist,
        "scikit-learn (houses classifier)": build(
            root / "sk-b", root / "sk", runtime="sklearn", python="3.12"
        ).dist,
    }


def main() -> int:
    from sklambda.local import serve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="requests per package")
    args = parser.parse_args()
    results: dict[str, tuple[FuzzOutcome, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, dist in packages(Path(scratch)).items():
            with serve(dist, port=0, concurrency=2, timeout=30) as server:
                start = time.perf_counter()
                outcome = fuzz(server.url, args.cases)
                results[name] = (outcome, time.perf_counter() - start)
            print(f"{name}: {outcome.summary()}", flush=True)
    lines = [
        "schemathesis (positive and negative generation) against `GET /openapi.json` of each "
        "package served by `sklambda.local.serve`; checks: no 5xx, documented status, content "
        "type and response schema.",
        "",
        "| package | requests | 5xx | failed checks | statuses | seconds |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, (outcome, seconds) in results.items():
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(outcome.statuses.items()))
        lines.append(
            f"| {name} | {outcome.cases:,} | {outcome.server_errors} | {outcome.failure_count} "
            f"| {statuses} | {seconds:.0f} |"
        )
    total = sum(o.cases for o, _ in results.values())
    bad = sum(o.failure_count for o, _ in results.values())
    lines += ["", f"- **{total:,} requests, {bad} failed checks**"]
    for name, (outcome, _) in results.items():
        for failure in outcome.failures[:3]:
            lines.append(f"- {name}: `{json.dumps(failure)[:400]}`")
    body = "\n".join(lines)
    print(body)
    write_section("fuzz_openapi.py", body)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
