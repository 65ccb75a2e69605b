"""Feature descriptions: what the model's input columns are, and coercing data to them.

The manifest's ``features`` list is the model's contract: names, order, types, ranges and
categories. Both training and serving pass data through :func:`frame_from_rows` /
:func:`coerce_frame`, so the model always sees the same dtypes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Required, TypedDict

from sklambda.errors import DataError
from sklambda.runtime.dates import UNIT as DATE_UNIT
from sklambda.runtime.dates import epoch_days

if TYPE_CHECKING:
    import pandas as pd

MAX_CATEGORIES = 1000


class FeatureSpec(TypedDict, total=False):
    """One entry of the manifest's ``features``: a model input column (see :func:`describe`)."""

    name: Required[str]
    type: Required[str]  # "number" | "string"
    dtype: str
    nullable: bool
    min: float | None  # numbers: the training range
    max: float | None
    categories: list[str]  # strings: the categories seen in training
    unknown: str  # strings: "ignore" when trained with --unknown-category ignore
    date: str  # numbers that are dates: "epoch_days" (sklambda.runtime.dates)


def describe(frame: pd.DataFrame, dates: Sequence[str] = ()) -> list[FeatureSpec]:
    """Describe each column of ``frame`` as a manifest feature.

    Numbers (and booleans) become ``{"type": "number", "min", "max"}``; text and categories
    become ``{"type": "string", "categories": [...]}``. ``nullable`` says whether the column had
    missing values, which the model then imputes. The columns named in ``dates`` hold epoch days
    (:mod:`sklambda.runtime.dates`) and are marked ``"date": "epoch_days"``: requests may send
    them as ISO dates.

    Raises
    ------
    DataError
        A column has a type sklambda cannot train on (dates, binary...), or looks like an id.
    """
    import pandas as pd

    features: list[FeatureSpec] = []
    for name in frame.columns:
        column = frame[name]
        nullable = bool(column.isna().any())
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            values = column.dropna().astype("float64")
            finite = values[values.map(math.isfinite)]
            if len(finite) < len(values):
                raise DataError(
                    f'column "{name}" has infinite values; replace or drop them before training'
                )
            spec: FeatureSpec = {
                "name": str(name),
                "type": "number",
                "dtype": str(column.dtype),
                "nullable": nullable,
                "min": float(finite.min()) if len(finite) else None,
                "max": float(finite.max()) if len(finite) else None,
            }
            if name in dates:
                spec["date"] = DATE_UNIT
            features.append(spec)
        elif pd.api.types.is_object_dtype(column) or isinstance(
            column.dtype, pd.CategoricalDtype | pd.StringDtype
        ):
            values = column.dropna()
            if values.map(lambda v: isinstance(v, bytes)).any():
                raise DataError(f'column "{name}" holds binary data; sklambda cannot train on it')
            categories = sorted({str(v) for v in values})
            if len(categories) > MAX_CATEGORIES:
                raise DataError(
                    f'column "{name}" has {len(categories)} distinct text values (more than '
                    f"{MAX_CATEGORIES}); it looks like an id or free text: leave it out with "
                    "--features"
                )
            features.append(
                {
                    "name": str(name),
                    "type": "string",
                    "dtype": "str",
                    "nullable": nullable,
                    "categories": categories,
                }
            )
        else:
            raise DataError(
                f'column "{name}" has type {column.dtype}, which sklambda cannot train on; '
                "convert it to a number or text in the query, or leave it out with --features"
            )
    return features


def coerce_frame(frame: pd.DataFrame, features: list[FeatureSpec]) -> pd.DataFrame:
    """Return ``frame``'s feature columns with the dtypes the model was trained on.

    Numbers become float64 (missing as NaN); text becomes Python ``str`` objects with missing as
    NaN (``SimpleImputer`` does not see ``None`` as missing in object columns).
    """
    import numpy as np
    import pandas as pd

    out = {}
    for spec in features:
        column = frame[spec["name"]]
        if spec["type"] == "number":
            if spec.get("date") is not None and not pd.api.types.is_numeric_dtype(column):
                column = pd.Series(
                    [_days(v) for v in column],
                    index=column.index,
                    dtype="float64",
                )
            out[spec["name"]] = pd.to_numeric(column, errors="raise").astype("float64")
        else:
            out[spec["name"]] = pd.Series(
                [np.nan if _missing(v) else str(v) for v in column],
                index=column.index,
                dtype="object",
            )
    return pd.DataFrame(out, index=frame.index)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _days(value: Any) -> Any:
    """A date feature's value as epoch days: numbers as they are, ISO text and dates converted."""
    if _missing(value) or isinstance(value, int | float):
        return value
    days = epoch_days(value)
    if days is None:
        raise DataError(f"{value!r} is not a date; send ISO text such as 1982-01-01")
    return days


def frame_from_rows(rows: list[list[Any]], features: list[FeatureSpec]) -> pd.DataFrame:
    """Validated request rows (manifest order) as a DataFrame the model accepts."""
    import numpy as np
    import pandas as pd

    names = [f["name"] for f in features]
    if all(f["type"] == "number" for f in features):
        # One C-ordered float block: the model then sees the same memory layout as a caller's
        # numpy array, so BLAS sums in the same order and predictions match to the last bit.
        values = np.array(rows, dtype="float64").reshape(len(rows), len(names))
        return pd.DataFrame(values, columns=names, copy=False)
    frame = pd.DataFrame(rows, columns=names, dtype="object")
    return coerce_frame(frame, features)


def synthetic_rows(features: list[FeatureSpec], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Rows drawn from the recorded ranges and categories, for bundles of private data."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for spec in features:
        for row in rows:
            if spec["type"] == "number":
                low = spec.get("min")
                high = spec.get("max")
                low = 0.0 if low is None else low
                high = low + 1.0 if high is None else high
                value = float(rng.uniform(low, high))
                if spec.get("dtype", "").startswith(("int", "uint", "bool")):
                    value = float(round(value))
                row[spec["name"]] = value
            else:
                categories = spec.get("categories") or ["?"]
                row[spec["name"]] = str(categories[int(rng.integers(len(categories)))])
    return rows


def probe_rows(
    features: list[FeatureSpec], n: int, seed: int = 0, *, spread: float = 1.0
) -> list[dict[str, Any]]:
    """Rows for proving a package: drawn across ``spread`` times each recorded range.

    ``spread=1`` stays inside what training saw; ``spread=10`` goes far outside it on both sides,
    where a reimplementation that only matches on familiar data would be caught.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = synthetic_rows(features, n, seed=seed)
    for spec in features:
        low, high = spec.get("min"), spec.get("max")
        if spec["type"] != "number" or low is None or high is None:
            continue
        centre, half = (low + high) / 2, max((high - low) / 2, 1.0)
        for row in rows:
            row[spec["name"]] = float(centre + rng.uniform(-spread, spread) * half)
    return rows
