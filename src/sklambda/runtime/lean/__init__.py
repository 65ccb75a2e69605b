"""The lean runtime's model families, one module each; ``lean_predict`` imports only the ones a
model uses (pure Python everywhere except ``networks`` and ``trees``, which use numpy)."""
