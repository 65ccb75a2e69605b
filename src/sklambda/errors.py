"""Errors a user can fix. The CLI prints them as one line and exits with code 2.

Each names what was wrong, what was expected, and the fix. Faults of sklambda itself are ordinary
exceptions and keep their traceback.
"""

from __future__ import annotations


class SklambdaError(Exception):
    """Base class for problems the user can fix (bad input, missing file, unsafe model...)."""


class DataError(SklambdaError):
    """The database, table, query or columns cannot be used for training."""


class TrainError(SklambdaError):
    """The training options do not fit the data (task, estimator, target)."""


class BundleError(SklambdaError):
    """A bundle is missing, damaged, from a newer sklambda, or cannot be written."""


class UntrustedModelError(BundleError):
    """Loading the model would run code or build types that sklambda does not vouch for."""
