"""Errors of the cost model, each a :class:`~sklambda.errors.SklambdaError` (CLI: one line)."""

from __future__ import annotations

from sklambda.errors import SklambdaError

__all__ = ["CostError", "PricesError"]


class CostError(SklambdaError):
    """Inputs of the cost model that do not fit together (or a results file that lacks them)."""


class PricesError(CostError):
    """A price file that is malformed, or lacks the price asked for in the region asked for."""
