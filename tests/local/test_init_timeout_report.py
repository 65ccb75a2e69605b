"""An init that times out is reported with the time it took, not the function's timeout (#15)."""

from __future__ import annotations

from typing import Any

import pytest

from sklambda.local import LocalFunction, environment

pytestmark = pytest.mark.slow

SLOW_IMPORT = """
import time

time.sleep(60)


def handler(event, context):
    return "never"
"""


def test_init_timeout_reports_the_init_duration(
    tmp_path: Any, local_dist_maker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lambda's 10 s INIT cap, shortened so the test takes seconds; the timeout is shorter still.
    monkeypatch.setattr(environment, "INIT_LIMIT_S", 1.5)
    dist = local_dist_maker(tmp_path, "slowinit", SLOW_IMPORT)
    with LocalFunction(dist, timeout=1, concurrency=1) as function:
        result = function.invoke({})
    assert result.error == "Sandbox.Timedout"
    assert result.report.duration_ms >= 1400  # the init ran ~1.5 s, not the 1 s timeout
    assert "Duration: 1000.00 ms" not in result.report.line
