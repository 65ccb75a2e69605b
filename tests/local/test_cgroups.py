"""Lambda's CPU share and memory ceiling, enforced with cgroups on real environment processes.

Where this machine does not let the emulator use cgroups, every test here is skipped with the
reason :func:`sklambda.local.cgroups.support` gives (the emulator then runs unthrottled and says
so in ``LocalFunction.enforcement``); that degraded path is tested at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sklambda.local import LocalFunction, cgroups

pytestmark = pytest.mark.slow

CAN = cgroups.support()
needs_cpu = pytest.mark.skipif(not CAN.cpu, reason=f"cgroup CPU quota unavailable: {CAN.reason}")
needs_memory = pytest.mark.skipif(
    not CAN.memory, reason=f"cgroup memory limit unavailable: {CAN.reason}"
)

CPU_HANDLER = """
import os, subprocess


def handler(event, context):
    if event.get("action") == "orphan":
        # A child in a session of its own: out of reach of a process-group kill.
        child = subprocess.Popen(["sleep", "300"], start_new_session=True)
        return {"child": child.pid}
    x = 0
    for i in range(event.get("n", 2_000_000)):
        x += i
    return {"pid": os.getpid()}
"""


@pytest.fixture(scope="module")
def cpu_dist(
    local_dist_maker: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return local_dist_maker(tmp_path_factory.mktemp("cg"), "cpu", CPU_HANDLER)


def test_lambdas_cpu_share_is_proportional_to_memory() -> None:
    assert cgroups.cpu_share(1769) == 1.0
    assert cgroups.cpu_share(128) == pytest.approx(0.0724, abs=1e-4)
    assert cgroups.cpu_share(10_240) == pytest.approx(10_240 / 1769)
    assert cgroups.cpu_share(10_240) <= cgroups.MAX_VCPUS


def _throttled(path: Path) -> int:
    stat = dict(line.split() for line in (path / "cpu.stat").read_text().splitlines())
    return int(stat["nr_throttled"])


@needs_cpu
def test_a_128_mb_environment_gets_its_cpu_quota_and_is_throttled(cpu_dist: Path) -> None:
    """Not timed (timings flake on shared machines): the kernel's own throttling counters."""
    with LocalFunction(cpu_dist, memory=128, cpu_share=True, concurrency=1, timeout=120) as fn:
        assert fn.enforcement.vcpus == pytest.approx(128 / 1769)
        result = fn.invoke({"n": 3_000_000})
        assert result.error is None, result.payload
        (env,) = fn._pool.environments()
        assert env.cgroup is not None
        group = env.cgroup.paths["cpu"]
        period = int((group / "cpu.cfs_period_us").read_text())
        quota = int((group / "cpu.cfs_quota_us").read_text())
        assert quota == round(128 / 1769 * period)
        assert _throttled(group) > 0
        pid = result.payload["pid"]
        assert str(pid) in (group / "cgroup.procs").read_text()
    assert not group.exists()  # removed with the environment


@needs_cpu
def test_without_cpu_share_nothing_is_throttled(cpu_dist: Path) -> None:
    with LocalFunction(cpu_dist, memory=128, concurrency=1) as fn:
        assert fn.enforcement.vcpus is None
        assert fn.invoke({"n": 10}).error is None
        (env,) = fn._pool.environments()
        # The memory cgroup is on by default; no CPU group, so no quota.
        assert env.cgroup is None or "cpu" not in env.cgroup.paths


@needs_memory
def test_over_the_memory_setting_is_an_out_of_memory_kill(local_dists: dict[str, Path]) -> None:
    """A 512 MB function that allocates 800 MB dies as on Lambda, not with a MemoryError."""
    with LocalFunction(local_dists["basic"], memory=512, memory_cgroup=True, concurrency=1) as fn:
        assert fn.enforcement.memory == "cgroup"
        small = fn.invoke({"action": "allocate", "mb": 64})
        assert small.error is None
        big = fn.invoke({"action": "allocate", "mb": 800})
        assert big.error == "Runtime.OutOfMemory", big.payload
        assert big.payload["errorType"] == "Runtime.OutOfMemory"
        assert "Runtime exited with error: signal: killed" in big.payload["errorMessage"]
        # The next invoke gets a fresh environment.
        assert fn.invoke({"action": "allocate", "mb": 64}).error is None


@needs_memory
def test_descendants_in_their_own_session_die_with_the_environment(cpu_dist: Path) -> None:
    with LocalFunction(cpu_dist, memory=256, memory_cgroup=True, concurrency=1) as fn:
        child = fn.invoke({"action": "orphan"}).payload["child"]
        assert _alive(child)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_orphaned_groups_of_dead_owners_are_swept() -> None:
    if not CAN.memory:
        pytest.skip(f"cgroup memory limit unavailable: {CAN.reason}")
    parent = cgroups._own_group("memory")
    dead = parent / "sklambda-999999999-0"  # no process has this pid
    dead.mkdir()
    ours = cgroups.Cgroup.create(memory_mb=128, cpu=False)
    assert ours is not None
    try:
        removed = cgroups.sweep_orphans()
        assert dead in removed and not dead.exists()
        assert ours.paths["memory"].exists()  # a live owner's group is left alone
    finally:
        ours.remove()


def test_where_cgroups_are_unavailable_the_emulator_says_so(
    cpu_dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", Path("/nonexistent-cgroup-root"))
    cgroups.support.cache_clear()
    try:
        can = cgroups.support()
        assert not can.cpu and not can.memory and "no cgroup-v1 cpu controller" in can.reason
        with LocalFunction(cpu_dist, memory=128, cpu_share=True, concurrency=1) as fn:
            assert fn.enforcement.vcpus is None
            assert "no cgroup-v1" in fn.enforcement.reason
            assert fn.invoke({"n": 10}).error is None  # still runs, unthrottled
    finally:
        cgroups.support.cache_clear()
