"""Errors of the monitor stage (drawn in :mod:`sklambda.errors`' tree)."""

from __future__ import annotations

from sklambda.errors import SklambdaError


class MonitorError(SklambdaError):
    """Monitoring settings or alerts that cannot be set up as asked (the message says why)."""
