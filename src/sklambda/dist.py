"""The package directory format that ``sklambda build`` writes and every later stage reads.

```
dist/
  build.json      the build report: target, handler, artifacts with their sha256, proof
  function.zip    the handler, sklambda's runtime modules, the model
  layer.zip       numpy / scikit-learn for the target, when the runtime needs them
  image/          a container build context instead of the zips (``build --image``)
  tuning.json     the memory size ``sklambda tune --apply`` chose (read by ``deploy``)
```
"""

from __future__ import annotations

BUILD_JSON = "build.json"
FUNCTION_ZIP = "function.zip"
LAYER_ZIP = "layer.zip"
IMAGE_DIR = "image"
TUNING_JSON = "tuning.json"
"""The memory size ``sklambda tune --apply`` chose; ``sklambda deploy`` reads it."""
