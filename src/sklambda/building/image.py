"""A container-image build context, for models whose dependencies exceed Lambda's 250 MB.

The image holds the same verified runtime and the same slimmed packages as the zip build, in
the task root of AWS's Lambda base image for the target Python and architecture. This machine
has no Docker engine: the context's file tree is verified by running it in the local emulator,
and its Dockerfile is linted (hadolint in the test suite).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sklambda.building.targets import Target
from sklambda.dist import FUNCTION_ZIP, IMAGE_DIR, LAYER_ZIP

BASE_IMAGE = "public.ecr.aws/lambda/python"

DOCKERFILE = """\
# Written by `sklambda build --image`: the verified function code and its slimmed packages,
# in the task root of AWS's Lambda base image for {runtime} on {arch}.
FROM {base}:{python}-{arch}

COPY task/ ${{LAMBDA_TASK_ROOT}}/

CMD ["{handler}"]
"""

README = """\
# {name}: container image for AWS Lambda ({runtime}, {arch})

```sh
docker build --platform {platform} -t {name}:{version} .
aws ecr create-repository --repository-name {name}            # once
aws ecr get-login-password \\
  | docker login --username AWS --password-stdin ACCOUNT.dkr.ecr.REGION.amazonaws.com
docker tag {name}:{version} ACCOUNT.dkr.ecr.REGION.amazonaws.com/{name}:{version}
docker push ACCOUNT.dkr.ecr.REGION.amazonaws.com/{name}:{version}
sklambda deploy .. --name {name} --image-uri ACCOUNT.dkr.ecr.REGION.amazonaws.com/{name}:{version}
```
"""


def docker_platform(tgt: Target) -> str:
    return "linux/arm64" if tgt.arch == "arm64" else "linux/amd64"


def write_context(
    destination: Path,
    task_root: Path,
    site: Path | None,
    tgt: Target,
    *,
    handler: str,
    name: str,
    version: str,
) -> Path:
    """Write ``destination/image/``: Dockerfile, README and ``task/`` (code + packages)."""
    context = destination / IMAGE_DIR
    task = context / "task"
    shutil.copytree(task_root, task)
    if site is not None:
        # Packages beside the code in the task root: first on sys.path in the base image.
        shutil.copytree(site, task, dirs_exist_ok=True)
    values = {
        "runtime": tgt.runtime,
        "arch": tgt.arch,
        "platform": docker_platform(tgt),
        "base": BASE_IMAGE,
        "python": tgt.python,
        "handler": handler,
        "name": name.lower(),
        "version": version,
    }
    (context / "Dockerfile").write_text(DOCKERFILE.format(**values))
    (context / "README.md").write_text(README.format(**values))
    return context


def replace_zips(
    dist: Path, staging: Path, tgt: Target, *, handler: str, name: str, version: str
) -> dict[str, Any]:
    """Replace the zips in ``dist`` by an image build context holding what they hold.

    Returns the report's ``image`` section.
    """
    import zipfile

    task = staging / "image-task"
    with zipfile.ZipFile(dist / FUNCTION_ZIP) as zf:
        zf.extractall(task)
    site = None
    if (dist / LAYER_ZIP).exists():
        with zipfile.ZipFile(dist / LAYER_ZIP) as zf:
            zf.extractall(staging / "image-layer")
        site = staging / "image-layer" / "python"
        (dist / LAYER_ZIP).unlink()
    (dist / FUNCTION_ZIP).unlink()
    context = write_context(dist, task, site, tgt, handler=handler, name=name, version=version)
    files = [p for p in (context / "task").rglob("*") if p.is_file()]
    return {
        "context": IMAGE_DIR,
        "dockerfile": f"{IMAGE_DIR}/Dockerfile",
        "base": f"{BASE_IMAGE}:{tgt.python}-{tgt.arch}",
        "platform": docker_platform(tgt),
        "task_bytes": sum(p.stat().st_size for p in files),
        "files": len(files),
    }
