"""The published experiment, reproduced: cold starts by model size, CPU share, and the cost claim.

Three measurements, side by side in one run, all through ``sklambda.bench`` (the local emulator,
each cold start a fresh environment, Lambda's CPU share per memory size applied with a cgroup
CPU quota):

1. **CPU share**: the seed model and an MLP (3 × 100, iris) at 128 MB and at 1,769 MB (one full
   vCPU) — the wall-time ratio of their cold starts, and the kernel's throttling counters;
2. **model size**: MLPClassifier with 3 hidden layers of 100 / 250 / 500 / 750 / 900 units on
   iris at 1,024 MB, as scikit-learn-runtime packages and as lean packages, beside the figures
   model-zoo's scikit-learn-lambda published for the same models (real Lambda, 2020,
   scikit-learn layer, joblib files);
3. **the seed article's cost claim** — "Lambda saves up to 95 % below ~2M predictions a month
   against an always-on ml.t2.medium" — recomputed with today's prices (``sklambda.cost``) at
   the measured latencies.

Bounded: a few cold starts per package. Run: ``uv run python benchmarks/bench_published.py
[--cold 3 --warm 10]``; writes its section of RESULTS.md and ``published.png``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from results import RESULTS, write_section

import sklambda

PYTHON = "3.12"
SIZES = (100, 250, 500, 750, 900)
CHART = RESULTS.with_name("published.png")
# model-zoo/scikit-learn-lambda's README, measured on AWS Lambda at 1,024 MB in 2020
# (shared/reference/lambda.md): joblib file MB, cold start s, warm ms.
PUBLISHED = {
    100: (0.68, 2.15, 2.1),
    250: (4.08, 2.4, 2.3),
    500: (16.17, 2.75, 4.5),
    750: (36.25, 4.2, 2.8),
    900: (52.13, 6.1, 3.05),
}
ARTICLE_REQUESTS = 2_000_000
ARTICLE_MEMORY_MB = 1024


def mlp_bundles(work: Path, sizes: tuple[int, ...]) -> dict[int, Path]:
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True, as_frame=True)
    bundles = {}
    for n in sizes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a few iterations: the size is what matters here
            model = Pipeline(
                [
                    ("scale", StandardScaler()),
                    ("mlp", MLPClassifier((n, n, n), max_iter=30, random_state=0)),
                ]
            ).fit(X, y)
        sklambda.save(model, work / f"mlp{n}", X_sample=X, name=f"mlp{n}")
        bundles[n] = work / f"mlp{n}"
    return bundles


def build(bundle: Path, out: Path, runtime: str) -> Path:
    from sklambda.building import build as build_package

    return build_package(bundle, out, runtime=runtime, python=PYTHON).dist


def progress(event: Any) -> None:
    print(f"  [{event.done}/{event.total}] {event.message}", flush=True)


def cpu_share_section(work: Path, mlp100: Path, cold: int) -> tuple[str, dict[str, Any]]:
    from sklambda.cli.demo import make_database

    db = make_database(work / "diabetes.db")
    sklambda.train(str(db), table="patients", target="progression", out=work / "seed")
    seed = build(work / "seed", work / "seed-dist", "lean")
    lean_mlp = build(mlp100, work / "mlp100-cpu", "lean")
    doc = sklambda.bench(
        [seed, lean_mlp], cold=cold, warm=3, memory=[128, 1769], on_progress=progress
    ).to_json()
    lines = [
        "### 1. Lambda's CPU share: 128 MB against 1,769 MB (one vCPU)",
        "",
        f"Lean packages (python{PYTHON}), {cold} cold starts each, cgroup CPU quota = memory / "
        "1,769 of a CPU period. Cold = INIT + duration from the REPORT line; CPU and throttled "
        "time are the kernel's counters for the environment (`/proc/<pid>/stat`, the group's "
        "`cpu.stat`).",
        "",
        "| package | memory | vCPU | cold p50 ms | CPU ms used | throttled ms | "
        "128 MB / 1,769 MB, wall | (CPU + throttled) / CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios = {}
    names = {"patients": "seed (scaler + linear)", "mlp100": "MLP 3 × 100 (numpy)"}
    for package in doc["packages"]:
        package["name"] = names.get(package["name"], package["name"])
        by_memory = {s["memory_mb"]: s for s in package["sizes"]}
        ratio = by_memory[128]["cold_ms"]["p50"] / by_memory[1769]["cold_ms"]["p50"]
        ratios[package["name"]] = ratio
        for memory in (128, 1769):
            size = by_memory[memory]
            share = size["cpu_share"]
            vcpu = f"{share['vcpus']:.3f}" if share["applied"] else "not throttled"
            cpu, held = size["cold_cpu_ms"]["p50"], size["cold_throttled_ms"]["p50"]
            lines.append(
                f"| {package['name']} | {memory:,} MB | {vcpu} | "
                f"{size['cold_ms']['p50']:,.0f} | {cpu:,.0f} | {held:,.0f} | "
                f"{f'**{ratio:.1f}×**' if memory == 128 else ''} | {(cpu + held) / cpu:.1f}× |"
            )
    applied = all(s["cpu_share"]["applied"] for p in doc["packages"] for s in p["sizes"])
    lines += [
        "",
        "- the 128 MB cold start takes "
        + ", ".join(f"**{r:.1f}×** ({name})" for name, r in ratios.items())
        + " the 1,769 MB one in wall time; the CPU work is the same, and the kernel holds the "
        "128 MB environment back for (1 / 0.072 − 1) × that work — the last column, which does "
        "not depend on what else the machine runs, while the wall-time ratio shrinks when other "
        "processes slow the 1,769 MB run too"
        + ("" if applied else " — **CPU share NOT applied on this machine: ratios meaningless**"),
    ]
    return "\n".join(lines), doc


def model_size_section(
    work: Path, bundles: dict[int, Path], cold: int, warm: int
) -> tuple[str, dict[str, dict[int, dict[str, Any]]]]:
    measured: dict[str, dict[int, dict[str, Any]]] = {"sklearn": {}, "lean": {}}
    largest: dict[str, Path] = {}
    sizes_mib: dict[str, dict[int, float]] = {"sklearn": {}, "lean": {}}
    for runtime in ("sklearn", "lean"):
        dists = []
        for n, bundle in bundles.items():
            print(f"building mlp{n} ({runtime})…", flush=True)
            dist = build(bundle, work / f"mlp{n}-{runtime}", runtime)
            zipped = sum(p.stat().st_size for p in dist.glob("*.zip"))
            sizes_mib[runtime][n] = zipped / 2**20
            dists.append(dist)
        doc = sklambda.bench(
            dists, cold=cold, warm=warm, memory=ARTICLE_MEMORY_MB, on_progress=progress
        ).to_json()
        for n, package in zip(bundles, doc["packages"], strict=True):
            measured[runtime][n] = package["sizes"][0]
        largest[runtime] = dists[-1]
    lines = [
        "### 2. MLPClassifier on iris, 3 hidden layers of N units, at 1,024 MB",
        "",
        f"{cold} cold starts and {warm} warm requests per package, python{PYTHON}, CPU share of "
        "1,024 MB (0.58 vCPU) applied. **Published** = model-zoo's scikit-learn-lambda README, "
        "measured on real AWS Lambda in 2020 (scikit-learn layer for Python 3.6–3.8, joblib "
        "model files); ours = this machine's emulator, so compare the growth with model size "
        "and the runtimes' ratio, not the absolute seconds.",
        "",
        "| N | published joblib | published cold | published warm | sklearn runtime zips | "
        "sklearn cold p50 | sklearn warm p50 | lean zips | lean cold p50 | lean warm p50 | "
        "sklearn / lean cold |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in bundles:
        joblib_mb, cold_s, warm_ms = PUBLISHED[n]
        sk, lean = measured["sklearn"][n], measured["lean"][n]
        lines.append(
            f"| {n} | {joblib_mb:.2f} MB | {cold_s:.2f} s | {warm_ms:.2f} ms | "
            f"{sizes_mib['sklearn'][n]:.1f} MiB | {_cell(sk, 'cold_ms', 1000, 's')} | "
            f"{_cell(sk, 'warm_ms', 1, 'ms')} | {sizes_mib['lean'][n]:.1f} MiB | "
            f"{_cell(lean, 'cold_ms', 1000, 's')} | {_cell(lean, 'warm_ms', 1, 'ms')} | "
            f"{_ratio(sk, lean)} |"
        )
    first, last = min(bundles), max(bundles)
    growth = {
        "published": PUBLISHED[last][1] / PUBLISHED[first][1],
        "sklearn": _p50(measured["sklearn"][last]) / _p50(measured["sklearn"][first]),
        "lean": _p50(measured["lean"][last]) / _p50(measured["lean"][first]),
    }
    lines += [
        "",
        f"- cold start growth from N={first} to N={last}: published **{growth['published']:.1f}×**"
        f", sklearn runtime **{growth['sklearn']:.1f}×**, lean **{growth['lean']:.1f}×**",
        *blas_lines(largest, measured, last, warm),
    ]
    return "\n".join(lines), measured


def blas_lines(
    largest: dict[str, Path], measured: dict[str, dict[int, dict[str, Any]]], n: int, warm: int
) -> list[str]:
    """Warm requests of the largest MLP again, with OpenBLAS held to one thread."""
    lines = []
    for runtime, dist in largest.items():
        doc = sklambda.bench(
            dist,
            cold=1,
            warm=warm,
            memory=ARTICLE_MEMORY_MB,
            env={"OPENBLAS_NUM_THREADS": "1"},
            on_progress=progress,
        ).to_json()
        single = _p50(doc["packages"][0]["sizes"][0], "warm_ms")
        default = _p50(measured[runtime][n], "warm_ms")
        lines.append(
            f"- N={n}, {runtime} runtime, warm p50: **{default:.2f} ms** with OpenBLAS's default "
            f"threads, **{single:.2f} ms** with `OPENBLAS_NUM_THREADS=1` "
            f"({default / single:.1f}×)"
        )
    return [
        *lines,
        "  — most likely OpenBLAS's worker threads (one per visible core) spin between calls "
        "and spend the CPU quota, so a request waits for the next 100 ms period; how much it "
        "costs varies from run to run on a shared machine. Not yet checked on real Lambda, "
        "which also shows more cores than the share it gives at 1,024 MB.",
    ]


def _p50(size: dict[str, Any], key: str = "cold_ms") -> float:
    return float(size[key]["p50"]) if size.get(key) else math.nan


def _cell(size: dict[str, Any], key: str, scale: float, unit: str) -> str:
    if size["errors"]:
        return "failed: " + "; ".join(size["errors"])
    value = _p50(size, key) / scale
    return f"{value:.2f} {unit}"


def _ratio(sklearn_size: dict[str, Any], lean_size: dict[str, Any]) -> str:
    ratio = _p50(sklearn_size) / _p50(lean_size)
    return "—" if math.isnan(ratio) else f"**{ratio:.1f}×**"


def cost_section(measured: dict[str, dict[int, dict[str, Any]]]) -> str:
    t2 = sklambda.cost(
        requests_per_month=ARTICLE_REQUESTS, duration_ms=1, memory_mb=ARTICLE_MEMORY_MB
    )
    (endpoint,) = [o for o in t2.options if o.alternative.key == "sagemaker-realtime:ml.t2.medium"]
    t2_month = endpoint.monthly_usd
    lines = [
        "### 3. The seed article's cost claim, with today's prices",
        "",
        '"Lambda saves up to 95 % below ~2M predictions a month against an always-on '
        f"ml.t2.medium\" (1,024 MB). Today's prices (sklambda's price file, us-east-1): "
        f"ml.t2.medium **${t2_month:.2f}/month** (730 h); Lambda at the measured warm billed "
        "duration and INIT, cold share from the traffic (environments recycled after 5 idle "
        "minutes), free tier on.",
        "",
        "| latency source | billed ms | INIT ms | Lambda at 2M/month | saving vs ml.t2.medium "
        "| break-even | ml.t2.medium busy there |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    # A published figure is one duration (billed rounded up); a measured one is the results
    # file's mean billed duration, priced as `sklambda cost --from` prices it.
    cases: dict[str, dict[str, Any]] = {
        "published, N=900 (real Lambda, 2020)": {
            "duration_ms": PUBLISHED[900][2],
            "init_ms": PUBLISHED[900][1] * 1000,
            "memory_mb": ARTICLE_MEMORY_MB,
        }
    }
    for runtime in ("sklearn", "lean"):
        for n in (min(measured[runtime]), max(measured[runtime])):
            size = measured[runtime][n]
            if size.get("billed_warm_ms") is not None:
                cases[f"{runtime} runtime, N={n}"] = {"results": _results(f"mlp{n}", size)}
    bills, savings, busiest = [], [], 0.0
    for label, given in cases.items():
        estimate = sklambda.cost(
            requests_per_month=ARTICLE_REQUESTS, sagemaker_instances=["ml.t2.medium"], **given
        )
        init = estimate.usage.init_ms
        option = estimate.options[0]
        saving = 1 - estimate.lambda_monthly_usd / option.monthly_usd
        bills.append(estimate.lambda_monthly_usd)
        savings.append(saving)
        crossing = option.crossing.requests_per_month
        busy = option.alternative.busy
        if crossing is not None and busy is not None:
            busiest = max(busiest, busy(crossing))
        lines.append(
            f"| {label} | {estimate.usage.billed_ms:.3g} | {init or 0:,.0f} | "
            f"${estimate.lambda_monthly_usd:.2f} | **{saving:.1%}** | "
            f"{'—' if crossing is None else f'{crossing / 1e6:,.0f}M/month'} | "
            f"{'—' if crossing is None or busy is None else f'{busy(crossing):.0%}'} |"
        )
    at_2m = duration_for_break_even(ARTICLE_REQUESTS)
    lines += [
        "",
        f"- at 2M predictions a month the Lambda bill is {_span(bills, '${:.2f}')}, "
        f"a saving of **{_span(savings, '{:.1%}')}** against ${option.monthly_usd:.2f}"
        ' for the ml.t2.medium: "up to 95 %" still holds at these latencies;',
        f"- the claim's ~2M/month break-even corresponds to predictions of **~{at_2m:,.0f} ms** "
        "billed at 1,024 MB; at the measured latencies Lambda stays cheaper up to the "
        f"break-evens above, where one ml.t2.medium would be at most {busiest:.0%} busy.",
    ]
    return "\n".join(lines)


def _results(name: str, size: dict[str, Any]) -> dict[str, Any]:
    """One measured size as a results document, the way ``sklambda cost --from`` reads it."""
    from sklambda.benchmarking.results import FORMAT, FORMAT_VERSION

    package = {"name": name, "arch": "x86_64", "sizes": [size]}
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "packages": [package]}


def _span(values: list[float], form: str) -> str:
    low, high = form.format(min(values)), form.format(max(values))
    return low if low == high else f"{low}–{high}"


def duration_for_break_even(requests: float) -> float:
    """The billed ms at which Lambda (1,024 MB) costs what an ml.t2.medium does at ``requests``."""
    low, high = 1.0, 10_000.0
    for _ in range(40):
        middle = math.sqrt(low * high)
        estimate = sklambda.cost(
            requests_per_month=requests,
            duration_ms=middle,
            memory_mb=ARTICLE_MEMORY_MB,
            cold_share=0,
            sagemaker_instances=["ml.t2.medium"],
        )
        cheaper = estimate.lambda_monthly_usd < estimate.options[0].monthly_usd
        low, high = (middle, high) if cheaper else (low, middle)
    return math.sqrt(low * high)


def chart(measured: dict[str, dict[int, dict[str, Any]]], path: Path) -> Path:
    from sklambda.plotting import COLORS, figure, plain_log, save

    fig = figure(10.0, 4.4)
    cold_ax, warm_ax = fig.subplots(1, 2)
    sizes = sorted(measured["lean"])
    cold_ax.plot(
        sizes,
        [PUBLISHED[n][1] * 1000 for n in sizes],
        "s--",
        color=COLORS[7],
        label="published (real Lambda, 2020)",
    )
    warm_ax.plot(
        sizes,
        [PUBLISHED[n][2] for n in sizes],
        "s--",
        color=COLORS[7],
        label="published (real Lambda, 2020)",
    )
    for color, runtime in ((COLORS[1], "sklearn"), (COLORS[0], "lean")):
        for ax, key in ((cold_ax, "cold_ms"), (warm_ax, "warm_ms")):
            points = [(n, _p50(measured[runtime][n], key)) for n in sizes]
            points = [(n, v) for n, v in points if not math.isnan(v)]
            if points:
                ax.plot(
                    *zip(*points, strict=True),
                    "o-",
                    color=color,
                    label=f"sklambda {runtime} runtime (emulator)",
                )
    for ax, title in ((cold_ax, "cold start, ms"), (warm_ax, "warm request, ms")):
        ax.set_yscale("log")
        plain_log(ax.yaxis)
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.set_xlabel("hidden units per layer (3 layers, iris)")
        ax.set_title(f"{title} (median) at 1,024 MB")
        ax.grid(True, which="major", axis="y", alpha=0.3)
    cold_ax.legend(fontsize=8)
    fig.suptitle("MLPClassifier cold and warm latency by model size: published vs reproduced")
    return save(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    start_load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bundles = mlp_bundles(work, tuple(sorted({100, *sizes})))
        share_text, _ = cpu_share_section(work, bundles[100], args.cold)
        size_text, measured = model_size_section(
            work, {n: bundles[n] for n in sizes}, args.cold, args.warm
        )
    cost_text = cost_section(measured)
    chart(measured, CHART)
    load = os.getloadavg()
    body = (
        "Everything through `sklambda.bench` / `sklambda.cost`: each cold start a fresh "
        "environment in the local emulator, Lambda's CPU share applied per memory size. "
        f"Load average at the start / end of the run: {start_load[0]:.1f} / {load[0]:.1f} "
        f"on {os.cpu_count()} cores (a machine shared with other work).\n\n"
        f"{share_text}\n\n{size_text}\n\n![published vs reproduced]({CHART.name})\n\n"
        f"{cost_text}\n"
    )
    print(body)
    if sizes == SIZES:
        write_section("bench_published.py", body)


if __name__ == "__main__":
    main()
