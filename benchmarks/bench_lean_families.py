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

A second table times loading a package's parameters (manifest, lean spec and arrays) at INIT
in the ways the standard library offers: JSON (today's ``lean.json``, arrays in ``lean.bin``
read with ``array.frombytes``; or every number in the JSON), ``marshal``, and constants in
shipped bytecode (a sourceless ``.pyc`` module, imported). Each load is timed inside a fresh
process (the interpreter's own start left out: ``json`` is imported first, as the handler
needs it for every request anyway), medians of interleaved runs.

Run: `uv run python benchmarks/bench_lean_families.py [--runs 5] [--loaders-only]` (a few
minutes; `--loaders-only`: the second table alone, for which the first is kept as it was).
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


LOAD = """
import sys, time, json
sys.path[:0] = [{folder!r}]
t = time.perf_counter_ns()
{body}
print((time.perf_counter_ns() - t) / 1000)
"""
LOADERS = {
    "JSON + lean.bin arrays (today)": """
manifest = json.load(open("manifest.json"))
spec = json.load(open("lean.json"))
if spec["binary"]:
    from array import array
    data = open("lean.bin", "rb").read()
    arrays = {}
    for name, (code, offset, length) in spec["binary"].items():
        a = array(code)
        a.frombytes(data[offset : offset + length * a.itemsize])
        arrays[name] = a.tolist()
""",
    "JSON, every number": """
manifest = json.load(open("manifest.json"))
spec = json.load(open("all.json"))
""",
    "marshal": """
import marshal
manifest, spec = marshal.loads(open("all.marshal", "rb").read())
""",
    "constants in bytecode (.pyc)": """
import params
manifest, spec = params.MANIFEST, params.SPEC
""",
}


def _loader_files(folder: Path, model_dir: Path, python: str) -> None:
    """The one package's parameters written in each loader's form."""
    import marshal

    from sklambda.runtime.lean.binary import unpack

    manifest = json.loads((model_dir / "manifest.json").read_text())
    spec = json.loads((model_dir / "lean.json").read_text())
    folder.mkdir()
    for name in ("manifest.json", "lean.json", "lean.bin"):
        if (model_dir / name).exists():
            (folder / name).write_bytes((model_dir / name).read_bytes())
    whole = dict(spec)
    if spec.get("binary"):
        arrays = unpack((model_dir / "lean.bin").read_bytes(), spec["binary"])
        whole["arrays"] = {k: v.tolist() for k, v in arrays.items()}
    (folder / "all.json").write_text(json.dumps(whole, separators=(",", ":")))
    script = (
        "import json, marshal, sys; whole = json.load(open(sys.argv[1])); "
        "manifest = json.load(open(sys.argv[2])); "
        "open(sys.argv[3], 'wb').write(marshal.dumps((manifest, whole)))"
    )
    # marshal's format is the target Python's: written by it.
    subprocess.run(
        [
            python,
            "-I",
            "-c",
            script,
            folder / "all.json",
            folder / "manifest.json",
            folder / "all.marshal",
        ],
        check=True,
    )
    source = f"MANIFEST = {manifest!r}\nSPEC = {whole!r}\n"
    (folder / "params.py").write_text(source)
    subprocess.run(
        [python, "-I", "-m", "compileall", "-q", "-b", str(folder / "params.py")], check=True
    )
    (folder / "params.py").unlink()  # sourceless: the .pyc beside it is what imports
    del marshal


def _kib(folder: Path, *files: str) -> float:
    return sum((folder / f).stat().st_size for f in files if (folder / f).exists()) / 1024


def loaders(python: str, packages: dict[str, Path], runs: int, work: Path) -> str:
    """The parameter-loading table: one row per package, one column per loader (µs)."""
    rows = [
        "| package | " + " | ".join(LOADERS) + " | files (KiB): spec+bin / json / marshal / pyc |",
        "|---|" + "---:|" * (len(LOADERS) + 1),
    ]
    for name, model_dir in packages.items():
        folder = work / f"load-{len(rows)}"
        _loader_files(folder, model_dir, python)
        samples: dict[str, list[float]] = {k: [] for k in LOADERS}
        for _ in range(runs):
            for key, body in LOADERS.items():
                code = LOAD.format(folder=str(folder), body=body)
                out = subprocess.run(
                    [python, "-I", "-S", "-B", "-c", code],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=folder,
                )
                samples[key].append(float(out.stdout.split()[-1]))
        sizes = (
            f"{_kib(folder, 'manifest.json', 'lean.json', 'lean.bin'):.0f} / "
            f"{_kib(folder, 'manifest.json', 'all.json'):.0f} / "
            f"{_kib(folder, 'all.marshal'):.0f} / "
            f"{_kib(folder, 'params.pyc'):.0f}"
        )
        medians = [statistics.median(samples[k]) for k in LOADERS]
        rows.append(f"| {name} | " + " | ".join(f"{m:,.0f}" for m in medians) + f" | {sizes} |")
        print(rows[-1], flush=True)
    return "\n".join(rows) + "\n"


BEFORE = "a2de817"  # main before issue 16's speed work on the lean runtime (tree walk, JSON)


def _old_runtime(rev: str, paths: list[str], into: Path) -> list[str]:
    """A copy of the extracted package whose ``sklambda/runtime`` is the one at ``rev``: the
    same model files, answered by the runtime before the change (warm figures only)."""
    import shutil
    import tarfile
    from io import BytesIO

    archive = subprocess.run(
        ["git", "archive", rev, "src/sklambda/runtime"],
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
        capture_output=True,
    ).stdout
    shutil.copytree(paths[0], into, copy_function=shutil.copy)
    for path in [into, *into.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(into / "sklambda" / "runtime")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into / "old", filter="data")
    shutil.move(into / "old" / "src" / "sklambda" / "runtime", into / "sklambda" / "runtime")
    shutil.rmtree(into / "old")
    return [str(into), *paths[1:]]


def main() -> None:  # noqa: PLR0915 (one benchmark run, top to bottom)
    import sklambda
    from sklambda.building import build

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", default=BEFORE, help="git revision of the runtime before")
    args = parser.parse_args()
    python = _interpreter()
    X, y_reg, y_cls = _data()
    one = _event([X.iloc[0].tolist()])
    thousand = _event(X.iloc[:1000].to_numpy().tolist())
    table = [
        "| model | lean package | (a) ms | lean ms | lean / (a) | (b) sklearn runtime ms "
        "| (b) / lean "
        f"| warm 1 row µs ({args.before} → now) | warm 1,000 rows ms ({args.before} → now) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    loaded: dict[str, Path] = {}
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
            old_paths = _old_runtime(args.before, paths, work / f"o{i}")
            if numpy is not True and not name.startswith(("SVC", "KNeighbors", "GaussianNB")):
                loaded[name] = Path(paths[0]) / "model"
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
            warm = {}
            for key, where in (("old", old_paths), ("new", paths)):  # alternated, twice
                warm[key] = [_warm(python, where, one, 300), _warm(python, where, thousand, 5)]
            for key, where in (("new", paths), ("old", old_paths)):
                again = [_warm(python, where, one, 300), _warm(python, where, thousand, 5)]
                warm[key] = [min(a, b) for a, b in zip(warm[key], again, strict=True)]
            size = sum(a["zipped_bytes"] for a in report["artifacts"].values())
            layer = " (with the numpy layer)" if "layer" in report["artifacts"] else ""
            table.append(
                f"| {name} | {size / 1024:.0f} KiB{layer} | {medians['a']:.0f} | "
                f"{medians['lean']:.0f} | {medians['lean'] / medians['a']:.1f}× | "
                f"{medians['b']:.0f} | **{medians['b'] / medians['lean']:.1f}×** | "
                f"{warm['old'][0]:.0f} → **{warm['new'][0]:.0f}** | "
                f"{warm['old'][1] / 1000:.1f} → **{warm['new'][1] / 1000:.1f}** |"
            )
            print(table[-1], flush=True)
        loading = loaders(python, loaded, max(args.runs, 9), work)
        for path in work.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    body = (
        f"Python {PYTHON}; 8 numeric features, 1,000 training rows, binary labels; packages "
        "built for this Python with bytecode, each cold run a new process over a read-only "
        f"copy of the package; medians of {args.runs} interleaved runs. (b) is the same bundle "
        "built with `--runtime sklearn`. Warm: median handler time in one process (metrics "
        "line on, as deployed), the better of two alternated processes; before → now is the "
        f"same package answered by the runtime at `{args.before}` and by this one. A loaded "
        "machine shared by other jobs: read the ratios. Package size: function.zip plus "
        "layer.zip, zipped.\n\n"
        + "\n".join(table)
        + "\n\nLoading the parameters at INIT, µs inside a fresh process (median of "
        f"{max(args.runs, 9)} interleaved runs per loader):\n\n" + loading
    )
    print(body)
    write_section("bench_lean_families.py", body)


if __name__ == "__main__":
    main()
