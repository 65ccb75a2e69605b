"""The rows a package is proven on, with scikit-learn's answers for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sklambda.bundle.model import Model

PROBE_ROWS = 24
"""Rows drawn per spread (near the training data, and ten times wider), besides the sample."""


@dataclass(frozen=True)
class Probe:
    """Rows as a caller sends them, the same rows in feature order, and the expected answers."""

    rows: list[dict[str, Any]]
    ordered: list[list[Any]]
    expected: list[Any]
    expected_proba: list[list[float]] | None


def rows_in_order(model: Model, rows: list[dict[str, Any]]) -> list[list[Any]]:
    """``rows`` as plain lists in the manifest's feature order."""
    names = [f["name"] for f in model.features]
    return [[r[n] for n in names] for r in rows]


def _answered(model: Model, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The far-out rows scikit-learn answers: outside a model's domain (``log1p`` of -30 is
    NaN, which a KNN refuses) there is nothing to prove."""
    try:
        model.predict(rows)
        return rows
    except ValueError:
        kept = []
        for row in rows:
            try:
                model.predict([row])
            except ValueError:
                continue
            kept.append(row)
        return kept


def probe(model: Model) -> Probe:
    """The bundle's sample rows plus generated ones, and scikit-learn's answers for them."""
    from sklambda.bundle.features import probe_rows
    from sklambda.bundle.format import read_sample

    features = model.features
    rows = list(read_sample(model.path)["rows"]) if model.path else []
    # Near the data can still be beyond it (a narrow range is widened to +-1), where a spline
    # with extrapolation="error" refuses as scikit-learn does: keep what scikit-learn answers.
    rows += _answered(model, probe_rows(features, PROBE_ROWS, seed=1, spread=1.0))
    rows += _answered(model, probe_rows(features, PROBE_ROWS, seed=2, spread=10.0))
    expected = model.predict(rows)
    proba = model.predict_proba(rows) if model.manifest.get("probabilities") else None
    return Probe(rows, rows_in_order(model, rows), expected, proba)
