"""How fast a package answers: cold and warm latency by memory size, and the size to pick.

- :func:`~sklambda.benchmarking.benchmark.bench` (``sklambda.bench``) measures packages in the
  local emulator with Lambda's CPU share per memory size, or a deployed function through its
  REPORT lines;
- :func:`~sklambda.benchmarking.tuning.tune` (``sklambda.tune``) prices each memory size from
  its billed duration and recommends one for cost, speed or a balance;
- :mod:`~sklambda.benchmarking.results` is the results file both write and ``cost`` reads;
- :mod:`~sklambda.benchmarking.charts` draws them (the ``charts`` extra).

The package is ``benchmarking``, not ``bench``: a package named like the function
``sklambda.bench`` would replace it as soon as one of its submodules were imported.
"""

from sklambda.benchmarking.benchmark import Deployed, Progress, bench
from sklambda.benchmarking.errors import BenchError
from sklambda.benchmarking.results import BenchResults, load_results, pick_size
from sklambda.benchmarking.tuning import TuneResult, apply_memory, tune, tuned_memory

__all__ = [
    "BenchError",
    "BenchResults",
    "Deployed",
    "Progress",
    "TuneResult",
    "apply_memory",
    "bench",
    "load_results",
    "pick_size",
    "tune",
    "tuned_memory",
]
