"""Request validation before/after #16's speed item: error locations built only on error.

The old contract (``src/sklambda/runtime/contract.py`` at ``--old``, default the commit before
the change) formatted a location string (``instances[3].rooms``) for every value, valid or not;
the new one checks each value with a few type and range comparisons and formats a location only
for an error or a warning (it also checks the training range of every number now, for the
response's ``warnings``). Both are loaded in this one process and timed interleaved on the same
decoded requests (validation only: no JSON parsing, no prediction).

Run: ``uv run python benchmarks/bench_contract.py [--old REV] [--repeats 15]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from results import write_section

from sklambda.runtime import contract as new_contract

ROOT = Path(__file__).resolve().parent.parent
OLD_REV = "86f9837"  # main before the change (the merge of #12)

# The seed model's ten numeric features (with their training ranges), and a mixed table.
SEED = [
    {"name": n, "type": "number", "min": lo, "max": hi}
    for n, lo, hi in [
        ("age", 19, 79),
        ("sex", 1, 2),
        ("bmi", 18.0, 42.2),
        ("bp", 62, 133),
        ("s1", 97, 301),
        ("s2", 41.6, 242.4),
        ("s3", 22, 99),
        ("s4", 2, 9.09),
        ("s5", 3.2581, 6.107),
        ("s6", 58, 124),
    ]
]
SEED_ROW = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]
HOUSES = [
    {"name": "rooms", "type": "number", "min": 1, "max": 6},
    {"name": "area", "type": "number", "min": 20.5, "max": 160.2},
    {"name": "age", "type": "number", "nullable": True, "min": 0, "max": 79},
    {"name": "district", "type": "string", "categories": ["centre", "north", "south"]},
]
HOUSES_ROW = [3, 80.5, None, "north"]


def old_module(rev: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{rev}:src/sklambda/runtime/contract.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="old-contract-"))
    path = folder / "old_contract.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_contract", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_contract"] = module
    spec.loader.exec_module(module)
    return module


def parser(module: ModuleType, features: list[dict[str, Any]]) -> Any:
    specs = [module.Feature.from_manifest(f) for f in features]
    return module.RequestParser(specs, probabilities=False, max_rows=None)


def per_call(parse: Any, request: Any, loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        parse(request)
    return (time.perf_counter() - start) / loops


def cases() -> list[tuple[str, list[dict[str, Any]], Any, int]]:
    def named(features: list[dict[str, Any]], row: list[Any]) -> dict[str, Any]:
        return {f["name"]: v for f, v in zip(features, row, strict=True)}

    out = []
    for label, features, row in (("seed", SEED, SEED_ROW), ("houses", HOUSES, HOUSES_ROW)):
        for n, loops in ((1, 3000), (1000, 6)):
            out.append(
                (f"{label}, {n:,} row(s) as arrays", features, {"instances": [row] * n}, loops)
            )
            out.append(
                (
                    f"{label}, {n:,} row(s) as objects",
                    features,
                    {"instances": [named(features, row)] * n},
                    loops,
                )
            )
    return out


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--old", default=OLD_REV, help="git revision of the old contract")
    options.add_argument("--repeats", type=int, default=15)
    args = options.parse_args()
    old = old_module(args.old)
    rows = []
    for label, features, request, loops in cases():
        parsers = {"old": parser(old, features), "new": parser(new_contract, features)}
        assert parsers["old"].parse(request).rows == parsers["new"].parse(request).rows
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(args.repeats):  # interleaved: noise hits both
            for name, p in parsers.items():
                times[name].append(per_call(p.parse, request, loops))
        old_s = statistics.median(times["old"])
        new_s = statistics.median(times["new"])
        rows.append((label, old_s, new_s))
        print(f"{label}: old {old_s * 1e6:.1f} µs, new {new_s * 1e6:.1f} µs", flush=True)
    table = "\n".join(
        f"| {label} | {o * 1e6:,.1f} | {n * 1e6:,.1f} | {o / n:.2f}× |" for label, o, n in rows
    )
    load = os.getloadavg()[0]
    body = f"""
`RequestParser.parse` on decoded requests (validation only), the old module (`{args.old}`,
a location string formatted for every value) and the new one (locations formatted only for an
error or a warning; every number also checked against its training range) loaded in one
process, interleaved; medians of {args.repeats} runs. The seed model: 10 numeric features; houses:
3 numbers (one nullable) and a category. Load average during the run: {load:.1f} (the machine
was shared; absolute times are inflated, the ratios are what the run compares).

| request | old µs | new µs | speedup |
|---|---:|---:|---:|
{table}
"""
    write_section("bench_contract.py", body)


if __name__ == "__main__":
    main()
