"""The dated price file: every price the cost model uses, with its unit, source and date.

``prices.json`` (package data) holds one row per price or allowance: ``region`` (or ``global``
for account-wide allowances such as the free tier), ``item``, ``price`` or ``quantity``,
``unit``, ``source``, ``quality`` (``primary`` / ``secondary`` / ``unconfirmed``) and
``date_read``; tiered prices carry ``tier_above`` (the monthly GB-seconds from which they apply),
instance types ``vcpus``. No price lives in code: the model asks this book for an item and the
answer keeps its row, so every figure of an estimate can be traced to a line of the file.

Units are checked against what each item must be priced in, so a file that says "per 1K
requests" is refused rather than misread by a factor of a thousand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklambda.costing.errors import PricesError

__all__ = ["DEFAULT_PRICES", "FORMAT", "PriceBook", "PriceRow", "load_prices"]

DEFAULT_PRICES = Path(__file__).with_name("prices.json")
FORMAT = "sklambda-prices"
FORMAT_VERSION = 1
GLOBAL = "global"
QUALITIES = ("primary", "secondary", "unconfirmed")

# item prefix → the unit its rows must state (the model's arithmetic depends on it).
UNITS = {
    "convention.hours_per_month": "hours",
    "lambda.free_tier.requests": "requests per month",
    "lambda.free_tier.gb_seconds": "GB-seconds per month",
    "lambda.requests": "USD per 1M requests",
    "lambda.duration.": "USD per GB-second",
    "lambda.provisioned.": "USD per GB-second",
    "api_gateway.": "USD per 1M requests",
    "sagemaker.realtime.": "USD per instance-hour",
    "sagemaker.serverless.duration": "USD per GB-second",
    "sagemaker.serverless.data": "USD per GB processed",
}
_REQUIRED = ("region", "item", "unit", "source", "quality", "date_read")


@dataclass(frozen=True)
class PriceRow:
    """One row of the price file; ``value`` is its price or quantity."""

    region: str
    item: str
    value: float
    unit: str
    source: str
    quality: str
    date_read: str
    tier_above: float = 0.0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def cite(self) -> str:
        """The row in a few words: ``lambda.requests us-east-1 = 0.2 USD per 1M requests``."""
        return f"{self.item} {self.region} = {self.value:g} {self.unit} ({self.quality})"


@dataclass(frozen=True)
class PriceBook:
    """The rows of one price file for one region (plus the global rows)."""

    path: Path
    region: str
    rows: tuple[PriceRow, ...]
    regions: tuple[str, ...]

    def has(self, item: str) -> bool:
        return any(row.item == item for row in self.rows)

    def row(self, item: str) -> PriceRow:
        """The one row of ``item`` (the first tier, for tiered items)."""
        return self.tiers(item)[0]

    def value(self, item: str) -> float:
        return self.row(item).value

    def tiers(self, item: str) -> list[PriceRow]:
        """Every row of ``item``, cheapest-first tier order (by ``tier_above``)."""
        found = sorted((r for r in self.rows if r.item == item), key=lambda r: r.tier_above)
        if not found:
            raise PricesError(
                f"{self.path} has no price for {item!r} in {self.region}; add a row for it "
                f"(regions in the file: {', '.join(self.regions)})"
            )
        return found

    def items(self, prefix: str) -> list[str]:
        """Items starting with ``prefix`` (e.g. every ``sagemaker.realtime.`` instance type)."""
        return sorted({r.item for r in self.rows if r.item.startswith(prefix)})

    def used(self, items: list[str]) -> list[PriceRow]:
        """The rows behind ``items`` (all tiers), for an estimate to cite."""
        return [row for item in items if self.has(item) for row in self.tiers(item)]


def load_prices(path: str | Path | None = None, region: str = "us-east-1") -> PriceBook:
    """Read a price file (default: the one shipped with sklambda) for ``region``.

    Raises
    ------
    PricesError
        When the file is missing, malformed, states a unit the model does not use for an item,
        or has no row for the region.
    """
    where = Path(path) if path is not None else DEFAULT_PRICES
    try:
        document = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PricesError(f"price file not found: {where}") from None
    except (OSError, ValueError) as exc:
        raise PricesError(f"{where} is not a readable JSON price file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PricesError(f'{where} is not a sklambda price file (expected "format": "{FORMAT}")')
    if document.get("format_version") != FORMAT_VERSION:
        raise PricesError(
            f"{where} has format_version {document.get('format_version')!r}; this sklambda "
            f"reads version {FORMAT_VERSION}"
        )
    raw_rows = document.get("rows")
    if not isinstance(raw_rows, list):
        raise PricesError(f'{where} lacks its "rows" list')
    rows = [_row(where, i, raw) for i, raw in enumerate(raw_rows)]
    regions = tuple(sorted({r.region for r in rows} - {GLOBAL}))
    if region not in regions:
        raise PricesError(
            f"{where} has no prices for region {region!r}; it has {', '.join(regions) or 'none'} "
            "(add the region's rows, or pick one of those)"
        )
    chosen = tuple(r for r in rows if r.region in (region, GLOBAL))
    return PriceBook(where, region, chosen, regions)


def _row(path: Path, index: int, raw: Any) -> PriceRow:
    where = f"{path} row {index}"
    if not isinstance(raw, dict):
        raise PricesError(f"{where} is not an object")
    missing = [key for key in _REQUIRED if not isinstance(raw.get(key), str) or not raw[key]]
    if missing:
        raise PricesError(f"{where} lacks {', '.join(missing)}")
    if ("price" in raw) == ("quantity" in raw):
        raise PricesError(f"{where} ({raw['item']}) needs exactly one of price and quantity")
    value = raw.get("price", raw.get("quantity"))
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PricesError(f"{where} ({raw['item']}) has a non-numeric or negative value")
    expected = next((u for p, u in UNITS.items() if raw["item"].startswith(p)), None)
    if expected is not None and raw["unit"] != expected:
        raise PricesError(
            f"{where}: {raw['item']} must be in {expected!r}, the file says {raw['unit']!r}"
        )
    if raw["quality"] not in QUALITIES:
        raise PricesError(f"{where}: quality must be one of {', '.join(QUALITIES)}")
    known = {*_REQUIRED, "price", "quantity", "tier_above", "note"}
    return PriceRow(
        region=raw["region"],
        item=raw["item"],
        value=float(value),
        unit=raw["unit"],
        source=raw["source"],
        quality=raw["quality"],
        date_read=raw["date_read"],
        tier_above=float(raw.get("tier_above", 0)),
        note=str(raw.get("note", "")),
        extra={k: v for k, v in raw.items() if k not in known},
    )
