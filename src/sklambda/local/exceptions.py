"""Errors raised by the local emulator."""

from __future__ import annotations

__all__ = [
    "DistError",
    "LocalError",
    "RequestTooLargeError",
    "RuntimeClientError",
    "TooManyRequestsError",
]


class LocalError(Exception):
    """Base class of every error the local emulator raises."""


class DistError(LocalError):
    """The package directory is missing a file or its ``build.json`` is malformed."""


class RuntimeClientError(LocalError):
    """``awslambdaric`` could not be installed for the environment's interpreter."""


class TooManyRequestsError(LocalError):
    """All environments stayed busy for longer than the function's ``max_wait``.

    The local counterpart of Lambda's ``TooManyRequestsException`` (HTTP 429).
    """


class RequestTooLargeError(LocalError):
    """The event is over Lambda's 6 MB synchronous payload limit (``RequestTooLargeException``)."""
