"""Transforms of the lean runtime: one function per scikit-learn transformer, row in, row out.

Pure Python. The arithmetic mirrors scikit-learn's operation by operation (e.g.
``(x - mean) / scale``, not a folded coefficient), so element-wise steps give bit-identical
values and only sums and transcendental functions may differ in the last bits.
"""

from __future__ import annotations

from .values import category_key, decode_number, is_missing, to_float

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    Row = list[Any]
    RowFn = Callable[[Row], Row]

__all__ = ["CORE", "HOMES", "TRANSFORMS", "chain"]


def _center_scale(center: list[float] | None, scale: list[float] | None) -> RowFn:
    """``(x - center) / scale``, either part optional: StandardScaler and RobustScaler alike."""
    if center is not None and scale is not None:
        pairs = list(zip(center, scale, strict=True))
        return lambda row: [(to_float(v) - c) / s for v, (c, s) in zip(row, pairs, strict=True)]
    if center is not None:
        return lambda row: [to_float(v) - c for v, c in zip(row, center, strict=True)]
    if scale is not None:
        return lambda row: [to_float(v) / s for v, s in zip(row, scale, strict=True)]
    return lambda row: [to_float(v) for v in row]


def _standard_scaler(node: dict[str, Any]) -> RowFn:
    return _center_scale(node["mean"], node["scale"])


def _minmax_scaler(node: dict[str, Any]) -> RowFn:
    pairs = list(zip(node["scale"], node["min"], strict=True))
    clip = node["clip"]
    if clip is None:
        return lambda row: [to_float(v) * s + m for v, (s, m) in zip(row, pairs, strict=True)]
    low, high = clip

    def transform(row: Row) -> Row:
        out = []
        for v, (s, m) in zip(row, pairs, strict=True):
            x = to_float(v) * s + m
            # np.clip keeps NaN; min()/max() alone would not.
            if x < low:
                x = float(low)
            elif x > high:
                x = float(high)
            out.append(x)
        return out

    return transform


def _robust_scaler(node: dict[str, Any]) -> RowFn:
    return _center_scale(node["center"], node["scale"])


def _maxabs_scaler(node: dict[str, Any]) -> RowFn:
    scale = node["scale"]
    return lambda row: [to_float(v) / s for v, s in zip(row, scale, strict=True)]


def _imputer(node: dict[str, Any]) -> RowFn:
    kind = node["missing"]["kind"]
    marker = decode_number(node["missing"].get("value"))
    numeric = node["numeric"]
    fills = [decode_number(v) for v in node["fill"]]
    if numeric:
        fills = [float(v) for v in fills]
    keep = node["keep"]
    indicator = node["indicator"]

    if kind == "nan":
        missing_here = is_missing
    elif kind == "none":

        def missing_here(value: Any) -> bool:
            return value is None

    else:

        def missing_here(value: Any) -> bool:
            return value == marker

    def transform(row: Row) -> Row:
        if numeric:
            filled = [fills[j] if missing_here(row[j]) else to_float(row[j]) for j in keep]
        else:
            filled = [fills[j] if missing_here(row[j]) else row[j] for j in keep]
        if indicator:
            filled.extend(1.0 if missing_here(row[j]) else 0.0 for j in indicator)
        return filled

    return transform


def _one_hot(node: dict[str, Any]) -> RowFn:
    # Per input feature: category -> output position inside the block, or None when the
    # category is the dropped one (all zeros). Missing values share one key, like scikit-learn
    # which reads both None and NaN as NaN.
    # With infrequent grouping, "positions" gives each category's column (rare ones share the
    # "infrequent" column, which unknown categories take too with "infrequent_if_exist").
    lookups: list[dict[Any, int | None]] = []
    widths: list[int] = []
    unknown_at: list[int | None] = []
    ignore_unknown = node["handle_unknown"] != "error"
    into_infrequent = node["handle_unknown"] == "infrequent_if_exist"
    for feature in node["features"]:
        lookup: dict[Any, int | None] = {}
        position = 0
        drop = feature["drop"]
        positions = feature.get("positions")
        for index, raw in enumerate(feature["categories"]):
            key = category_key(decode_number(raw))
            if positions is not None:
                lookup[key] = positions[index]
            elif index == drop:
                lookup[key] = None
            else:
                lookup[key] = position
                position += 1
        lookups.append(lookup)
        widths.append(feature["width"] if positions is not None else position)
        unknown_at.append(feature.get("infrequent") if into_infrequent else None)
    total = sum(widths)
    offsets = []
    start = 0
    for width in widths:
        offsets.append(start)
        start += width

    def transform(row: Row) -> Row:
        out = [0.0] * total
        for column, (value, lookup, offset) in enumerate(zip(row, lookups, offsets, strict=True)):
            key = category_key(value)
            try:
                position = lookup[key]
            except (KeyError, TypeError):  # TypeError: an unhashable value is unknown too
                if ignore_unknown:
                    at = unknown_at[column]
                    if at is not None:
                        out[offset + at] = 1.0
                    continue
                raise ValueError(
                    f"Found unknown categories [{value!r}] in column {column} during transform"
                ) from None
            if position is not None:
                out[offset + position] = 1.0
        return out

    return transform


def _columns(node: dict[str, Any]) -> RowFn:
    parts: list[tuple[list[int], RowFn | None]] = [
        (part["columns"], chain(part["steps"]) if part["steps"] else None) for part in node["parts"]
    ]

    def transform(row: Row) -> Row:
        out: Row = []
        for columns, fn in parts:
            selected = [row[i] for i in columns]
            out.extend(fn(selected) if fn is not None else selected)
        return out

    return transform


TRANSFORMS: dict[str, Callable[[dict[str, Any]], RowFn]] = {
    "standard_scaler": _standard_scaler,
    "minmax_scaler": _minmax_scaler,
    "robust_scaler": _robust_scaler,
    "maxabs_scaler": _maxabs_scaler,
    "simple_imputer": _imputer,
    "one_hot": _one_hot,
    "columns": _columns,
}


# The transforms of the common pipelines; the rest live in ``transforms_more`` (or the module
# ``HOMES`` names), which a package ships (and a request imports) only when its model uses one.
CORE = frozenset(TRANSFORMS)
# Transforms beyond CORE registered elsewhere than ``transforms_more``, by module.
HOMES = {"spline": "splines"}


def chain(steps: Sequence[dict[str, Any]]) -> RowFn:
    fns = []
    for step in steps:
        if step["op"] not in TRANSFORMS:
            # the module that registers it (and its siblings)
            __import__(f"{__package__}.{HOMES.get(step['op'], 'transforms_more')}")
        try:
            factory = TRANSFORMS[step["op"]]
        except KeyError:
            raise ValueError(
                f"lean model uses unknown transform {step['op']!r}; known: {sorted(TRANSFORMS)}"
            ) from None
        fns.append(factory(step))
    if not fns:
        return lambda row: row
    if len(fns) == 1:
        return fns[0]

    def chained(row: Row) -> Row:
        for fn in fns:
            row = fn(row)
        return row

    return chained
