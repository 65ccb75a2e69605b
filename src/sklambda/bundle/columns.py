"""Reading the columns of a training table: what each one really holds, said out loud.

SQL tables often store everything as text (the ``sqlite3`` shell's ``.import --csv`` does). Before
features are described, each column is read for what it holds:

- text whose non-empty values all parse as numbers is **read as numbers** (an empty string, or a
  placeholder such as ``?`` or ``NA``, is a missing value);
- ISO date/time text (``1982-01-01``, ``1982-01-01 00:00:00``) and SQL date/timestamp columns are
  **read as dates**: one numeric feature of days since 1970-01-01 (see
  :mod:`sklambda.runtime.dates`); requests may send either ISO text or the number;
- a column with no value (all NULL or empty) or a single value is **dropped**: there is nothing
  to learn from it;
- text with a distinct value in (nearly) every row, and whole-number ``id`` columns, are **left
  out**: they look like identifiers or names, and a model would refuse every new one.

Naming the features (``--features``) overrides every choice of columns: the named columns are
used as they are (still read as numbers or dates). Every decision is returned as a
:class:`Decision`, which ``train`` prints and records in the manifest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sklambda.errors import DataError
from sklambda.runtime import dates

if TYPE_CHECKING:
    import pandas as pd

# Text read as a missing value in a column that otherwise holds numbers.
MISSING_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none", "-"})
# Text with at least this many distinct values, distinct in at least this share of its rows,
# looks like an identifier or a name rather than a category.
ID_MIN_DISTINCT = 20
ID_MIN_SHARE = 0.5
_ID_NAME = re.compile(r"(?:^|_)id$|^(?:rowid|index|key|uuid)$", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    """What was done with one column, and why."""

    column: str
    action: str  # "numbers" | "dates" | "missing" | "dropped" | "left_out"
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"column": self.column, "action": self.action, "reason": self.reason}

    def __str__(self) -> str:
        if self.action == "missing":
            return f"{self.column}: {self.reason} read as missing"
        verb = {
            "numbers": "read as numbers",
            "dates": "read as dates",
            "dropped": "dropped",
            "left_out": "left out",
        }.get(self.action, self.action)
        return f"{self.column}: {verb} ({self.reason})"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_numbers(column: pd.Series) -> tuple[pd.Series, int, set[str]] | None:
    """The column as float64 if every non-missing value is a number (or numeric text).

    Returns ``(numbers, how many placeholders became missing, which placeholders)``, or None.
    """
    import pandas as pd

    out: list[float] = []
    placeholders = 0
    tokens: set[str] = set()
    seen_number = False
    for value in column:
        if _missing(value):
            out.append(math.nan)
        elif _is_number(value):
            out.append(float(value))
            seen_number = True
        elif isinstance(value, str):
            text = value.strip()
            if text.lower() in MISSING_TOKENS:
                out.append(math.nan)
                if text:
                    placeholders += 1
                    tokens.add(text)
                continue
            try:
                number = float(text)
            except ValueError:
                return None
            if not math.isfinite(number):
                return None
            out.append(number)
            seen_number = True
        else:
            return None
    if not seen_number:
        return None
    return pd.Series(out, index=column.index, dtype="float64"), placeholders, tokens


def _as_dates(column: pd.Series) -> pd.Series | None:
    """The column as float64 epoch days if every non-empty value is an ISO date/time."""
    import pandas as pd

    out: list[float] = []
    seen = False
    for value in column:
        if _missing(value) or value is pd.NaT or (isinstance(value, str) and not value.strip()):
            out.append(math.nan)
            continue
        days = dates.epoch_days(value)
        if days is None:
            return None
        out.append(days)
        seen = True
    if not seen:
        return None
    return pd.Series(out, index=column.index, dtype="float64")


def _empty(column: pd.Series) -> bool:
    return all(_missing(v) or (isinstance(v, str) and not v.strip()) for v in column)


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 30 else text[:27] + "...")


def _blank(column: pd.Series) -> pd.Series:
    return column.map(lambda v: isinstance(v, str) and not v.strip())


def _numbers_said(name: str, column: pd.Series, placeholders: int, tokens: set[str]) -> Decision:
    detail = "its text values all parse as numbers"
    if placeholders:
        shown = ", ".join(sorted(repr(t) for t in tokens))
        detail += f"; {placeholders} {shown} read as missing"
    if _blank(column).any():
        detail += "; empty text read as missing"
    return Decision(name, "numbers", detail)


def _read_column(
    name: str, column: pd.Series, *, is_target: bool
) -> tuple[pd.Series, bool, list[Decision]]:
    """One column as what it holds: ``(values, is a date, decisions)``."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        days = _as_dates(column.astype(object))
        return (column if days is None else days), days is not None, []
    if not (pd.api.types.is_object_dtype(column) or isinstance(column.dtype, pd.StringDtype)):
        return column, False, []
    numbers = _as_numbers(column)
    if numbers is not None:
        values, placeholders, tokens = numbers
        said = any(isinstance(v, str) for v in column)
        return values, False, [_numbers_said(name, column, placeholders, tokens)] if said else []
    days = None if is_target else _as_dates(column)
    if days is not None:
        return days, True, []
    blank = _blank(column)
    if blank.any():
        missing = Decision(name, "missing", f"{int(blank.sum())} empty text value(s)")
        return column.where(~blank, None), False, [missing]
    return column, False, []


def _left_out(name: str, read: pd.Series, column: pd.Series, is_date: bool) -> Decision | None:
    """Why a column has nothing a model should learn from, or None when it has."""
    import pandas as pd

    values = read.dropna()
    distinct = values.nunique()
    if distinct <= 1:
        nulls = " or NULL" if len(values) < len(column) else ""
        return Decision(
            name, "dropped", f"one value ({_shown(values.iloc[0])}{nulls}) in every row"
        )
    text = not pd.api.types.is_numeric_dtype(read) and not is_date
    if text and distinct >= ID_MIN_DISTINCT and distinct >= ID_MIN_SHARE * len(values):
        return Decision(
            name,
            "left_out",
            f"looks like an ID or a name: {distinct} distinct values in {len(values)} rows; "
            "name it in --features to use it",
        )
    whole_ids = (
        not text
        and not is_date
        and _ID_NAME.search(name) is not None
        and distinct == len(values) == len(column)
        and bool((values == values.round()).all())
    )
    if whole_ids:
        return Decision(
            name,
            "left_out",
            "looks like an ID: a whole number, different in every row; name it in --features "
            "to use it",
        )
    return None


def read_columns(
    frame: pd.DataFrame, *, target: str, features: Sequence[str] | None = None
) -> tuple[pd.DataFrame, list[str], list[str], list[Decision]]:
    """Read ``frame``'s columns for what they hold.

    Returns ``(frame with the columns retyped, the feature names to train on, the names of the
    date features, the decisions)``. The target column is read as numbers when it holds them,
    and is never dropped here.

    Raises
    ------
    DataError
        A column named in ``features`` holds no value at all.
    """
    explicit = features is not None
    names = (
        list(features) if features is not None else [str(c) for c in frame.columns if c != target]
    )
    out = frame.copy()
    decisions: list[Decision] = []
    chosen: list[str] = []
    date_names: list[str] = []
    for name in [target, *names]:
        column = frame[name]
        is_target = name == target
        if _empty(column):
            if is_target:
                continue  # the target's own checks say what is wrong
            if explicit:
                raise DataError(
                    f'column "{name}" holds no value (every row is NULL or empty); there is '
                    "nothing to learn from it: leave it out of --features"
                )
            decisions.append(Decision(name, "dropped", "every row is NULL or empty"))
            continue
        out[name], is_date, said = _read_column(name, column, is_target=is_target)
        decisions.extend(said)
        if is_target:
            continue
        if is_date:
            decisions.append(
                Decision(name, "dates", "ISO dates/times, as days since 1970-01-01 (UTC)")
            )
        why = None if explicit else _left_out(name, out[name], column, is_date)
        if why is not None:
            decisions.append(why)
            continue
        chosen.append(name)
        if is_date:
            date_names.append(name)
    return out, chosen, date_names, decisions
