"""`make bench`: run every benchmark in turn; each writes its section of RESULTS.md.

They run one after another, never in parallel, so that no benchmark's timing disturbs another's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = (
    "bench_lean.py",
    "bench_lean_families.py",
    "bench_alternatives.py",
    "bench_emulator.py",
    "bench_sklearn.py",
    "bench_numpy_layer.py",
    "bench_metrics.py",
    "bench_published.py",
    "bench_contract.py",
    "bench_model_s3.py",
)

if __name__ == "__main__":
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, str(HERE / name)], check=True)
    print(f"results: {HERE / 'RESULTS.md'}")
