"""Environment pool: one invocation per environment, cold starts up to the concurrency limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sklambda.local.environment import Environment
from sklambda.local.errors import TooManyRequestsError

__all__ = ["EnvironmentPool"]


class EnvironmentPool:
    """Hands out idle (warm) environments, starts new (cold) ones while under ``limit``.

    Parameters
    ----------
    factory : callable
        Creates and starts a new environment. The pool passes it :meth:`discard`-on-exit
        plumbing through :meth:`environment_exited`.
    limit : int
        Most environments alive at once (Lambda's concurrency).
    """

    def __init__(self, factory: Callable[[], Environment], limit: int) -> None:
        self._factory = factory
        self._limit = limit
        self._cond = threading.Condition()
        self._idle: list[Environment] = []
        self._all: set[Environment] = set()
        self._starting = 0
        self._closed = False

    def acquire(self, max_wait: float) -> Environment:
        """Return an environment reserved for one invocation.

        Raises
        ------
        TooManyRequestsError
            When ``limit`` environments stay busy for ``max_wait`` seconds.
        """
        deadline = time.monotonic() + max_wait
        dead: list[Environment] = []
        try:
            return self._acquire(deadline, max_wait, dead)
        finally:
            for env in dead:
                env.close()

    def _acquire(self, deadline: float, max_wait: float, dead: list[Environment]) -> Environment:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the function is closed")
                while self._idle:
                    # Most recently used first, like Lambda: it keeps the fewest environments hot.
                    env = self._idle.pop()
                    if env.alive:
                        return env
                    # Died while idle, before its watcher reported it.
                    self._all.discard(env)
                    dead.append(env)
                if len(self._all) + self._starting < self._limit:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TooManyRequestsError(
                        f"all {self._limit} environments stayed busy for {max_wait:g} s; raise "
                        "`concurrency` or `max_wait`"
                    )
                self._cond.wait(remaining)
        try:
            env = self._factory()
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            self._starting -= 1
            self._all.add(env)
            closed = self._closed
        if closed:
            env.close()
            raise RuntimeError("the function is closed")
        return env

    def release(self, env: Environment) -> None:
        """Give back an environment after an invocation; a dead one is removed and cleaned up."""
        with self._cond:
            keep = env.alive and not self._closed and env in self._all
            if keep:
                self._idle.append(env)
            else:
                self._all.discard(env)
            self._cond.notify_all()
        if not keep:
            env.close()

    def environment_exited(self, env: Environment) -> None:
        """Watcher callback: an idle environment whose process died is dropped at once."""
        with self._cond:
            if env not in self._idle:
                # Busy: the invoking thread sees the failure and releases it.
                return
            self._idle.remove(env)
            self._all.discard(env)
            self._cond.notify_all()
        env.close()

    def environments(self) -> list[Environment]:
        """Snapshot of the live environments (idle and busy)."""
        with self._cond:
            return list(self._all)

    def close(self) -> None:
        """Kill every environment, idle or busy, and refuse further acquisitions."""
        with self._cond:
            self._closed = True
            victims = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        threads = [threading.Thread(target=env.close, daemon=True) for env in victims]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
