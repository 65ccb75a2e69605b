"""The model service inside Lambda: route an event, validate, predict, answer.

Standard library only at import; the predictor of the packaged runtime is loaded once, at init.
"""

from __future__ import annotations

import json
import os
import sys

from .card import model_card, openapi
from .contract import RequestError, RequestParser, parse_json, respond
from .events import http_request, http_response, is_warmup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .contract import Predictor
    from .events import HttpRequest

MANIFEST = "manifest.json"
DEFAULT_MAX_ROWS = 1000
MAX_ROWS_ENV = "SKLAMBDA_MAX_ROWS"
TRUE_WORDS = {"1", "true", "yes"}


def load_predictor(model_dir: str, runtime: str) -> Predictor:
    """The predictor for the runtime the package was built with."""
    if runtime == "lean":
        from . import lean_predict

        return lean_predict.load(model_dir)
    if runtime == "sklearn":
        from . import sklearn_predict  # type: ignore[attr-defined]  # shipped by sklearn packages

        return sklearn_predict.load(model_dir)
    raise RuntimeError(f"unknown runtime {runtime!r} in {os.path.join(model_dir, MANIFEST)}")


class Service:
    """Answers every kind of event for one packaged model.

    Parameters
    ----------
    manifest:
        The packaged manifest (with its ``package.runtime``).
    predictor:
        The loaded model.
    max_rows:
        The largest batch one request may carry.
    """

    def __init__(self, manifest: dict[str, Any], predictor: Predictor, max_rows: int | None):
        self.manifest = manifest
        self.predictor = predictor
        self.runtime = manifest.get("package", {}).get("runtime", "lean")
        self.parser = RequestParser.from_manifest(manifest, max_rows=max_rows)
        self.model_ref = {"name": manifest["name"], "version": manifest.get("version")}
        self.classes = manifest.get("classes")
        self._card = model_card(manifest, self.runtime)
        self._openapi: dict[str, Any] | None = None

    @classmethod
    def load(cls, model_dir: str) -> Service:
        with open(os.path.join(model_dir, MANIFEST), encoding="utf-8") as handle:
            manifest = json.load(handle)
        runtime = manifest.get("package", {}).get("runtime", "lean")
        max_rows = int(os.environ.get(MAX_ROWS_ENV, DEFAULT_MAX_ROWS))
        return cls(manifest, load_predictor(model_dir, runtime), max_rows)

    # -- entry ---------------------------------------------------------------------------------

    def handle(self, event: Any) -> Any:
        """Answer one Lambda event of any supported kind."""
        if is_warmup(event):
            return {"warm": True, "model": self.model_ref}
        try:
            request = http_request(event)
        except RequestError as error:
            return http_response(error.status, error.to_dict())
        if request is None:
            return self._direct(event)
        return self._http(request)

    def _direct(self, event: Any) -> dict[str, Any]:
        """A direct invoke: the event is the request; the answer is the body itself."""
        try:
            return self._predict(self.parser.parse(event))
        except RequestError as error:
            return error.to_dict()
        except Exception:
            return self._internal_error()

    def _http(self, request: HttpRequest) -> dict[str, Any]:
        path = request.path.rstrip("/") or "/"
        routes = {"/": ("GET", "POST"), "/predict": ("POST",), "/openapi.json": ("GET",)}
        allowed = routes.get(path)
        if allowed is None:
            return http_response(
                404,
                RequestError(
                    "not_found",
                    f"no route {request.path}; POST / or /predict to predict, GET / for the "
                    "model card, GET /openapi.json for the API",
                    status=404,
                ).to_dict(),
            )
        if request.method not in allowed:
            return http_response(
                405,
                RequestError(
                    "method_not_allowed",
                    f"{request.method} is not allowed on {path}; use {' or '.join(allowed)}",
                    status=405,
                ).to_dict(),
                headers={"allow": ", ".join(allowed)},
            )
        if request.method == "GET":
            if path == "/openapi.json":
                if self._openapi is None:
                    self._openapi = openapi(self.manifest)
                return http_response(200, self._openapi)
            return http_response(200, self._card)
        try:
            if not request.body:
                raise RequestError(
                    "empty",
                    'the body is empty; POST JSON such as {"instances": [{...}]}',
                    field="body",
                )
            parsed = self.parser.parse(parse_json(request.body))
            if request.query.get("probabilities", "").lower() in TRUE_WORDS:
                parsed = self.parser.parse({"instances": parsed.rows, "return_probabilities": True})
            return http_response(200, self._predict(parsed))
        except RequestError as error:
            return http_response(error.status, error.to_dict())
        except Exception:
            return http_response(500, self._internal_error())

    def _predict(self, parsed: Any) -> dict[str, Any]:
        return respond(parsed, self.predictor, classes=self.classes, model=self.model_ref)

    def _internal_error(self) -> dict[str, Any]:
        import traceback  # only when something broke

        # The traceback goes to the function's log (CloudWatch), never to the caller.
        traceback.print_exc(file=sys.stderr)
        return {"error": {"code": "internal_error", "message": "internal error"}}
