"""Errors raised by the local emulator, each a :class:`~sklambda.errors.SklambdaError`."""

from __future__ import annotations

from sklambda import dist
from sklambda.errors import SklambdaError

__all__ = [
    "DistError",
    "LocalError",
    "RequestTooLargeError",
    "RuntimeClientError",
    "SettingsError",
    "TooManyRequestsError",
]


class LocalError(SklambdaError):
    """Base class of every error the local emulator raises."""


class SettingsError(LocalError, ValueError):
    """A setting of the emulator is out of Lambda's range (memory, timeout, host, port, env...).

    Also a ``ValueError``, so code that validated settings with ``except ValueError`` still works.
    """


class DistError(LocalError, dist.DistError):
    """The package directory is missing a file or its ``build.json`` is malformed."""


class RuntimeClientError(LocalError):
    """``awslambdaric`` could not be installed for the environment's interpreter."""


class TooManyRequestsError(LocalError):
    """All environments stayed busy for longer than the function's ``max_wait``.

    The local counterpart of Lambda's ``TooManyRequestsException`` (HTTP 429).
    """


class RequestTooLargeError(LocalError):
    """The event is over Lambda's 6 MB synchronous payload limit (``RequestTooLargeException``)."""
