"""Deterministic zip archives and their sizes (the numbers Lambda's limits are checked on)."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sklambda.files import sha256_file

if TYPE_CHECKING:
    from sklambda.dist import ArtifactReport

# A fixed timestamp: the same files give the same bytes, so an unchanged artifact keeps its hash.
EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Artifact:
    path: Path
    zipped: int
    unzipped: int
    files: int
    sha256: str

    def to_dict(self) -> ArtifactReport:
        return {
            "file": self.path.name,
            "zipped_bytes": self.zipped,
            "unzipped_bytes": self.unzipped,
            "files": self.files,
            "sha256": self.sha256,
        }


def write_zip(
    source: Path, destination: Path, *, prefix: str = "", compresslevel: int = 6
) -> Artifact:
    """Zip ``source``'s tree (sorted, fixed timestamps, modes kept) under ``prefix``, deflated
    at ``compresslevel`` (9: ~1% smaller than 6, ~2x the time)."""
    files = sorted(p for p in source.rglob("*") if p.is_file())
    unzipped = 0
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            arcname = prefix + path.relative_to(source).as_posix()
            info = zipfile.ZipInfo(arcname, date_time=EPOCH)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            zf.writestr(info, data, compresslevel=compresslevel)
    return Artifact(
        destination, destination.stat().st_size, unzipped, len(files), sha256_file(destination)
    )
