"""The model service inside Lambda: route an event, validate, predict, answer.

Standard library only at import; the predictor of the packaged runtime is loaded once, at init.
"""

from __future__ import annotations

import json
import os
import sys
import time

from .contract import RequestError, RequestParser, parse_json, respond
from .events import (
    MAX_BODY_BYTES,
    event_source,
    http_request,
    http_response,
    is_warmup,
    shape_response,
    unsupported,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .contract import Predictor
    from .events import HttpRequest
    from .metrics import Metrics, Record

MANIFEST = "manifest.json"
# The 6 MB payload bounds a batch (a 10,000-row batch of the seed model is ~1.5 MB); this cap
# only keeps a batch of tiny rows from exhausting a small function's memory. 0 or none: no cap.
DEFAULT_MAX_ROWS = 100_000
MAX_ROWS_ENV = "SKLAMBDA_MAX_ROWS"
TRUE_WORDS = {"1", "true", "yes"}
METRICS_ENV = "SKLAMBDA_METRICS"  # 0 / false / no / off: no EMF line
OFF_WORDS = {"0", "false", "no", "off"}


def load_predictor(model_dir: str, runtime: str) -> Predictor:
    """The predictor for the runtime the package was built with."""
    if runtime == "lean":
        from . import lean_predict

        return lean_predict.load(model_dir)
    if runtime == "sklearn":
        from . import sklearn_predict  # shipped by sklearn packages only

        return sklearn_predict.load(model_dir)
    raise RuntimeError(f"unknown runtime {runtime!r} in {os.path.join(model_dir, MANIFEST)}")


MAX_HOLD_MS = 1000


def _hold(event: dict[str, Any]) -> dict[str, Any]:
    """Keep-warm with N parallel pings (``"concurrency": N, "hold_ms": H``): hold this
    environment H ms (at most 1 s) so the N pings overlap and need N environments."""
    count, hold = event.get("concurrency"), event.get("hold_ms")
    if not isinstance(count, int) or count <= 1 or not isinstance(hold, int | float):
        return {}
    held = max(0.0, min(float(hold), MAX_HOLD_MS))
    time.sleep(held / 1000)
    return {"held_ms": held}


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
    metrics:
        Writes one EMF line per invocation (:mod:`.metrics`); None: no metrics.
    """

    def __init__(
        self,
        manifest: dict[str, Any],
        predictor: Predictor,
        max_rows: int | None,
        metrics: Metrics | None = None,
    ):
        self.manifest = manifest
        self.predictor = predictor
        self.runtime = manifest.get("package", {}).get("runtime", "lean")
        self.parser = RequestParser.from_manifest(
            manifest,
            max_rows=max_rows,
            float32=bool(getattr(predictor, "float32_inputs", False)),
        )
        self.model_ref = {"name": manifest["name"], "version": manifest.get("version")}
        self.classes = manifest.get("classes")
        self._card: dict[str, Any] | None = None  # built at the first GET (.card: not at INIT)
        self._openapi: dict[str, Any] | None = None
        self.metrics = metrics
        self._record: Record | None = None  # the invocation running (one at a time per process)
        self._request_id: str | None = None

    @classmethod
    def load(cls, model_dir: str) -> Service:
        with open(os.path.join(model_dir, MANIFEST), encoding="utf-8") as handle:
            manifest = json.load(handle)
        runtime = manifest.get("package", {}).get("runtime", "lean")
        return cls(manifest, load_predictor(model_dir, runtime), _max_rows(), _metrics(manifest))

    # -- entry ---------------------------------------------------------------------------------

    def handle(self, event: Any, context: Any = None) -> Any:
        """Answer one Lambda event of any supported kind; with metrics, write its EMF line."""
        self._request_id = getattr(context, "aws_request_id", None)
        if self.metrics is None:
            return self._answer(event)
        self._record = record = self.metrics.begin(context)
        try:
            response = self._answer(event)
        finally:
            self._record = None
        self.metrics.end(record, response, warmup=is_warmup(event))
        return response

    def _answer(self, event: Any) -> Any:
        if is_warmup(event):
            return {"warm": True, "model": self.model_ref, **_hold(event)}
        source = event_source(event)
        if source is not None:
            raise unsupported(source)
        try:
            request = http_request(event)
        except RequestError as error:
            return http_response(error.status, error.to_dict())
        if request is None:
            return self._direct(event)
        return shape_response(request, self._http(request))

    def _direct(self, event: Any) -> dict[str, Any]:
        """A direct invoke: the event is the request; the answer is the body itself."""
        try:
            parsed = self.parser.parse(event)
            body = self._predict(parsed)
            # Lambda fails an answer over 6 MB; only a big batch can come near (short labels).
            if len(parsed.rows) > 1000 and len(json.dumps(body)) > MAX_BODY_BYTES:
                raise _response_too_large(parsed)
            return body
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
        if request.method == "OPTIONS":
            methods = [*allowed, "HEAD", "OPTIONS"] if "GET" in allowed else [*allowed, "OPTIONS"]
            return http_response(200, {"methods": methods}, headers={"allow": ", ".join(methods)})
        method = "GET" if request.method == "HEAD" else request.method
        if method not in allowed:
            return http_response(
                405,
                RequestError(
                    "method_not_allowed",
                    f"{request.method} is not allowed on {path}; use {' or '.join(allowed)}",
                    status=405,
                ).to_dict(),
                headers={"allow": ", ".join(allowed)},
            )
        if method == "GET":
            return http_response(200, self._document(path))
        try:
            if not request.body:
                raise RequestError(
                    "empty",
                    'the body is empty; POST JSON such as {"instances": [{...}]}',
                    field="body",
                )
            parsed = self.parser.parse(parse_json(request.body))
            if _query_flag(request.query, "probabilities"):
                parsed.return_probabilities = self.parser.probabilities_flag(
                    {"return_probabilities": True}
                )
            response = http_response(200, self._predict(parsed))
            if len(response["body"]) > MAX_BODY_BYTES:
                raise _response_too_large(parsed)
            return response
        except RequestError as error:
            return http_response(error.status, error.to_dict())
        except Exception:
            return http_response(500, self._internal_error())

    def _document(self, path: str) -> dict[str, Any]:
        """The model card (``/``) or the OpenAPI document, made once, at the first GET."""
        from .card import model_card, openapi

        if path == "/openapi.json":
            if self._openapi is None:
                self._openapi = openapi(self.manifest)
            return self._openapi
        if self._card is None:
            self._card = model_card(self.manifest, self.runtime)
        return self._card

    def _predict(self, parsed: Any) -> dict[str, Any]:
        if self._record is None:
            return respond(parsed, self.predictor, classes=self.classes, model=self.model_ref)
        started = time.perf_counter()
        body = respond(parsed, self.predictor, classes=self.classes, model=self.model_ref)
        self._record.predicted(parsed, time.perf_counter() - started)
        return body

    def _internal_error(self) -> dict[str, Any]:
        import traceback  # only when something broke

        from .metrics import error_line

        # The traceback goes to the function's log (CloudWatch), never to the caller: one JSON
        # line with the request id, so alerts and `sklambda logs` show it as one event.
        error = sys.exc_info()[1] or RuntimeError("unknown")
        line = error_line(
            self._request_id,
            function_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            model=self.model_ref,
            error=error,
            trace=traceback.format_exc(),
        )
        print(line, file=sys.stderr, flush=True)
        return {"error": {"code": "internal_error", "message": "internal error"}}


def _response_too_large(parsed: Any) -> RequestError:
    return RequestError(
        "response_too_large",
        f"the answer for these {len(parsed.rows)} rows is over 6 MB, Lambda's limit for a "
        "response; split the batch",
        field=parsed.key,
        status=413,
    )


def _max_rows() -> int | None:
    """The batch cap from ``SKLAMBDA_MAX_ROWS`` (0 or none: no cap beyond the 6 MB body)."""
    text = os.environ.get(MAX_ROWS_ENV, "").strip().lower()
    if not text:
        return DEFAULT_MAX_ROWS
    if text in ("0", "none", "off"):
        return None
    return int(text)


def _query_flag(query: dict[str, str], name: str) -> bool:
    """A boolean query parameter; repeated (``?p=true&p=true`` arrives as ``"true,true"``)
    it counts when every value agrees, and conflicting values are a 400 naming it."""
    raw = query.get(name)
    if raw is None:
        return False
    words = {part.strip().lower() for part in raw.split(",")}
    if words <= TRUE_WORDS:
        return True
    if words & TRUE_WORDS:
        raise RequestError(
            "invalid_query",
            f"the query parameter {name!r} has conflicting values ({raw!r}); send it once, "
            f"e.g. ?{name}=true",
            field=name,
        )
    return False


def _metrics(manifest: dict[str, Any]) -> Metrics | None:
    """The EMF writer, unless ``SKLAMBDA_METRICS=0`` (then its module is never imported)."""
    if os.environ.get(METRICS_ENV, "1").strip().lower() in OFF_WORDS:
        return None
    from .metrics import Metrics

    return Metrics.from_environment(manifest)
