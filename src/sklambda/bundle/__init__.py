"""The bundle stage: a fitted estimator and the contract it carries, on disk.

- :mod:`~sklambda.bundle.format` — the files of a bundle and how they are read and checked;
- :mod:`~sklambda.bundle.store` — ``save`` / ``load`` / ``write_bundle`` (atomic);
- :mod:`~sklambda.bundle.model` — :class:`Model`: predict with the same validation as Lambda;
- :mod:`~sklambda.bundle.features` — feature specs from a DataFrame, frames from request rows;
- :mod:`~sklambda.bundle.persistence` — skops with sklambda's allowlist, joblib only if trusted;
- :mod:`~sklambda.bundle.legacy` — the classic tutorial's ``scaler.pkl`` + ``model.sav``.

Nothing is imported here, so ``import sklambda.bundle.format`` stays cheap.
"""
