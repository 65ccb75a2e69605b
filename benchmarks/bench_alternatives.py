"""Lean side by side with the alternatives a user would pick: ONNX Runtime and m2cgen.

For one representative model per family, four packages of the same fitted model, measured in one
run on this machine's Python (the packages are built for it, bytecode included):

  lean    ``sklambda.build(..., runtime="lean")``: its function.zip (+ layer.zip), the form the
          build chose by measurement;
  ONNX    skl2onnx (onnxmltools for LightGBM) → ``model.onnx``, float32 input, and a minimal
          handler that loads it with onnxruntime; its layer is the site-packages of onnxruntime and
          numpy as pip installs them (not slimmed), compiled to unchecked-hash bytecode;
  m2cgen  ``m2cgen.export_to_python(model)`` as ``m2cgen_model.py`` plus a minimal handler, both
          compiled to unchecked-hash bytecode, no layer. m2cgen does not do pipelines: a
          StandardScaler in front of LinearRegression is folded into its coefficients, one in
          front of an SVC is applied by hand in the handler;
  sk      (cold start only) a handler that imports scikit-learn and ``joblib.load``s the model,
          with this environment's site-packages (bench_lean.py's (b)). sklambda's own scikit-learn
          runtime cannot be built for python3.11 with scikit-learn 1.9 (its wheels need 3.12).

The alternatives' handlers check only the shape of ``instances``; lean's validates every value
(types, ranges, warnings) as it does in production. All answer ``{"predictions": [...]}`` for the
same function-URL event.

  cold   a new process (``python -I -S -B``, only the package on sys.path, a read-only copy)
         → import the handler → first event answered; medians of N runs interleaved with
         ``python -I -S -c pass``, the floor;
  warm   median handler time in one process for a 1-row and a 1,000-row event; each package's
         1,000-row answer is checked against scikit-learn's own predictions.

Run: ``uv run --group bench python benchmarks/bench_alternatives.py [--runs 5] [--quick]``
(``--quick``: three models, one run, not written to RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_lean import SITE, SKLEARN, cold, extract
from bench_lean_families import _data
from results import write_section

from sklambda.local.url_events import post_event

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
PACKAGES = ("lean", "onnx", "m2cgen")
MODULES = {"lean": "sklambda_handler", "onnx": "onnx_handler", "m2cgen": "m2cgen_handler"}

COLD = """
import sys, json
sys.path[:0] = {paths!r}
import {module}
r = {module}.handler(json.loads({event!r}), None)
assert r["statusCode"] == 200, r
"""
WARM = """
import sys, json, time
sys.path[:0] = {paths!r}
import {module}
event = json.loads(open({event_file!r}).read())
for _ in range(3):
    r = {module}.handler(event, None)
times = []
for _ in range({n}):
    t = time.perf_counter_ns()
    r = {module}.handler(event, None)
    times.append(time.perf_counter_ns() - t)
times.sort()
assert r["statusCode"] == 200, r
print(json.dumps([times[len(times) // 2] / 1000, json.loads(r["body"])["predictions"]]))
"""
ONNX_HANDLER = """
import json
import os

import numpy as np
import onnxruntime as ort

_options = ort.SessionOptions()
_options.log_severity_level = 3
_session = ort.InferenceSession(
    os.path.join(os.path.dirname(__file__), "model.onnx"), _options,
    providers=["CPUExecutionProvider"],
)
_INPUT = _session.get_inputs()[0].name
_OUTPUT = [_session.get_outputs()[0].name]
_WIDTH = {width}
_REGRESSION = {regression}


def handler(event, context):
    try:
        rows = np.asarray(json.loads(event["body"])["instances"], dtype=np.float32)
    except (KeyError, TypeError, ValueError) as error:
        return {{"statusCode": 400, "body": json.dumps({{"error": str(error)}})}}
    if rows.ndim != 2 or rows.shape[1] != _WIDTH:
        return {{"statusCode": 400, "body": json.dumps({{"error": "instances: rows of _WIDTH"}})}}
    out = _session.run(_OUTPUT, {{_INPUT: rows}})[0]
    predictions = out[:, 0].tolist() if _REGRESSION else out.tolist()
    return {{
        "statusCode": 200,
        "headers": {{"content-type": "application/json"}},
        "body": json.dumps({{"predictions": predictions}}),
    }}
"""
M2CGEN_HANDLER = """
import json

from m2cgen_model import score

_WIDTH = {width}
_MEAN = {mean!r}
_SCALE = {scale!r}
_CLASSES = {classes!r}


def _predict(row):
    if _MEAN is not None:
        row = [(v - m) / s for v, m, s in zip(row, _MEAN, _SCALE)]
    out = score(row)
{label}


def handler(event, context):
    try:
        rows = json.loads(event["body"])["instances"]
        rows = [[float(v) for v in row] for row in rows]
    except (KeyError, TypeError, ValueError) as error:
        return {{"statusCode": 400, "body": json.dumps({{"error": str(error)}})}}
    if any(len(row) != _WIDTH for row in rows):
        return {{"statusCode": 400, "body": json.dumps({{"error": "instances: rows of _WIDTH"}})}}
    return {{
        "statusCode": 200,
        "headers": {{"content-type": "application/json"}},
        "body": json.dumps({{"predictions": [_predict(row) for row in rows]}}),
    }}
"""
LABELS = {  # how a handler turns m2cgen's score() into the answer
    "value": "    return out",
    "proba": "    return _CLASSES[max(range(len(out)), key=out.__getitem__)]",
    "decision": "    return _CLASSES[1] if out > 0 else _CLASSES[0]",
}
TREES = ("RandomForest", "GradientBoosting", "HistGradientBoosting", "LightGBM")


@dataclass
class Case:
    """One fitted model, its data and its sklambda bundle."""

    name: str
    estimator: Any
    X: Any
    bundle: Path
    classification: bool


@dataclass
class Layer:
    """The ONNX packages' layer: onnxruntime + numpy, unzipped once, shared by every model."""

    path: str
    zipped: int
    unzipped: int


@dataclass
class Row:
    """Everything measured for one model."""

    case: str
    sizes: dict[str, str] = field(default_factory=dict)
    lean_form: str = ""
    lean_layer_bytes: int = 0
    cold: dict[str, float] = field(default_factory=dict)
    warm1: dict[str, float] = field(default_factory=dict)
    warm1000: dict[str, float] = field(default_factory=dict)
    agree: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


# --- models ------------------------------------------------------------------------------------


def _families() -> dict[str, Any]:
    import lightgbm
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    scaled = lambda m: make_pipeline(StandardScaler(), m)  # noqa: E731
    return {
        "RandomForest 100 trees": RandomForestClassifier(
            n_estimators=100, max_depth=10, random_state=0
        ),
        "GradientBoosting 100 trees": GradientBoostingClassifier(n_estimators=100, random_state=0),
        "HistGradientBoosting 100 iter": HistGradientBoostingClassifier(
            max_iter=100, random_state=0
        ),
        "MLP 1×100 (scaled)": scaled(
            MLPClassifier(hidden_layer_sizes=(100,), max_iter=300, random_state=0)
        ),
        "SVC rbf + Platt (scaled)": scaled(SVC(probability=True, random_state=0)),
        "kNN, 1,000 rows stored (scaled)": scaled(KNeighborsClassifier()),
        "GaussianNB": GaussianNB(),
        "LightGBM 100 trees": lightgbm.LGBMClassifier(n_estimators=100, verbose=-1),
    }


SEED = "seed: StandardScaler + LinearRegression"
QUICK = (SEED, "RandomForest 100 trees", "GaussianNB")


def _seed(work: Path) -> Case:
    from sklearn.datasets import load_diabetes

    import sklambda
    from sklambda.cli.demo import make_database

    db = make_database(work / "diabetes.db")
    sklambda.train(str(db), table="patients", target="progression", out=work / "seed")
    model = sklambda.load(work / "seed")
    columns = [f["name"] for f in model.features]
    X = load_diabetes(as_frame=True, scaled=False).data[columns]
    return Case(SEED, model.estimator, X, work / "seed", classification=False)


def _cases(work: Path, names: tuple[str, ...] | None) -> list[Case]:
    import sklambda

    cases = [_seed(work)]
    X, _, y_cls = _data()
    for i, (name, estimator) in enumerate(_families().items()):
        if names is not None and name not in names:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X, y_cls)
        bundle = work / f"bundle{i}"
        sklambda.save(estimator, bundle, X_sample=X.iloc[:50], name=f"m{i}", format="joblib")
        cases.append(Case(name, estimator, X, bundle, classification=True))
    return cases


# --- packages ----------------------------------------------------------------------------------


def _compile(root: Path) -> None:
    """Unchecked-hash bytecode, as sklambda ships: valid after unzipping loses the mtimes."""
    command = [sys.executable, "-m", "compileall", "-q", "-f", "-j", "0"]
    command += ["--invalidation-mode", "unchecked-hash", str(root)]
    subprocess.run(command, check=False, capture_output=True)


def _zip(root: Path, target: Path, prefix: str = "") -> int:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(root).as_posix())
    return target.stat().st_size


def _package(work: Path, name: str, files: dict[str, str | bytes]) -> tuple[list[str], int]:
    """A function.zip of these files (+ bytecode), unzipped read-only; its paths and zipped size."""
    stage = work / f"{name}-stage"
    stage.mkdir()
    for filename, content in files.items():
        mode = "wb" if isinstance(content, bytes) else "w"
        with (stage / filename).open(mode) as handle:
            handle.write(content)
    _compile(stage)
    dist = work / f"{name}-dist"
    dist.mkdir()
    size = _zip(stage, dist / "function.zip")
    return extract(dist, work / f"{name}-run"), size


def _onnx_layer(work: Path) -> Layer:
    """onnxruntime + numpy as installed, bytecode compiled; the path, zipped and unzipped bytes."""
    import numpy
    import onnxruntime

    stage = work / "onnx-layer" / "python"
    site = Path(onnxruntime.__file__).parent.parent
    names = ["onnxruntime", "numpy", "numpy.libs"]
    names += [p.name for p in site.iterdir() if p.name.startswith(("onnxruntime-", "numpy-"))]
    for name in names:
        if (site / name).exists():
            shutil.copytree(site / name, stage / name)
    assert Path(numpy.__file__).parent.parent == site
    _compile(stage)
    zipped = _zip(stage.parent, work / "onnx-layer.zip")
    unzipped = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file())
    for path in stage.parent.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    return Layer(str(stage), zipped, unzipped)


def _to_onnx(estimator: Any, width: int) -> bytes:
    import numpy as np

    if type(estimator).__name__.startswith("LGBM"):
        from onnxmltools.convert import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType

        model = convert_lightgbm(
            estimator, initial_types=[("X", FloatTensorType([None, width]))], zipmap=False
        )
        return bytes(model.SerializeToString())
    import skl2onnx

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    options = {id(final): {"zipmap": False}} if hasattr(final, "classes_") else None
    sample = np.zeros((1, width), dtype=np.float32)
    return bytes(skl2onnx.to_onnx(estimator, sample, options=options).SerializeToString())


def _m2cgen_parts(estimator: Any) -> tuple[Any, Any, Any]:
    """The estimator m2cgen sees, and the scaler's mean and scale applied in the handler."""
    if not hasattr(estimator, "steps"):
        return estimator, None, None
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import StandardScaler

    steps = [s for _, s in estimator.steps]
    if len(steps) != 2 or not isinstance(steps[0], StandardScaler):
        raise NotImplementedError("m2cgen does not do pipelines")
    scaler, final = steps
    if isinstance(final, LinearRegression):  # fold the scaler into the coefficients
        folded = LinearRegression()
        folded.coef_ = final.coef_ / scaler.scale_
        folded.intercept_ = final.intercept_ - float(folded.coef_ @ scaler.mean_)
        return folded, None, None
    return final, scaler.mean_.tolist(), scaler.scale_.tolist()


def _m2cgen_files(case: Case) -> dict[str, str | bytes]:
    import m2cgen

    model, mean, scale = _m2cgen_parts(case.estimator)
    code = m2cgen.export_to_python(model)
    classes = model.classes_.tolist() if case.classification else None
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # which kind of output: a value, probabilities or a decision
    out = namespace["score"]([0.0] * case.X.shape[1])
    kind = "value" if classes is None else "proba" if isinstance(out, list) else "decision"
    handler = M2CGEN_HANDLER.format(
        width=case.X.shape[1], mean=mean, scale=scale, classes=classes, label=LABELS[kind]
    )
    return {"m2cgen_model.py": code, "m2cgen_handler.py": handler}


def _short(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0][:90]}"


def _alternatives(case: Case, work: Path, layer: Layer, row: Row) -> dict[str, list[str]]:
    paths: dict[str, list[str]] = {}
    width = case.X.shape[1]
    warnings.simplefilter("ignore")  # converters' deprecation warnings (SVC's probA_, ...)
    try:
        handler = ONNX_HANDLER.format(width=width, regression=not case.classification)
        files: dict[str, str | bytes] = {"model.onnx": _to_onnx(case.estimator, width)}
        files["onnx_handler.py"] = handler
        task, size = _package(work, "onnx", files)
        paths["onnx"] = [*task, layer.path]
        row.sizes["onnx"] = f"{size / 1024:.0f} KiB + {layer.zipped / 2**20:.1f} MiB layer"
    except Exception as error:  # a converter that fails is a result, reported as such
        row.missing["onnx"] = _short(error)
    try:
        task, size = _package(work, "m2cgen", _m2cgen_files(case))
        paths["m2cgen"] = task
        row.sizes["m2cgen"] = f"{size / 1024:.0f} KiB"
    except Exception as error:
        row.missing["m2cgen"] = _short(error)
    return paths


def _lean(case: Case, work: Path, row: Row) -> list[str]:
    from sklambda.building import build

    dist = build(
        case.bundle, work / "lean-dist", python=PYTHON, trust_pickle=True, runtime="lean"
    ).dist
    report = json.loads((dist / "build.json").read_text())
    artifacts = report["artifacts"]
    size = sum(a["zipped_bytes"] for a in artifacts.values())
    row.lean_layer_bytes = artifacts.get("layer", {}).get("zipped_bytes", 0)
    numpy = "layer" in artifacts
    layer = f" incl. {row.lean_layer_bytes / 2**20:.1f} MiB numpy layer" if numpy else ""
    row.sizes["lean"] = f"{size / 1024:.0f} KiB{layer}"
    row.lean_form = report.get("lean_form", {}).get("chosen", "numpy" if numpy else "python")
    return extract(dist, work / "lean-run")


# --- measuring ---------------------------------------------------------------------------------


def _event(rows: list[list[float]]) -> str:
    return json.dumps(post_event(json.dumps({"instances": rows}).encode()))


def _warm(paths: list[str], module: str, event_file: Path, n: int) -> tuple[float, list[Any]]:
    code = WARM.format(paths=paths, module=module, event_file=str(event_file), n=n)
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], check=True, capture_output=True, text=True
    )
    median, predictions = json.loads(out.stdout.splitlines()[-1])
    return float(median), predictions


def _agreement(expected: Any, got: list[Any], classification: bool) -> str:
    if classification:
        wrong = sum(a != b for a, b in zip(expected.tolist(), got, strict=True))
        return f"{wrong} of {len(got)} labels differ"
    worst = max(abs(a - b) / max(abs(a), 1e-300) for a, b in zip(expected, got, strict=True))
    return f"max rel. error {worst:.1e}"


def measure(case: Case, work: Path, layer: Layer, args: argparse.Namespace) -> Row | str:
    """The model's row, or why lean could not build it (then nothing is measured)."""
    row = Row(case.name)
    try:
        lean = _lean(case, work, row)
    except Exception as error:  # a model lean does not build is a result too
        return f"{case.name}: {_short(error)}"
    paths = {"lean": lean, **_alternatives(case, work, layer, row)}
    one = case.X.iloc[:1].to_numpy().tolist()
    many = case.X.iloc[[i % len(case.X) for i in range(1000)]]
    event = _event(one)
    variants = {"floor": "pass"}
    variants.update(
        {k: COLD.format(paths=p, module=MODULES[k], event=event) for k, p in paths.items()}
    )
    import joblib

    joblib.dump(case.estimator, work / "model.joblib")
    columns = list(case.X.columns)
    variants["sk"] = SKLEARN.format(
        site=SITE, model=str(work / "model.joblib"), columns=columns, event=event
    )
    row.cold = cold(variants, args.runs)
    (work / "one.json").write_text(event)
    (work / "many.json").write_text(_event(many.to_numpy().tolist()))
    expected = case.estimator.predict(many)
    for key, p in paths.items():
        row.warm1[key], _ = _warm(p, MODULES[key], work / "one.json", args.warm_one)
        micros, got = _warm(p, MODULES[key], work / "many.json", args.warm_many)
        row.warm1000[key] = micros / 1000
        row.agree[key] = _agreement(expected, got, case.classification)
    return row


# --- report ------------------------------------------------------------------------------------


def _ms(values: dict[str, float], key: str, digits: int = 0) -> str:
    return f"{values[key]:.{digits}f}" if key in values else "—"


def _ratio(values: dict[str, float], top: str, bottom: str) -> str:
    if top not in values or bottom not in values:
        return "—"
    return f"{values[top] / values[bottom]:.2f}×"


def _cold_table(rows: list[Row]) -> list[str]:
    lines = [
        "| model | lean form | lean zip | ONNX zip | m2cgen zip | floor ms "
        "| lean ms | ONNX ms | m2cgen ms | sk ms | lean / floor | ONNX / lean | m2cgen / lean "
        "| sk / lean |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c = r.cold
        lines.append(
            f"| {r.case} | {r.lean_form} | {r.sizes['lean']} | {r.sizes.get('onnx', '—')} "
            f"| {r.sizes.get('m2cgen', '—')} | {_ms(c, 'floor')} | {_ms(c, 'lean')} "
            f"| {_ms(c, 'onnx')} | {_ms(c, 'm2cgen')} | {_ms(c, 'sk')} "
            f"| {_ratio(c, 'lean', 'floor')} | **{_ratio(c, 'onnx', 'lean')}** "
            f"| **{_ratio(c, 'm2cgen', 'lean')}** | **{_ratio(c, 'sk', 'lean')}** |"
        )
    return lines


def _warm_table(rows: list[Row]) -> list[str]:
    lines = [
        "| model | lean 1 row µs | ONNX µs | m2cgen µs | lean / ONNX | lean / m2cgen "
        "| lean 1,000 rows ms | ONNX ms | m2cgen ms | lean / ONNX | lean / m2cgen |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        a, b = r.warm1, r.warm1000
        lines.append(
            f"| {r.case} | {_ms(a, 'lean')} | {_ms(a, 'onnx')} | {_ms(a, 'm2cgen')} "
            f"| **{_ratio(a, 'lean', 'onnx')}** | **{_ratio(a, 'lean', 'm2cgen')}** "
            f"| {_ms(b, 'lean', 1)} | {_ms(b, 'onnx', 1)} | {_ms(b, 'm2cgen', 1)} "
            f"| **{_ratio(b, 'lean', 'onnx')}** | **{_ratio(b, 'lean', 'm2cgen')}** |"
        )
    return lines


def _agree_table(rows: list[Row]) -> list[str]:
    lines = [
        "| model | lean | ONNX | m2cgen |",
        "|---|---|---|---|",
    ]
    for r in rows:
        cells = [r.agree.get(k) or f"not built: {r.missing.get(k, '?')}" for k in PACKAGES]
        lines.append(f"| {r.case} | " + " | ".join(cells) + " |")
    return lines


def _verdict(ok: bool, detail: str) -> str:
    return f"met ({detail})" if ok else f"**missed** ({detail})"


def _at_most(values: dict[str, float], limit: float = 1.0) -> str:
    """lean ≤ every alternative that built, as the ratios lean / alternative."""
    ratios = {k: values["lean"] / values[k] for k in ("onnx", "m2cgen") if k in values}
    if not ratios:
        return "—"
    detail = ", ".join(f"{v:.2f}× {'ONNX' if k == 'onnx' else k}" for k, v in ratios.items())
    return _verdict(all(v <= limit for v in ratios.values()), detail)


def _goals(r: Row, seed_cold: float | None) -> list[str]:
    c = r.cold
    tree = r.case.startswith(TREES)
    cells = [_at_most(r.warm1), _at_most(r.warm1000)]
    cells.append(
        _verdict(r.warm1["lean"] <= r.warm1["onnx"], f"{r.warm1['lean'] / r.warm1['onnx']:.2f}×")
        if tree and "onnx" in r.warm1
        else "—"
    )
    cells.append(
        _verdict(c["lean"] <= c["m2cgen"], f"{c['lean'] / c['m2cgen']:.2f}×")
        if r.case == SEED and "m2cgen" in c
        else "—"
    )
    cells.append(_verdict(c["sk"] / c["lean"] >= 5, f"{c['sk'] / c['lean']:.1f}×"))
    cells.append(
        _verdict(c["lean"] < c["onnx"], f"{c['onnx'] / c['lean']:.1f}×") if "onnx" in c else "—"
    )
    forest = r.case.startswith(("RandomForest", "GradientBoosting"))
    cells.append(
        _verdict(c["lean"] <= 2 * seed_cold, f"{c['lean'] / seed_cold:.2f}× seed")
        if forest and seed_cold
        else "—"
    )
    mib = r.lean_layer_bytes / 2**20
    cells.append(_verdict(mib <= 12, f"{mib:.1f} MiB") if r.lean_layer_bytes else "—")
    return cells


def _goal_table(rows: list[Row]) -> tuple[list[str], int, int]:
    lines = [
        "| model | warm 1 row ≤ ONNX, m2cgen | warm 1,000 rows ≤ ONNX, m2cgen "
        "| tree warm 1 row ≤ ONNX | linear cold ≤ m2cgen | cold ≥ 5× faster than sk "
        "| cold faster than ONNX | forest/boosting cold ≤ 2× seed | numpy layer ≤ 12 MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    seed_cold = rows[0].cold["lean"] if rows and rows[0].case == SEED else None
    met = missed = 0
    for r in rows:
        cells = _goals(r, seed_cold)
        met += sum(cell.startswith("met") for cell in cells)
        missed += sum(cell.startswith("**missed") for cell in cells)
        lines.append(f"| {r.case} | " + " | ".join(cells) + " |")
    return lines, met, missed


def _span(rows: list[Row], attr: str, top: str, bottom: str) -> str:
    """The range of one ratio over the models that have both numbers, e.g. `0.60–0.83× (4)`."""
    values = [getattr(r, attr) for r in rows]
    ratios = [v[top] / v[bottom] for v in values if top in v and bottom in v]
    if not ratios:
        return "no model"
    return f"{min(ratios):.2f}–{max(ratios):.2f}× over {len(ratios)} models"


def _reading(rows: list[Row]) -> list[str]:
    return [
        "### Reading the ratios",
        "",
        f"- Cold start: ONNX Runtime / lean {_span(rows, 'cold', 'onnx', 'lean')}, "
        f"scikit-learn / lean {_span(rows, 'cold', 'sk', 'lean')}, m2cgen / lean "
        f"{_span(rows, 'cold', 'm2cgen', 'lean')} (< 1×: m2cgen's bytecode starts faster).",
        f"- Warm, 1 row: lean / ONNX Runtime {_span(rows, 'warm1', 'lean', 'onnx')}, lean / "
        f"m2cgen {_span(rows, 'warm1', 'lean', 'm2cgen')} (> 1×: lean slower).",
        f"- Warm, 1,000 rows: lean / ONNX Runtime {_span(rows, 'warm1000', 'lean', 'onnx')}, "
        f"lean / m2cgen {_span(rows, 'warm1000', 'lean', 'm2cgen')}. The alternatives' "
        "handlers check only the shape of the rows; lean's validates each value, which the "
        "issue measured to cost more than the prediction.",
    ]


def _versions() -> str:
    from importlib.metadata import version

    names = ("scikit-learn", "lightgbm", "numpy", "onnxruntime", "skl2onnx", "onnxmltools")
    return ", ".join(f"{n} {version(n)}" for n in (*names, "m2cgen"))


def _body(rows: list[Row], layer: Layer, args: argparse.Namespace, load: str) -> str:
    goals, met, missed = _goal_table(rows)
    intro = (
        f"Python {PYTHON} (the packages are built for it, bytecode included); {_versions()}. "
        f"Load average {load}. The seed model is the demo's diabetes pipeline (10 features); "
        "the others are fitted on 1,000 seeded synthetic rows, 8 numeric features, binary "
        "string labels (bench_lean_families.py's data). Cold: medians of "
        f"{args.runs} interleaved fresh processes per model (`python -I -S -B`, only the "
        "package on sys.path, read-only); warm: medians of "
        f"{args.warm_one} (1 row) and {args.warm_many} (1,000 rows) handler calls in one "
        "process, validation and response JSON included. A loaded 2-core machine shared with "
        "other jobs: read the ratios, not the milliseconds.\n\n"
        '- **lean**: `sklambda.build(..., runtime="lean")`, the form the build chose by '
        "measurement (python = stdlib arrays, no layer); size = function.zip + layer.zip.\n"
        "- **ONNX**: skl2onnx (onnxmltools for LightGBM), float32 input, a minimal onnxruntime "
        "handler (shape check only); its layer, onnxruntime + numpy as pip installs them, is "
        f"**{layer.zipped / 2**20:.1f} MiB zipped, {layer.unzipped / 2**20:.0f} MiB unzipped** "
        "(the same for every model, not slimmed); onnxruntime's default thread pool (one "
        "thread per core).\n"
        "- **m2cgen**: `export_to_python` code + a minimal handler (shape check only), both as "
        "unchecked-hash bytecode, no layer. m2cgen does not do pipelines: the seed's "
        "StandardScaler is folded into LinearRegression's coefficients, SVC's is applied by "
        "hand in the handler. It has no converter for scikit-learn's GradientBoosting, "
        "HistGradientBoosting, MLP, kNN or naive Bayes (NotImplementedError: '—' below). "
        "SVC's probability=True (Platt) is ignored: m2cgen gives the decision value.\n"
        "- **sk**: a handler importing scikit-learn and joblib-loading the model with this "
        "environment's site-packages (bench_lean.py's (b)); sklambda's scikit-learn runtime "
        "cannot be built for python3.11 with scikit-learn 1.9 (no wheels).\n"
        "- **floor**: `python -I -S -c pass`.\n"
    )
    return "\n".join(
        [
            intro,
            "### Size and cold start (process start → first answer)",
            "",
            *_cold_table(rows),
            "",
            "Ratios > 1× in the last three columns: lean starts faster.",
            "",
            "### Warm latency (handler, one process)",
            "",
            *_warm_table(rows),
            "",
            "Ratios ≤ 1×: lean at least as fast.",
            "",
            "### Agreement with scikit-learn's predictions on the 1,000-row event",
            "",
            *_agree_table(rows),
            "",
            "### Issue 16's goals",
            "",
            *goals,
            "",
            f"**{met} met, {missed} missed** ('—': the goal does not apply or the alternative "
            "has no converter for the model). Ratios within ~10% of 1× are inside this "
            "machine's noise.",
            "",
            *_reading(rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warm-one", type=int, default=300)
    parser.add_argument("--warm-many", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="three models, one run, no RESULTS")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.warm_one, args.warm_many = 1, 30, 1
    start = os.getloadavg()
    rows: list[Row] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        layer = _onnx_layer(work)
        for i, case in enumerate(_cases(work, QUICK if args.quick else None)):
            (work / f"case{i}").mkdir()
            row = measure(case, work / f"case{i}", layer, args)
            if isinstance(row, str):
                skipped.append(row)
                print("lean not built:", row, flush=True)
                continue
            rows.append(row)
            print(_cold_table(rows)[-1], _warm_table(rows)[-1], sep="\n", flush=True)
        for path in work.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    end = os.getloadavg()
    load = f"{start[0]:.2f} at the start, {end[0]:.2f} at the end (1-minute)"
    body = _body(rows, layer, args, load)
    if skipped:
        body += "\n\nNot measured (lean did not build them):\n" + "".join(
            f"\n- {s}" for s in skipped
        )
    print(body)
    if not args.quick:
        write_section("bench_alternatives.py", body)


if __name__ == "__main__":
    main()
