"""SplineTransformer in the lean runtime: B-spline bases by de Boor's recursion, as scipy
evaluates them (``scipy/interpolate/src/__fitpack.cc``: ``_find_interval``, ``_deBoor_D``).

A package ships this module only when its model holds a spline; importing it registers the
``spline`` transform in ``transforms.TRANSFORMS``.
"""

from __future__ import annotations

from bisect import bisect_right

from .transforms import TRANSFORMS
from .values import to_float

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Row = list[Any]
    RowFn = Callable[[Row], Row]
    Bases = Callable[[float], list[float]]


def _de_boor(t: list[float], k: int, x: float, ell: int) -> list[float]:
    """The k+1 B-splines of degree k that are non-zero on ``t[ell] <= x < t[ell+1]``."""
    h = [1.0] + [0.0] * k
    for j in range(1, k + 1):
        hh = h[:j]
        h[0] = 0.0
        for n in range(1, j + 1):
            xb = t[ell + n]
            xa = t[ell + n - j]
            if xb == xa:
                h[n] = 0.0
                continue
            w = hh[n - 1] / (xb - xa)
            h[n - 1] += w * (xb - x)
            h[n] = w * (x - xa)
    return h


def _evaluator(t: list[float], k: int, n_splines: int) -> Bases:
    """Every basis function at x, as ``BSpline(t, eye, k)(x)`` (periodic: wrapped coefficients)."""
    last = len(t) - k - 2  # the last interval: x beyond the knots extrapolates its polynomial

    def bases(x: float) -> list[float]:
        ell = bisect_right(t, x) - 1
        if ell < k:
            ell = k
        elif ell > last:
            ell = last
        out = [0.0] * n_splines
        column = ell - k
        for value in _de_boor(t, k, x, ell):
            out[column % n_splines] += value
            column += 1
        return out

    return bases


def _beyond(node: dict[str, Any], column: int, x: float, low: float, high: float) -> Exception:
    from ..contract import RequestError  # shipped in every package

    return RequestError(
        "out_of_range",
        f'step "{node["step"]}" (SplineTransformer, extrapolation="{node["extrapolation"]}") '
        f"takes values within its knots [{low!r}, {high!r}] in its input {column}, got {x!r}; "
        "send values within that range, or refit with extrapolation='constant', 'linear' or "
        "'continue' to answer beyond it",
    )


def _periodic(t: list[float], k: int, bases: Bases) -> Bases:
    low = t[k]
    period = t[len(t) - k - 1] - low
    if period > 0:
        return lambda x: bases(low + (x - low) % period)
    return lambda x: bases(0.0)  # a constant training column


def _checked(node: dict[str, Any], column: int, feature: dict[str, Any], bases: Bases) -> Bases:
    low, high = feature["bounds"]

    def checked(x: float) -> list[float]:
        if x < low or x > high:
            raise _beyond(node, column, x, low, high)
        return bases(x)

    return checked


def _extended(node: dict[str, Any], column: int, feature: dict[str, Any], bases: Bases) -> Bases:
    low, high = feature["bounds"]
    below, above = feature["below"], feature["above"]
    n_splines = node["n_splines"]

    def extended(x: float) -> list[float]:
        # Beyond the bounds, the end columns continue as [column, value, slope] say (slope None:
        # constant), written in scikit-learn's order: a linear spline's later features can have
        # low > high (see the compiler), where both ends apply and the upper one wins.
        if low <= x <= high:
            return bases(x)
        under, over = x < low, x > high
        if (under and below is None) or (over and above is None):
            raise _beyond(node, column, x, low, high)  # where scikit-learn itself fails
        out = [0.0] * n_splines
        for j in range(len(below if under else above)):
            for ends, at, beyond in ((below, low, under), (above, high, over)):
                if beyond:
                    c, value, slope = ends[j]
                    out[c] = value + (x - at) * slope if slope is not None else value
        return out

    return extended


def _feature(node: dict[str, Any], column: int, feature: dict[str, Any]) -> Bases:
    """The spline bases of one input column, extrapolated as the node says."""
    t = feature["knots"]
    k = node["degree"]
    bases = _evaluator(t, k, node["n_splines"])
    mode = node["extrapolation"]
    if mode == "continue":
        return bases
    if mode == "periodic":
        return _periodic(t, k, bases)
    if mode == "error":
        return _checked(node, column, feature, bases)
    return _extended(node, column, feature, bases)


def _spline(node: dict[str, Any]) -> RowFn:
    features = [_feature(node, i, f) for i, f in enumerate(node["features"])]
    n_splines = node["n_splines"]
    zeros = [0.0] * n_splines
    keep = n_splines if node["include_bias"] else n_splines - 1  # without bias: drop the last
    missing_zeros = node["missing_zeros"]

    def transform(row: Row) -> Row:
        out: Row = []
        for value, bases in zip(row, features, strict=True):
            x = to_float(value)
            if x != x:
                if not missing_zeros:
                    raise ValueError("Input X contains NaN (handle_missing='error')")
                out.extend(zeros[:keep])
                continue
            out.extend(bases(x)[:keep])
        return out

    return transform


TRANSFORMS["spline"] = _spline
