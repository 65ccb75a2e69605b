"""Lambda's numbers, held once in ``sklambda.limits``, and the error tree's fix spelling."""

from __future__ import annotations

import pytest

from sklambda import limits
from sklambda.errors import Option, SklambdaError
from sklambda.local.errors import SettingsError


def test_the_runtime_keeps_the_same_payload_limit() -> None:
    """The runtime imports nothing of sklambda, so it has its own copy; the two must agree."""
    from sklambda.local import runtime_api
    from sklambda.runtime import events

    assert events.MAX_BODY_BYTES == limits.SYNC_PAYLOAD_BYTES == runtime_api.MAX_PAYLOAD_BYTES


@pytest.mark.parametrize("memory", [127, 10_241, 0, -5])
def test_memory_outside_lambdas_range(memory: int) -> None:
    with pytest.raises(SettingsError, match="memory must be 128–10240 MB"):
        limits.check_memory(memory, SettingsError)


@pytest.mark.parametrize("memory", [128, 1769, 10_240])
def test_memory_inside_lambdas_range(memory: int) -> None:
    assert limits.check_memory(memory, SettingsError) == memory


def test_timeouts_whole_for_the_api_fractional_for_the_emulator() -> None:
    assert limits.check_timeout(0.5, SettingsError) == 0.5
    with pytest.raises(SettingsError, match="whole seconds"):
        limits.check_timeout(0.5, SettingsError, whole=True)
    with pytest.raises(SettingsError, match="1–900"):
        limits.check_timeout(901, SettingsError, whole=True)


def test_env_size() -> None:
    limits.check_env_size({"A": "x" * 4000}, SettingsError)
    with pytest.raises(SettingsError, match="4 KB"):
        limits.check_env_size({"A": "x" * 4096}, SettingsError)


@pytest.mark.parametrize(
    ("name", "ok"),
    [("houses", True), ("h-v_2", True), ("x" * 64, True), ("x" * 65, False), ("a b", False)],
)
def test_function_names(name: str, ok: bool) -> None:
    assert limits.is_function_name(name) is ok


def test_a_fix_is_spelled_for_python_and_for_the_shell() -> None:
    error = SklambdaError(
        "use {0} or {1}", Option("python", "3.12"), Option("query", "SELECT * FROM t")
    )
    assert str(error) == "use python='3.12' or query='SELECT * FROM t'"
    assert error.for_cli() == "use --python 3.12 or --query 'SELECT * FROM t'"
    switch = SklambdaError("pass {0}", Option("trust_pickle"))
    assert (str(switch), switch.for_cli()) == ("pass trust_pickle=True", "pass --trust-pickle")
    # Braces in a message without options are text, not placeholders.
    assert str(SklambdaError("expected {x}")) == "expected {x}"
