"""Lean runtime per model family: package size, cold start, warm latency; tree forms.

For one representative model per family (fitted here on seeded synthetic data, 8 features),
side by side with scikit-learn:

  size   function.zip (+ layer.zip when the form needs numpy);
  cold   a new process → import the handler → first function-URL event answered (median of
         N interleaved runs): (a) `python -I -S -c pass`, the lean package, (b) the same
         bundle built with `--runtime sklearn` (slimmed scikit-learn layer, sourceless .pyc);
  warm   median handler time in one process for a 1-row and a 1,000-row event (validation,
         prediction and response JSON included).

Trees are built in both lean forms (stdlib arrays and numpy) to compare them.
Run: `uv run python benchmarks/bench_lean_families.py [--runs 5]` (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import statistics
import time

from bench_lean import LEAN, extract
from results import write_section

from sklambda.local.url_events import post_event

WARM = """
import sys, json, time
sys.path[:0] = {paths!r}
import sklambda_handler
event = json.loads(open({event_file!r}).read())
for _ in range(3):
    sklambda_handler.handler(event, None)
times = []
for _ in range({n}):
    t = time.perf_counter_ns()
    sklambda_handler.handler(event, None)
    times.append(time.perf_counter_ns() - t)
times.sort()
print(times[len(times) // 2] / 1000)
"""
FEATURES = [f"x{i}" for i in range(8)]
# Lambda's scikit-learn layer needs Amazon Linux 2023 (python3.12+) for current releases; every
# variant is built for and run on the same python3.12, bytecode included.
PYTHON = "3.12"


def _interpreter() -> str:
    from sklambda.local.interpreters import find_interpreter

    found = find_interpreter(PYTHON)
    if found is None:
        raise SystemExit(f"python{PYTHON} is needed (pyenv install {PYTHON})")
    return str(found.path)


def run(python: str, script: str) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-I", "-S", "-B", "-c", script], check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def cold(python: str, variants: dict[str, str], runs: int) -> dict[str, float]:
    for script in variants.values():  # warm the OS file cache
        run(python, script)
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(runs):
        for key, script in variants.items():
            samples[key].append(run(python, script))
    return {k: statistics.median(v) for k, v in samples.items()}


def _data() -> tuple[Any, Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(1000, len(FEATURES))), columns=FEATURES)
    y_reg = X["x0"] * 2 + X["x1"] ** 2 + rng.normal(size=len(X)) * 0.3
    y_cls = np.where(y_reg > np.median(y_reg), "high", "low")
    return X, y_reg, y_cls


def _models() -> dict[str, tuple[Any, str, bool | None]]:
    """name → (unfitted estimator, target, numpy form)."""
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import SGDClassifier
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    scaled = lambda m: make_pipeline(StandardScaler(), m)  # noqa: E731
    forest = lambda: RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0)  # noqa: E731
    boosting = lambda: GradientBoostingClassifier(n_estimators=100, random_state=0)  # noqa: E731
    return {
        "SGDClassifier (log loss)": (
            scaled(SGDClassifier(loss="log_loss", random_state=0)),
            "cls",
            None,
        ),
        "HistGradientBoostingClassifier (100 iter)": (
            HistGradientBoostingClassifier(max_iter=100, random_state=0),
            "cls",
            None,
        ),
        "SVC rbf + Platt": (scaled(SVC(probability=True, random_state=0)), "cls", None),
        "KNeighborsClassifier (1,000 rows stored)": (scaled(KNeighborsClassifier()), "cls", None),
        "GaussianNB": (GaussianNB(), "cls", None),
        "RandomForest 100 trees, stdlib form": (forest(), "cls", False),
        "RandomForest 100 trees, numpy form": (forest(), "cls", True),
        "GradientBoosting 100 trees, stdlib form": (boosting(), "cls", False),
        "GradientBoosting 100 trees, numpy form": (boosting(), "cls", True),
    }


def _event(rows: list[list[float]]) -> str:
    return json.dumps(post_event(json.dumps({"instances": rows}).encode()))


def _warm(python: str, paths: list[str], event: str, n: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(event)  # a 1,000-row event is too long for a command line
    code = WARM.format(paths=paths, event_file=handle.name, n=n)
    out = subprocess.run(
        [python, "-I", "-S", "-c", code],
        check=True,
        capture_output=True,
        text=True,
    )
    Path(handle.name).unlink()
    return float(out.stdout.splitlines()[-1])


def main() -> None:
    import sklambda
    from sklambda.building import build

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = _interpreter()
    X, y_reg, y_cls = _data()
    one = _event([X.iloc[0].tolist()])
    thousand = _event(X.iloc[:1000].to_numpy().tolist())
    table = [
        "| model | lean package | (a) ms | lean ms | lean / (a) | (b) sklearn runtime ms "
        "| (b) / lean "
        "| warm 1 row µs | warm 1,000 rows ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for i, (name, (estimator, target, numpy)) in enumerate(_models().items()):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimator.fit(X, y_cls if target == "cls" else y_reg)
            bundle = work / f"m{i}"
            sklambda.save(estimator, bundle, X_sample=X.iloc[:50], name=f"m{i}", format="joblib")
            dist = build(bundle, work / f"d{i}", python=PYTHON, trust_pickle=True, numpy=numpy).dist
            report = json.loads((dist / "build.json").read_text())
            assert report["runtime"] == "lean", (name, report["notes"])
            sk_dist = build(
                bundle, work / f"s{i}", python=PYTHON, trust_pickle=True, runtime="sklearn"
            ).dist
            paths = extract(dist, work / f"r{i}")
            sk_paths = extract(sk_dist, work / f"sr{i}")
            medians = cold(
                python,
                {
                    "a": "pass",
                    "lean": LEAN.format(paths=paths, event=one),
                    "b": LEAN.format(paths=sk_paths, event=one),
                },
                args.runs,
            )
            warm_one = _warm(python, paths, one, 300)
            warm_many = _warm(python, paths, thousand, 5) / 1000
            size = sum(a["zipped_bytes"] for a in report["artifacts"].values())
            layer = " (with the numpy layer)" if "layer" in report["artifacts"] else ""
            table.append(
                f"| {name} | {size / 1024:.0f} KiB{layer} | {medians['a']:.0f} | "
                f"{medians['lean']:.0f} | {medians['lean'] / medians['a']:.1f}× | "
                f"{medians['b']:.0f} | **{medians['b'] / medians['lean']:.1f}×** | "
                f"{warm_one:.0f} | {warm_many:.1f} |"
            )
            print(table[-1], flush=True)
        for path in work.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    body = (
        f"Python {PYTHON}; 8 numeric features, 1,000 training rows, binary labels; packages "
        "built for this Python with bytecode, each cold run a new process over a read-only "
        f"copy of the package; medians of {args.runs} interleaved runs. (b) is the same bundle "
        "built with `--runtime sklearn`. A loaded machine shared by other jobs: read "
        "the ratios. Package size: function.zip plus layer.zip, zipped.\n\n"
        + "\n".join(table)
        + "\n"
    )
    print(body)
    write_section("bench_lean_families.py", body)


if __name__ == "__main__":
    main()
