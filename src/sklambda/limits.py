"""AWS Lambda's numbers, each once, with where it comes from.

Sources: the Lambda Developer Guide's "Lambda quotas" page (function configuration, deployment
and execution limits) and the ``CreateFunction`` / ``Invoke`` API references. The code that runs
inside Lambda (``sklambda.runtime``) imports nothing of sklambda, so it keeps its own copy of the
payload limit; a test holds the two equal.

Checks take the exception type to raise, so each stage reports a limit in its own error
(``SettingsError`` for the emulator, ``DeployError`` for deploy) while the rule lives here.
"""

from __future__ import annotations

import re

MIB = 1024 * 1024

# Deployment packages (quotas page, "Deployment package (.zip file archive) size").
DIRECT_UPLOAD_BYTES = 50 * MIB
"""Zipped bytes accepted in the CreateFunction/PublishLayerVersion request itself; larger via S3."""
UNZIPPED_BYTES = 262_144_000
"""Function code plus all its layers, unzipped ("250 MB", enforced as 262,144,000 bytes)."""
LAYERS_PER_FUNCTION = 5
IMAGE_BYTES = 10 * 1024**3
"""A container image, uncompressed (10 GB)."""

# Function configuration (quotas page).
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10_240
MB_PER_VCPU = 1_769
"""At 1,769 MB a function has the equivalent of one full vCPU; CPU scales with memory."""
TIMEOUT_MAX_S = 900
INIT_TIMEOUT_S = 10
"""The INIT phase is cut off after 10 s (then retried on the first invoke)."""
ENV_BYTES = 4 * 1024
"""All environment variables' keys and values together."""
TMP_DEFAULT_MB = 512
TMP_MAX_MB = 10_240

# Invocation payloads (Invoke API reference).
SYNC_PAYLOAD_BYTES = 6 * MIB
"""Request and response of a synchronous invoke (and of a function URL in BUFFERED mode)."""
ASYNC_PAYLOAD_BYTES = 1 * MIB
"""An asynchronous (``InvocationType=Event``) request."""

# Names (CreateFunction API reference: FunctionName, the name form without an ARN).
FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FUNCTION_NAME_RULE = "1-64 letters, digits, hyphens or underscores"


def check_memory(memory: int, error: type[Exception]) -> int:
    """``memory`` (MB) if Lambda accepts it, else ``error`` naming the range."""
    if not isinstance(memory, int) or not MEMORY_MIN_MB <= memory <= MEMORY_MAX_MB:
        raise error(
            f"memory must be {MEMORY_MIN_MB}–{MEMORY_MAX_MB} MB (Lambda's range), got {memory}"
        )
    return memory


def check_timeout(timeout: float, error: type[Exception], *, whole: bool = False) -> float:
    """``timeout`` (seconds) if Lambda accepts it, else ``error`` naming the range.

    ``whole``: as the API takes it (an integer, 1–900); else any positive duration up to 900 s
    (the emulator, where tests use fractions of a second).
    """
    if whole and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1):
        raise error(f"timeout must be 1–{TIMEOUT_MAX_S} whole seconds, got {timeout}")
    if not 0 < timeout <= TIMEOUT_MAX_S:
        raise error(
            f"timeout must be {'1' if whole else 'above 0'}–{TIMEOUT_MAX_S} seconds (Lambda's "
            f"range), got {timeout:g}"
        )
    return timeout


def check_env_size(env: dict[str, str], error: type[Exception]) -> None:
    """Lambda's 4 KB for all environment variables together."""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in env.items())
    if size > ENV_BYTES:
        raise error(f"environment variables take {size:,} bytes; Lambda allows 4 KB in all")


def is_function_name(name: str) -> bool:
    return bool(FUNCTION_NAME.match(name))
