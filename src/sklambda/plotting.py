"""Charts as PNG files: matplotlib behind the ``charts`` extra, imported only when one is drawn.

Figures are made with matplotlib's object API (``Figure`` on the Agg canvas), never ``pyplot``:
no global state, no GUI backend, nothing left open. Each stage draws its own charts
(:mod:`sklambda.benchmarking.charts`, :mod:`sklambda.costing.charts`) through these helpers, so
the install hint, the size and the look are the same everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.errors import SklambdaError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["COLORS", "ChartError", "figure", "plain_log", "require", "save"]

DPI = 100
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
_HINT = "charts need matplotlib: pip install 'sklambda[charts]' (or uv sync --extra charts)"


class ChartError(SklambdaError):
    """A chart was asked for but cannot be drawn (matplotlib missing, nothing to draw)."""


def require() -> None:
    """Fail early, before a long benchmark, when charts cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ChartError(_HINT) from None


def figure(width: float = 10.0, height: float = 4.8) -> Figure:
    """A new figure (inches; 100 dpi, so 10 × 4.8 is a 1000 × 480 PNG)."""
    require()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def plain_log(axis: Any, *, base: float = 10) -> None:
    """A log-scaled axis labelled with plain numbers (``600``, not ``6 × 10²``)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    axis.set_major_locator(LogLocator(base=base, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.4g}"))
    axis.set_minor_formatter(FuncFormatter(lambda value, _: ""))


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG (no timestamp in it, so a redraw of the same data is identical)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format="png", dpi=DPI, metadata={"Software": None})
    return target
