"""The package directory (DIST) the emulator runs: function.zip, layer.zip, build.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklambda.dist import (
    BUILD_JSON,
    FUNCTION_ZIP,
    LAYER_ZIP,
    check_artifacts,
    check_unzipped,
    read_report,
)
from sklambda.local.errors import DistError

__all__ = ["Dist", "load_dist"]

_REQUIRED_KEYS = ("python", "handler")


@dataclass(frozen=True)
class Dist:
    """What the emulator needs to know about a built package.

    Attributes
    ----------
    path : Path
        The package directory.
    python : str
        Minor version of the target Lambda runtime, e.g. ``"3.12"``.
    handler : str
        ``module.function`` as Lambda's ``Handler`` setting.
    function_zip : Path
        The function code; the handler module sits at the zip's root.
    layer_zip : Path or None
        An optional layer, Python packages under ``python/``.
    arch : str
        ``x86_64`` or ``arm64`` (informational: the emulator runs on the host's architecture).
    name : str
        Function name: ``build.json``'s ``name`` when present, else the directory's name.
    report : dict
        ``build.json`` as :func:`sklambda.dist.read_report` read it.
    """

    path: Path
    python: str
    handler: str
    function_zip: Path
    layer_zip: Path | None
    arch: str
    name: str
    report: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def load_dist(path: str | Path) -> Dist:
    """Read a package directory.

    Parameters
    ----------
    path : str or Path
        Directory holding ``function.zip``, ``build.json`` and optionally ``layer.zip``.

    Returns
    -------
    Dist

    Raises
    ------
    DistError
        When a required file or ``build.json`` key is missing, an artifact ``build.json`` lists
        does not match its sha256 (packages written by ``sklambda build``; hand-made ones list
        none), or the zips declare more unzipped bytes than Lambda allows.
    """
    root = Path(path).resolve()
    manifest = root / BUILD_JSON
    meta: dict[str, Any] = dict(read_report(root, error=DistError))
    function_zip = root / FUNCTION_ZIP
    if not function_zip.is_file():
        raise DistError(
            f"{FUNCTION_ZIP} not found in {root}; a package directory needs {FUNCTION_ZIP} and "
            f"{BUILD_JSON} (run `sklambda build` to make one)"
        )
    missing = [key for key in _REQUIRED_KEYS if not isinstance(meta.get(key), str)]
    if missing:
        raise DistError(
            f"{manifest} lacks {', '.join(repr(k) for k in missing)}; expected e.g. "
            '{"python": "3.12", "handler": "sklambda_handler.handler"}'
        )
    if "." not in meta["handler"]:
        raise DistError(
            f"handler {meta['handler']!r} in {manifest} must be 'module.function', "
            "e.g. 'sklambda_handler.handler'"
        )
    layer_zip = root / LAYER_ZIP
    if "artifacts" in meta:
        check_artifacts(root, meta, DistError)
    check_unzipped([z for z in (function_zip, layer_zip) if z.is_file()], DistError)
    name = meta.get("name")
    return Dist(
        path=root,
        python=meta["python"],
        handler=meta["handler"],
        function_zip=function_zip,
        layer_zip=layer_zip if layer_zip.is_file() else None,
        arch=str(meta.get("arch", "x86_64")),
        name=name if isinstance(name, str) and name else root.name,
        report=meta,
    )
