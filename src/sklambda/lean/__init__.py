"""The lean stage: a fitted estimator → plain parameters that reproduce it without scikit-learn.

- :mod:`~sklambda.lean.compiler` — estimator → :class:`LeanModel` (``lean.json`` + arrays), or
  :class:`LeanUnsupportedError` naming the step; proven equal to scikit-learn before use.

What runs inside Lambda is :mod:`sklambda.runtime.lean_predict`; this package never ships.
"""
