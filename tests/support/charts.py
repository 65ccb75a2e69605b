"""Checks that a chart file is a real, drawn PNG (decoded, not just named .png)."""

from __future__ import annotations

from pathlib import Path


def assert_real_png(path: Path, *, min_width: int = 600, min_height: int = 300) -> None:
    """Decode ``path`` with matplotlib's reader: RGBA pixels, big enough, not blank."""
    import numpy as np
    from matplotlib import image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pixels = image.imread(path)
    height, width, channels = pixels.shape
    assert channels in (3, 4)
    assert width >= min_width and height >= min_height, (width, height)
    rgb = pixels[..., :3].reshape(-1, 3)
    inked = (rgb < 0.95).any(axis=1).mean()
    assert inked > 0.02, f"{path} is nearly blank ({inked:.1%} of pixels drawn)"
    assert len(np.unique((rgb * 255).astype(int), axis=0)) > 20, "a single-colour image"
