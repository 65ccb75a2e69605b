"""sklambda: scikit-learn models as small, verified AWS Lambda prediction services."""
