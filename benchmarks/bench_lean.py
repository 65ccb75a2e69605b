"""Lean runtime: package size, cold start and warm latency, side by side with scikit-learn.

Cold start = a new process → import the handler → first function-URL event answered, timed from
outside the process (median of N runs each, interleaved so machine noise hits every variant):

  (a) `python -I -S -c pass`: the floor, an interpreter that does nothing;
  (lean) the built function.zip (+ layer.zip) with only its own files on sys.path;
  (b) a handler that imports scikit-learn and `joblib.load`s the same pipeline.

All variants run on the same interpreter (this machine's, which the packages are built for).
Run: `uv run python benchmarks/bench_lean.py [--runs 20]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import write_section

from sklambda.local.url_events import post_event

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
SITE = [p for p in sys.path if p.endswith("site-packages")]

LEAN = """
import sys, json
sys.path[:0] = {paths!r}
import sklambda_handler
r = sklambda_handler.handler(json.loads({event!r}), None)
assert r["statusCode"] == 200, r
"""
SKLEARN = """
import sys, json
sys.path[:0] = {site!r}
import joblib, pandas as pd
model = joblib.load({model!r})
def handler(event, context):
    body = json.loads(event["body"])
    frame = pd.DataFrame(body["instances"], columns={columns!r})
    out = model.predict(frame)
    return {{"statusCode": 200, "body": json.dumps({{"predictions": out.tolist()}})}}
r = handler(json.loads({event!r}), None)
assert r["statusCode"] == 200, r
"""
WARM = """
import sys, json, time
sys.path[:0] = {paths!r}
import sklambda_handler
event = json.loads({event!r})
for _ in range(200):
    sklambda_handler.handler(event, None)
times = []
for _ in range({n}):
    t = time.perf_counter_ns()
    sklambda_handler.handler(event, None)
    times.append(time.perf_counter_ns() - t)
times.sort()
print(times[len(times) // 2] / 1000)
"""


def run(script: str) -> float:
    start = time.perf_counter()
    # -B: nothing may write bytecode, as on Lambda's read-only disk (root ignores chmod).
    subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", script], check=True, capture_output=True
    )
    return (time.perf_counter() - start) * 1000


def extract(dist: Path, into: Path) -> list[str]:
    paths = [into / "task"]
    zipfile.ZipFile(dist / "function.zip").extractall(into / "task")
    if (dist / "layer.zip").exists():
        zipfile.ZipFile(dist / "layer.zip").extractall(into / "opt")
        paths.append(into / "opt" / "python")
    for path in into.rglob("*"):  # read-only, as in Lambda: no bytecode can be written
        path.chmod(0o555 if path.is_dir() else 0o444)
    return [str(p) for p in paths]


def cold(variants: dict[str, str], runs: int) -> dict[str, float]:
    for script in variants.values():  # warm the OS file cache and any writable bytecode cache
        run(script)
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(runs):
        for key, script in variants.items():
            samples[key].append(run(script))
    return {k: statistics.median(v) for k, v in samples.items()}


def seed(work: Path, runs: int) -> tuple[str, dict[str, float]]:
    import joblib

    import sklambda
    from sklambda.building import build
    from sklambda.cli.demo import make_database

    db = make_database(work / "diabetes.db")
    sklambda.train(str(db), table="patients", target="progression", out=work / "seed")
    dist = build(work / "seed", work / "seed-dist", python=PYTHON).dist
    model = sklambda.load(work / "seed")
    joblib.dump(model.estimator, work / "seed.joblib")
    columns = [f["name"] for f in model.features]
    event = json.dumps(
        post_event(
            json.dumps({"instances": [[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]]}).encode()
        )
    )
    paths = extract(dist, work / "seed-run")
    medians = cold(
        {
            "a": "pass",
            "json": "import json",
            "lean": LEAN.format(paths=paths, event=event),
            "b": SKLEARN.format(
                site=SITE, model=str(work / "seed.joblib"), columns=columns, event=event
            ),
        },
        runs,
    )
    warm_us = float(
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", WARM.format(paths=paths, event=event, n=5000)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]  # after the handler's own lines (its EMF metrics)
    )
    size = (dist / "function.zip").stat().st_size
    lines = [
        "### Seed model (StandardScaler + LinearRegression, 10 features)",
        "",
        f"`function.zip`: **{size / 1024:.1f} KiB** (budget 100 KiB), no layer.",
        "",
        "| cold start (process → first function-URL answer) | median ms | vs (a) |",
        "|---|---:|---:|",
        f"| (a) `python -I -S -c pass` | {medians['a']:.1f} | 1.00× |",
        f"| `python -I -S -c 'import json'` (floor of any JSON handler) | {medians['json']:.1f} | "
        f"{medians['json'] / medians['a']:.2f}× |",
        f"| lean package | {medians['lean']:.1f} | {medians['lean'] / medians['a']:.2f}× |",
        f"| (b) scikit-learn + joblib handler | {medians['b']:.1f} | "
        f"{medians['b'] / medians['a']:.2f}× |",
        "",
        f"- lean / (a) = **{medians['lean'] / medians['a']:.2f}×** (target ≤ 2×); above the "
        f"`import json` floor the whole handler adds {medians['lean'] - medians['json']:.1f} ms",
        f"- (b) / lean = **{medians['b'] / medians['lean']:.1f}×** faster (target ≥ 20×)",
        f"- warm: median handler time for a one-row function-URL event = **{warm_us:.1f} µs** "
        "(target ≤ 100 µs; event parsing, validation, prediction and response JSON included)",
    ]
    return "\n".join(lines), medians


def mlp_ladder(work: Path, runs: int) -> str:
    import warnings

    import joblib
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    import sklambda
    from sklambda.building import build

    X, y = load_iris(return_X_y=True, as_frame=True)
    event = json.dumps(post_event(json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()))
    rows = [
        "### MLPClassifier on iris, three hidden layers of N units",
        "",
        "| N | joblib file | lean function.zip | lean layer.zip (numpy) | (a) ms | lean ms "
        "| (b) ms | (b) / lean |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in (100, 250, 500, 750, 900):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe = Pipeline(
                [
                    ("s", StandardScaler()),
                    ("m", MLPClassifier(hidden_layer_sizes=(n, n, n), max_iter=30, random_state=0)),
                ]
            ).fit(X, y)
        bundle = work / f"mlp{n}"
        sklambda.save(pipe, bundle, X_sample=X, name=f"mlp{n}")
        dist = build(bundle, work / f"mlp{n}-dist", python=PYTHON).dist
        joblib.dump(pipe, work / f"mlp{n}.joblib")
        paths = extract(dist, work / f"mlp{n}-run")
        medians = cold(
            {
                "a": "pass",
                "lean": LEAN.format(paths=paths, event=event),
                "b": SKLEARN.format(
                    site=SITE,
                    model=str(work / f"mlp{n}.joblib"),
                    columns=list(X.columns),
                    event=event,
                ),
            },
            runs,
        )
        mib = lambda p: f"{p.stat().st_size / 2**20:.2f} MiB"  # noqa: E731
        rows.append(
            f"| {n} | {mib(work / f'mlp{n}.joblib')} | {mib(dist / 'function.zip')} | "
            f"{mib(dist / 'layer.zip')} | {medians['a']:.0f} | {medians['lean']:.0f} | "
            f"{medians['b']:.0f} | **{medians['b'] / medians['lean']:.1f}×** |"
        )
    rows += ["", "Target: lean ≥ 5× faster than (b) at every size."]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed-only", action="store_true", help="skip the MLP ladder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seed_text, _ = seed(work, args.runs)
        ladder = "" if args.seed_only else mlp_ladder(work, max(5, args.runs // 2))
        for path in work.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    body = (
        f"Python {PYTHON}, packages built for python{PYTHON} with bytecode; each run a new "
        "process over a read-only copy of the package. "
        f"Medians of {args.runs} interleaved runs (MLP: {max(5, args.runs // 2)}).\n\n"
        f"{seed_text}\n\n{ladder}\n"
    )
    print(body)
    if not args.seed_only:
        write_section("bench_lean.py", body)


if __name__ == "__main__":
    main()
