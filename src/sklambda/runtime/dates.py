"""Dates and times as the number a date feature holds: days since 1970-01-01 00:00 UTC.

A date column of the training table (ISO text such as ``1982-01-01`` or ``1982-01-01 00:00:00``,
or a SQL date/timestamp) becomes one numeric feature, its *epoch days*: whole days for dates,
with the time of day as the fraction (``1970-01-02 12:00`` is 1.5). A time without a zone is
read as UTC; one with a zone (``Z``, ``+02:00``) is converted to UTC. Training and every request
go through :func:`epoch_days`, so the model sees the same number for the same date whichever
way it is written.

Standard library only: this module ships inside every Lambda package.
"""

from __future__ import annotations

import datetime as _dt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

UNIT = "epoch_days"
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_DAY = 86400.0


def parse(text: str) -> _dt.datetime | None:
    """An ISO 8601 date or date-time written ``YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][zone]``.

    ``None`` when ``text`` is not one (compact ``19820101`` and week dates are not accepted: a
    column of them is read as numbers or text instead).
    """
    text = text.strip()
    if len(text) < 10 or text[4] != "-" or text[7] != "-" or not text[:4].isdigit():
        return None
    try:
        value = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value


def to_days(value: _dt.datetime | _dt.date) -> float:
    """Epoch days of a date or date-time (naive ones read as UTC)."""
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return (value - _EPOCH).total_seconds() / _DAY


def epoch_days(value: Any) -> float | None:
    """Epoch days of an ISO string, a ``datetime`` or a ``date``; ``None`` if it is none of them."""
    if isinstance(value, str):
        parsed = parse(value)
        return None if parsed is None else to_days(parsed)
    if isinstance(value, _dt.date):
        return to_days(value)
    return None


def iso(days: float) -> str:
    """The ISO date (with the time when not midnight) of a number of epoch days."""
    moment = _EPOCH + _dt.timedelta(days=days)
    if moment.hour == moment.minute == moment.second == 0 and not moment.microsecond:
        return moment.date().isoformat()
    return moment.replace(tzinfo=None).isoformat(sep=" ")
