"""CORS of the function URL (``deploy --cors-origin URL``), and where a deploy records it.

Lambda answers a browser's preflight itself from the URL's ``Cors`` configuration, and it
overrides CORS headers the function sets. sklambda's configuration: the origins given,
``GET``/``POST`` (the model card and predictions), the headers a request sends
(``content-type``, ``authorization``, and for an ``AWS_IAM`` URL the SigV4 headers a signing
browser adds), a ten-minute preflight cache. ``*`` only for a public URL: a signed URL open to
every origin would let any page spend the caller's credentials.

The configuration is also written to ``DIST/deploy.json`` (``{"cors": {…}}``, AWS's shape), so
``sklambda serve`` of the same package can answer preflights the way the deployed URL does
(:func:`recorded_cors`, standard library only).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from sklambda.aws.errors import DeployError

DEPLOY_JSON = "deploy.json"
ALLOW_METHODS = ("GET", "POST")
ALLOW_HEADERS = ("content-type", "authorization")
SIGV4_HEADERS = ("x-amz-date", "x-amz-security-token", "x-amz-content-sha256")
MAX_AGE = 600
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def check_origin(origin: str, public: bool) -> str:
    if origin == "*":
        if not public:
            raise DeployError(
                "--cors-origin '*' is only for a public URL (--public): an AWS_IAM URL open to "
                "every origin lets any web page call it with a visitor's credentials; name the "
                "origins (--cors-origin https://app.example.com)"
            )
        return origin
    if not _ORIGIN.match(origin):
        raise DeployError(
            f"--cors-origin takes an origin: scheme://host[:port], no path (e.g. "
            f'https://app.example.com or http://localhost:3000), got "{origin}"'
        )
    return origin.lower()


def cors_config(origins: tuple[str, ...], public: bool) -> dict[str, Any] | None:
    """The URL's ``Cors`` for these origins (None: no origins, no CORS)."""
    if not origins:
        return None
    checked = sorted({check_origin(o, public) for o in origins})
    headers = ALLOW_HEADERS if public else ALLOW_HEADERS + SIGV4_HEADERS
    return {
        "AllowOrigins": checked,
        "AllowMethods": list(ALLOW_METHODS),
        "AllowHeaders": list(headers),
        "MaxAge": MAX_AGE,
    }


def same_cors(found: dict[str, Any] | None, wanted: dict[str, Any] | None) -> bool:
    """Whether a URL's ``Cors`` (as AWS returns it) is ``wanted`` (order and case aside)."""

    def norm(cors: dict[str, Any] | None) -> dict[str, Any]:
        cors = cors or {}
        return {
            key: sorted(str(v).lower() for v in cors.get(key) or [])
            for key in ("AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders")
        } | {
            "MaxAge": cors.get("MaxAge") or 0,
            "AllowCredentials": bool(cors.get("AllowCredentials")),
        }

    return norm(found) == norm(wanted)


def record(dist: Path, cors: dict[str, Any] | None, *, name: str, url: str, auth: str) -> Path:
    """Write ``deploy.json`` next to build.json (replaced whole, atomically)."""
    path = Path(dist) / DEPLOY_JSON
    document = {"function": name, "url": url, "auth_type": auth, "cors": cors}
    tmp = path.with_name(f".{DEPLOY_JSON}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.replace(path)
    return path


def recorded_cors(dist: str | Path) -> dict[str, Any] | None:
    """The ``Cors`` the last deploy of this package configured (None: none, or never deployed).

    For ``sklambda serve --cors-origin`` and the local front: the same dict shape as AWS's
    (``AllowOrigins``, ``AllowMethods``, ``AllowHeaders``, ``MaxAge``).
    """
    path = Path(dist) / DEPLOY_JSON
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    cors = document.get("cors") if isinstance(document, dict) else None
    return cors if isinstance(cors, dict) else None
