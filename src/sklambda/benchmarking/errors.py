"""Errors of ``bench`` and ``tune``, each a :class:`~sklambda.errors.SklambdaError`."""

from __future__ import annotations

from sklambda.errors import SklambdaError

__all__ = ["BenchError"]


class BenchError(SklambdaError):
    """A benchmark that cannot run as asked, or a results file that cannot be read."""
