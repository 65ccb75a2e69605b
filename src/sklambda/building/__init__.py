"""The build stage: a bundle → the smallest Lambda package that reproduces it, proven first.

``sklambda.build`` (:func:`~sklambda.building.builder.build`) runs the phases in
:mod:`~sklambda.building.builder`; the rest of this package holds one phase's tools each: the
probe rows (:mod:`probe`), runtime forms and the choice between them (:mod:`forms`), the
interpreters here and twins (:mod:`machines`), the task root (:mod:`task_root`), the layer and its
cache (:mod:`layer`), wheels for the target (:mod:`wheels`, :mod:`targets`), slimming
(:mod:`slim`), bytecode (:mod:`bytecode`), zips (:mod:`zips`), container contexts (:mod:`image`),
the report (:mod:`report`) and the proof in the emulator (:mod:`verify`).
"""

from sklambda.building.builder import BuildResult, build
from sklambda.errors import BuildError

__all__ = ["BuildError", "BuildResult", "build"]
