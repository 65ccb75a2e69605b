"""Code that runs inside AWS Lambda.

Everything under ``sklambda.runtime`` imports only the standard library (and numpy, lazily, when a
compiled model needs it), so that a cold start pays for nothing but the model. Nothing here may
import training, build or deploy code.
"""
