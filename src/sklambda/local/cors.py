"""CORS on the function URL, configured as AWS configures it (the ``Cors`` dict of the Lambda API).

When a URL has CORS settings, Lambda answers browsers' preflight requests (``OPTIONS`` with
``Origin`` and ``Access-Control-Request-Method``) itself, without invoking the function, and adds
the CORS headers to every response to an allowed origin, replacing any ``Access-Control-*``
headers the function returned. A disallowed origin gets no CORS headers (the browser then blocks
the call). Without CORS settings every request, preflights included, reaches the function.

:class:`Cors` reads and writes AWS's shape, ``{"AllowOrigins", "AllowMethods", "AllowHeaders",
"ExposeHeaders", "MaxAge", "AllowCredentials"}``, so the local URL and a deployed one
(``CreateFunctionUrlConfig(Cors=...)``) are configured from the same dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sklambda.local.errors import SettingsError
from sklambda.local.url_events import HttpResponse

__all__ = ["Cors"]

_AWS_KEYS = {
    "AllowOrigins": "allow_origins",
    "AllowMethods": "allow_methods",
    "AllowHeaders": "allow_headers",
    "ExposeHeaders": "expose_headers",
    "MaxAge": "max_age",
    "AllowCredentials": "allow_credentials",
}
# AWS's allowed values for AllowMethods.
_METHODS = frozenset({"GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"})
# The longest MaxAge AWS accepts (seconds).
_MAX_AGE = 86400


@dataclass(frozen=True)
class Cors:
    """A function URL's CORS settings (AWS's ``Cors`` structure, in Python spelling)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def __post_init__(self) -> None:
        for origin in self.allow_origins:
            if origin != "*" and "://" not in origin:
                raise SettingsError(
                    f"CORS origin {origin!r} must be a scheme and host, e.g. "
                    "'https://app.example.com' or 'http://localhost:3000', or '*'"
                )
        bad = sorted(m for m in self.allow_methods if m.upper() not in _METHODS)
        if bad:
            raise SettingsError(f"CORS AllowMethods {bad} not among {sorted(_METHODS)}")
        if self.max_age is not None and not 0 <= self.max_age <= _MAX_AGE:
            raise SettingsError(f"CORS MaxAge must be 0-{_MAX_AGE} seconds, got {self.max_age}")

    @classmethod
    def from_aws(cls, config: Mapping[str, Any]) -> Cors:
        """From the Lambda API's ``Cors`` dict; unknown keys are refused."""
        unknown = sorted(set(config) - set(_AWS_KEYS))
        if unknown:
            raise SettingsError(f"unknown CORS keys {unknown}; AWS's are {sorted(_AWS_KEYS)}")
        values: dict[str, Any] = {}
        for aws_key, field in _AWS_KEYS.items():
            if aws_key not in config:
                continue
            value = config[aws_key]
            if field in ("max_age", "allow_credentials"):
                values[field] = value
            else:
                if isinstance(value, str) or not isinstance(value, Iterable):
                    raise SettingsError(f"CORS {aws_key} must be a list of strings, got {value!r}")
                values[field] = tuple(str(item) for item in value)
        return cls(**values)

    @classmethod
    def for_origins(cls, origins: Iterable[str], *, signed: bool = False) -> Cors:
        """What ``sklambda serve --cors-origin`` configures: the model's routes and JSON bodies.

        ``signed`` also allows the SigV4 headers a browser sends to an ``AWS_IAM`` URL.
        """
        headers = ["content-type"]
        if signed:
            headers += [
                "authorization",
                "x-amz-date",
                "x-amz-security-token",
                "x-amz-content-sha256",
            ]
        return cls(
            allow_origins=tuple(origins),
            allow_methods=("GET", "POST"),
            allow_headers=tuple(headers),
            max_age=300,
        )

    def to_aws(self) -> dict[str, Any]:
        """The Lambda API's ``Cors`` dict (keys with empty values left out)."""
        out: dict[str, Any] = {}
        for aws_key, field in _AWS_KEYS.items():
            value = getattr(self, field)
            if value in ((), None):
                continue
            out[aws_key] = list(value) if isinstance(value, tuple) else value
        return out

    # -- answering ------------------------------------------------------------------------------

    def _allowed_origin(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin``, or None if not allowed."""
        if not origin:
            return None
        if "*" in self.allow_origins:
            # A wildcard cannot carry credentials: echo the origin then, as browsers require.
            return origin if self.allow_credentials else "*"
        wanted = origin.lower().rstrip("/")
        if any(o.lower().rstrip("/") == wanted for o in self.allow_origins):
            return origin
        return None

    @staticmethod
    def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
        """``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method`` (lower-case keys)."""
        return (
            method == "OPTIONS"
            and "origin" in headers
            and "access-control-request-method" in headers
        )

    def preflight(self, headers: Mapping[str, str]) -> HttpResponse:
        """The answer to a preflight (``headers``: the request's, lower-case keys)."""
        allowed = self._allowed_origin(headers.get("origin"))
        method = headers.get("access-control-request-method", "").strip().upper()
        methods = {m.upper() for m in self.allow_methods}
        requested = [
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        allowed_headers = {h.lower() for h in self.allow_headers}
        ok = (
            allowed is not None
            and ("*" in methods or method in methods)
            and ("*" in allowed_headers or all(h in allowed_headers for h in requested))
        )
        if not ok:
            return HttpResponse(200, [("Vary", "Origin")])
        out = [("Access-Control-Allow-Origin", allowed or "")]
        out.append(
            (
                "Access-Control-Allow-Methods",
                method if "*" in methods else ", ".join(sorted(methods)),
            )
        )
        if requested:
            out.append(
                (
                    "Access-Control-Allow-Headers",
                    ", ".join(requested)
                    if "*" in allowed_headers
                    else ", ".join(self.allow_headers),
                )
            )
        if self.allow_credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        if self.max_age is not None:
            out.append(("Access-Control-Max-Age", str(self.max_age)))
        out.append(("Vary", "Origin"))
        return HttpResponse(200, out)

    def decorate(self, response: HttpResponse, origin: str | None) -> HttpResponse:
        """``response`` with the URL's CORS headers in place of the function's own."""
        headers = [
            (name, value)
            for name, value in response.headers
            if not name.lower().startswith("access-control-")
        ]
        allowed = self._allowed_origin(origin)
        if allowed is not None:
            headers.append(("Access-Control-Allow-Origin", allowed))
            if self.expose_headers:
                headers.append(("Access-Control-Expose-Headers", ", ".join(self.expose_headers)))
            if self.allow_credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
        if allowed != "*":
            headers.append(("Vary", "Origin"))
        return HttpResponse(response.status, headers, response.body)
