"""More transforms of the lean runtime: encoders, maps, projections, unions.

Split from ``transforms`` so a package whose model only scales, imputes and one-hot encodes does
not ship (or import) them; importing this module registers them in ``transforms.TRANSFORMS``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from operator import mul

from .transforms import TRANSFORMS, chain
from .values import MISSING_KEY, NAN, category_key, decode_number, is_missing, to_float

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Row = list[Any]
    RowFn = Callable[[Row], Row]


# ---------------------------------------------------------------- encoders, maps, projections


def _ordinal(node: dict[str, Any]) -> RowFn:
    # "codes": each category's code when infrequent ones share one (else its position)
    codes = node.get("codes") or [range(len(cats)) for cats in node["features"]]
    lookups = [
        {
            category_key(decode_number(c)): float(decode_number(i))
            for i, c in zip(at, cats, strict=True)
        }
        for cats, at in zip(node["features"], codes, strict=True)
    ]
    unknown = node["unknown"]
    unknown = None if unknown is None else float(decode_number(unknown))
    missing = float(decode_number(node["missing"]))
    for lookup in lookups:
        if MISSING_KEY in lookup and not node.get("codes"):
            lookup[MISSING_KEY] = missing  # a missing category seen at fit: encoded_missing_value

    def transform(row: Row) -> Row:
        out = []
        for column, (value, lookup) in enumerate(zip(row, lookups, strict=True)):
            try:
                out.append(lookup[category_key(value)])
            except (KeyError, TypeError):  # unknown (a missing value unseen at fit is too)
                if unknown is None:
                    raise ValueError(
                        f"Found unknown categories [{value!r}] in column {column} during transform"
                    ) from None
                out.append(unknown)
        return out

    return transform


def _log(
    fn: Callable[[float], float], domain_low: float, at_low: float
) -> Callable[[float], float]:
    def apply(x: float) -> float:
        if x > domain_low:
            return fn(x) if x != math.inf else math.inf
        if x == domain_low:
            return at_low
        return NAN  # below the domain or NaN

    return apply


def _overflowing(fn: Callable[[float], float]) -> Callable[[float], float]:
    def apply(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return math.inf

    return apply


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else NAN


def _domain(fn: Callable[[float], float]) -> Callable[[float], float]:
    """numpy's answer outside ``fn``'s domain (math raises there): NaN."""

    def apply(x: float) -> float:
        try:
            return fn(x)
        except ValueError:
            return NAN

    return apply


def _atanh(x: float) -> float:
    if x == 1.0 or x == -1.0:
        return math.copysign(math.inf, x)
    return math.atanh(x) if -1.0 < x < 1.0 else NAN


def _signed_overflow(fn: Callable[[float], float]) -> Callable[[float], float]:
    def apply(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return math.copysign(math.inf, fn(math.copysign(1.0, x)))

    return apply


def _integral(fn: Callable[[float], int]) -> Callable[[float], float]:
    """floor, ceil, trunc, rint: float results; inf and NaN pass through as in numpy."""
    return lambda x: float(fn(x)) if math.isfinite(x) else x


def _reciprocal(x: float) -> float:
    return 1.0 / x if x != 0 else math.copysign(math.inf, x)


def _sign(x: float) -> float:
    return x if x != x else (1.0 if x > 0 else -1.0 if x < 0 else 0.0)


def _spacing(x: float) -> float:
    # toward larger magnitude; at either zero the smallest subnormal, positive
    if not math.isfinite(x):
        return NAN
    return math.copysign(math.ulp(x), x) if x != 0 else math.ulp(0.0)


def _flag(test: Callable[[float], bool]) -> Callable[[float], float]:
    return lambda x: 1.0 if test(x) else 0.0


UFUNCS: dict[str, Callable[[float], float]] = {
    "arccos": _domain(math.acos),
    "arccosh": _domain(math.acosh),
    "arcsin": _domain(math.asin),
    "arcsinh": math.asinh,
    "arctan": math.atan,
    "arctanh": _atanh,
    "ceil": _integral(math.ceil),
    "conjugate": lambda x: x,
    "cos": _domain(math.cos),
    "cosh": _overflowing(math.cosh),
    "deg2rad": math.radians,
    "degrees": math.degrees,
    "floor": _integral(math.floor),
    "isfinite": _flag(math.isfinite),
    "isinf": _flag(math.isinf),
    "isnan": _flag(math.isnan),
    "logical_not": _flag(lambda x: x == 0),
    "positive": lambda x: x,
    "rad2deg": math.degrees,
    "radians": math.radians,
    "reciprocal": _reciprocal,
    "rint": _integral(round),  # half to even, as numpy
    "sign": _sign,
    "signbit": _flag(lambda x: math.copysign(1.0, x) < 0),
    "sin": _domain(math.sin),
    "sinh": _signed_overflow(math.sinh),
    "spacing": _spacing,
    "tan": _domain(math.tan),
    "trunc": _integral(math.trunc),
    "abs": abs,
    "absolute": abs,
    "fabs": abs,
    "cbrt": math.cbrt,
    "exp": _overflowing(math.exp),
    "exp2": _overflowing(lambda x: 2.0**x),
    "expm1": _overflowing(math.expm1),
    "log": _log(math.log, 0.0, -math.inf),
    "log10": _log(math.log10, 0.0, -math.inf),
    "log2": _log(math.log2, 0.0, -math.inf),
    "log1p": _log(math.log1p, -1.0, -math.inf),
    "negative": lambda x: -x,
    "sqrt": _sqrt,
    "square": _overflowing(lambda x: x * x),
    "tanh": math.tanh,
}


def _ufunc(node: dict[str, Any]) -> RowFn:
    fn = UFUNCS[node["name"]]
    return lambda row: [fn(to_float(v)) for v in row]


def _normalizer(node: dict[str, Any]) -> RowFn:
    norm = node["norm"]

    def transform(row: Row) -> Row:
        x = [to_float(v) for v in row]
        if norm == "l2":
            total = math.sqrt(sum(v * v for v in x))
        elif norm == "l1":
            total = sum(abs(v) for v in x)
        else:
            total = max(abs(v) for v in x) if x else 0.0
        if total == 0.0:
            total = 1.0
        return [v / total for v in x]

    return transform


def _binarizer(node: dict[str, Any]) -> RowFn:
    threshold = node["threshold"]
    return lambda row: [1.0 if to_float(v) > threshold else 0.0 for v in row]


def _missing_indicator(node: dict[str, Any]) -> RowFn:
    features = node["features"]
    others = [j for j in range(node["n_features"]) if j not in set(features)]
    error = node["error_on_new"]

    def transform(row: Row) -> Row:
        if error:
            new = [j for j in others if is_missing(row[j])]
            if new:
                raise ValueError(
                    f"The features {new} have missing values in transform but have no missing "
                    "values in fit."
                )
        return [1.0 if is_missing(row[j]) else 0.0 for j in features]

    return transform


def _select(node: dict[str, Any]) -> RowFn:
    columns = node["columns"]
    return lambda row: [row[j] for j in columns]


def _project(node: dict[str, Any]) -> RowFn:
    components = node["components"]
    offset = node["offset"]
    scale = node["scale"]

    def transform(row: Row) -> Row:
        x = [to_float(v) for v in row]
        out = [sum(map(mul, x, c)) for c in components]
        if offset is not None:
            out = [v - o for v, o in zip(out, offset, strict=True)]
        if scale is not None:
            out = [v / s for v, s in zip(out, scale, strict=True)]
        return out

    return transform


def _polynomial(node: dict[str, Any]) -> RowFn:
    terms = node["terms"]

    def transform(row: Row) -> Row:
        x = [to_float(v) for v in row]
        out = []
        for term in terms:
            if not term:
                out.append(1.0)
                continue
            value = x[term[0]]
            for j in term[1:]:
                value = value * x[j]
            out.append(value)
        return out

    return transform


def _kbins(node: dict[str, Any]) -> RowFn:
    edges = node["edges"]
    return lambda row: [
        float(bisect_right(e, to_float(v))) for v, e in zip(row, edges, strict=True)
    ]


def _yeo_johnson(x: float, lmbda: float) -> float:
    # scipy.stats.yeojohnson, branch by branch.
    if x >= 0:
        if abs(lmbda) < _EPS:
            return math.log1p(x)
        return math.expm1(lmbda * math.log1p(x)) / lmbda
    if x != x:
        return x
    if abs(lmbda - 2) > _EPS:
        return -math.expm1((2 - lmbda) * math.log1p(-x)) / (2 - lmbda)
    return -math.log1p(-x)


def _box_cox(x: float, lmbda: float) -> float:
    # scipy.special.boxcox
    if x != x or x < 0:
        return NAN
    if x == 0:
        return -math.inf if lmbda == 0 else (-1.0 / lmbda if lmbda > 0 else -math.inf)
    if lmbda == 0:
        return math.log(x)
    return math.expm1(lmbda * math.log(x)) / lmbda


_EPS = 2.220446049250313e-16  # np.spacing(1.0)


def _power(node: dict[str, Any]) -> RowFn:
    fn = _yeo_johnson if node["method"] == "yeo-johnson" else _box_cox
    lambdas = node["lambdas"]
    return lambda row: [fn(to_float(v), lm) for v, lm in zip(row, lambdas, strict=True)]


def _interp(x: float, xp: list[float], fp: list[float]) -> float:
    """numpy.interp for one value, branch by branch (numpy/_core/src/multiarray/compiled_base.c)."""
    last = len(xp) - 1
    if x > xp[last]:
        return fp[last]
    if x < xp[0]:
        return fp[0]
    if x == xp[last]:
        return fp[last]
    j = bisect_right(xp, x) - 1
    if xp[j] == x:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    out = slope * (x - xp[j]) + fp[j]
    if out != out:
        out = slope * (x - xp[j + 1]) + fp[j + 1]
        if out != out and fp[j] == fp[j + 1]:
            out = fp[j]
    return out


def _quantile(node: dict[str, Any]) -> RowFn:
    from statistics import NormalDist

    references = node["references"]
    reversed_refs = [-r for r in reversed(references)]
    columns = [(q, [-v for v in reversed(q)]) for q in node["quantiles"]]
    normal = node["normal"]
    bounds = node["bounds"]
    clip_min, clip_max = node["clip"]
    ppf = NormalDist().inv_cdf

    def one(x: float, q: list[float], q_reversed: list[float]) -> float:
        if x != x:
            return x
        low, high = q[0], q[-1]
        if normal:
            at_low, at_high = x - bounds < low, x + bounds > high
        else:
            at_low, at_high = x == low, x == high
        y = 0.5 * (_interp(x, q, references) - _interp(-x, q_reversed, reversed_refs))
        if at_high:
            y = 1.0
        if at_low:
            y = 0.0
        if not normal:
            return y
        if y <= 0.0:
            return clip_min
        if y >= 1.0:
            return clip_max
        return min(max(ppf(y), clip_min), clip_max)

    return lambda row: [one(to_float(v), q, qr) for v, (q, qr) in zip(row, columns, strict=True)]


def _target_encoder(node: dict[str, Any]) -> RowFn:
    features = []
    for feature in node["features"]:
        lookup = {category_key(decode_number(c)): i for i, c in enumerate(feature["categories"])}
        features.append((lookup, feature["encodings"], feature["unknown"]))

    def transform(row: Row) -> Row:
        out: Row = []
        for value, (lookup, encodings, unknown) in zip(row, features, strict=True):
            try:
                i = lookup[category_key(value)]
            except (KeyError, TypeError):
                out.extend(unknown)
                continue
            out.extend(encoding[i] for encoding in encodings)
        return out

    return transform


def _weight(node: dict[str, Any]) -> RowFn:
    factor = node["factor"]  # transformer_weights: the part's output times its weight
    return lambda row: [to_float(v) * factor for v in row]


def _union(node: dict[str, Any]) -> RowFn:
    parts = [chain(steps) for steps in node["parts"]]

    def transform(row: Row) -> Row:
        out: Row = []
        for fn in parts:
            out.extend(fn(list(row)))
        return out

    return transform


TRANSFORMS.update(
    {
        "ordinal": _ordinal,
        "ufunc": _ufunc,
        "normalizer": _normalizer,
        "binarizer": _binarizer,
        "missing_indicator": _missing_indicator,
        "select": _select,
        "project": _project,
        "polynomial": _polynomial,
        "kbins": _kbins,
        "power": _power,
        "quantile": _quantile,
        "target_encoder": _target_encoder,
        "union": _union,
        "weight": _weight,
    }
)
