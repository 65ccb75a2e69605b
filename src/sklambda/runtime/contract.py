"""The request/response contract of a model service, shared by the Lambda handler and `predict`.

Standard library only: this module ships inside every Lambda package.

Accepted request shapes (see docs/http-contract.md):

- ``{"instances": [{"rooms": 3, "age": 20}, ...]}`` — objects by feature name;
- ``{"instances": [[3, 20], ...]}`` — arrays in the manifest's feature order;
- ``{"rooms": 3, "age": 20}`` — a single object;
- ``{"input": [[3, 20]], "return_probabilities": true}`` — scikit-learn-lambda's shape.
"""

from __future__ import annotations

import json
import math

# typing, dataclasses and collections.abc cost milliseconds to import; a cold start pays for
# every one, so this module (which ships in every package) uses none of them at run time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, Protocol

    Value = float | str | None
    Row = list[Value]

    class Predictor(Protocol):
        """What the contract needs from a model runtime (lean, scikit-learn...)."""

        def predict(self, rows: list[Row]) -> list[Any]: ...

        def predict_proba(self, rows: list[Row]) -> list[list[float]]: ...


TOP_LEVEL_KEYS = ("instances", "input", "return_probabilities")


class RequestError(Exception):
    """A request the service cannot answer; becomes a 4xx JSON error.

    Parameters
    ----------
    code:
        Stable machine-readable reason, e.g. ``missing_feature``.
    message:
        What was wrong, what was expected and how to fix it.
    field:
        Where in the request the problem is (``instances[2].rooms``), when it has a place.
    status:
        The HTTP status code (400 unless said otherwise).
    """

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class Feature:
    """One input column of the model, as recorded in the manifest."""

    __slots__ = ("categories", "date", "max", "min", "name", "nullable", "type", "unknown")

    def __init__(
        self,
        name: str,
        type: str,  # "number" or "string"
        nullable: bool = False,
        categories: tuple[str, ...] | None = None,
        min: float | None = None,
        max: float | None = None,
        unknown: str = "error",  # "ignore": trained with --unknown-category ignore
        date: bool = False,  # a number feature that also takes ISO dates (runtime/dates.py)
    ):
        self.name = name
        self.type = type
        self.nullable = nullable
        self.categories = categories
        self.min = min
        self.max = max
        self.unknown = unknown
        self.date = date

    def __repr__(self) -> str:
        return f"Feature({self.name!r}, {self.type!r}, nullable={self.nullable})"

    @classmethod
    def from_manifest(cls, spec: Mapping[str, Any]) -> Feature:
        categories = spec.get("categories")
        return cls(
            name=spec["name"],
            type=spec["type"],
            nullable=bool(spec.get("nullable", False)),
            categories=tuple(categories) if categories is not None else None,
            min=spec.get("min"),
            max=spec.get("max"),
            unknown=str(spec.get("unknown") or "error"),
            date=spec.get("date") is not None,
        )


class PredictRequest:
    """A validated request: rows in manifest order, ready for a predictor."""

    __slots__ = ("legacy", "return_probabilities", "rows")

    def __init__(self, rows: list[Row], return_probabilities: bool = False, legacy: bool = False):
        self.rows = rows
        self.return_probabilities = return_probabilities
        self.legacy = legacy  # scikit-learn-lambda's `input` shape: answer with its keys too


def _reject_constant(name: str) -> float:
    raise RequestError(
        "non_finite",
        f"the body contains {name}, which is not valid JSON; send finite numbers "
        "(or null for a missing value where the model allows it)",
    )


def parse_json(body: str | bytes) -> Any:
    """Parse a request body strictly: NaN and Infinity are refused, as JSON itself does."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except RequestError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(
            "invalid_json",
            f"the body is not valid JSON ({exc}); send a JSON object such as "
            '{"instances": [{...}]}',
        ) from None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'string "{shown}"'
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"


class RequestParser:
    """Turns request JSON into validated rows for one model's features.

    Parameters
    ----------
    features:
        The model's input columns, in order.
    probabilities:
        Whether the model gives class probabilities (so they can be asked for).
    max_rows:
        Largest batch accepted, or None for no limit (local use).
    """

    def __init__(
        self, features: Sequence[Feature], *, probabilities: bool, max_rows: int | None = None
    ):
        self.features = list(features)
        self.names = [f.name for f in self.features]
        self.index = {f.name: i for i, f in enumerate(self.features)}
        self.probabilities = probabilities
        self.max_rows = max_rows

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], max_rows: int | None = None):
        """A parser for the features recorded in a bundle manifest."""
        features = [Feature.from_manifest(f) for f in manifest["features"]]
        return cls(features, probabilities=bool(manifest.get("probabilities")), max_rows=max_rows)

    # -- request level -------------------------------------------------------------------------

    def parse(self, request: Any) -> PredictRequest:
        """Validate a decoded JSON request and return its rows in manifest order."""
        if isinstance(request, list):
            return PredictRequest(self._rows(request, "instances"))
        if not isinstance(request, dict):
            raise RequestError(
                "invalid_request",
                f"the request must be a JSON object, got {_describe(request)}; send "
                '{"instances": [{...}]}',
            )
        wants_proba = self._probabilities_flag(request)
        if "instances" in request and "input" in request:
            raise RequestError(
                "invalid_request",
                'send either "instances" or "input", not both',
                field="input",
            )
        for key in ("instances", "input"):
            if key in request:
                unknown = [k for k in request if k not in TOP_LEVEL_KEYS]
                if unknown:
                    raise RequestError(
                        "unknown_field",
                        f'unknown field "{unknown[0]}" next to "{key}"; allowed: '
                        + ", ".join(TOP_LEVEL_KEYS),
                        field=str(unknown[0]),
                    )
                rows = self._rows(request[key], key)
                return PredictRequest(rows, wants_proba, legacy=key == "input")
        single = {k: v for k, v in request.items() if k != "return_probabilities"}
        if not single:
            raise RequestError(
                "empty",
                'the request has no rows; send {"instances": [{...}]} with at least one row',
                field="instances",
            )
        return PredictRequest([self._object_row(single, "instance")], wants_proba)

    def _probabilities_flag(self, request: Mapping[str, Any]) -> bool:
        flag = request.get("return_probabilities", False)
        if not isinstance(flag, bool):
            raise RequestError(
                "invalid_type",
                f'"return_probabilities" must be true or false, got {_describe(flag)}',
                field="return_probabilities",
            )
        if flag and not self.probabilities:
            raise RequestError(
                "invalid_request",
                "this model gives no class probabilities (it is a regressor, or a classifier "
                'without predict_proba); drop "return_probabilities"',
                field="return_probabilities",
            )
        return flag

    def _rows(self, items: Any, key: str) -> list[Row]:
        if not isinstance(items, list):
            raise RequestError(
                "invalid_type",
                f'"{key}" must be an array of rows, got {_describe(items)}',
                field=key,
            )
        if not items:
            raise RequestError("empty", f'"{key}" is empty; send at least one row', field=key)
        if self.max_rows is not None and len(items) > self.max_rows:
            raise RequestError(
                "too_many_rows",
                f'"{key}" has {len(items)} rows; at most {self.max_rows} are accepted per '
                "request: split the batch",
                field=key,
            )
        rows = []
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if isinstance(item, dict):
                if key == "input":
                    raise RequestError(
                        "invalid_type",
                        f'{where}: "input" rows are arrays in the order {self.names}; '
                        'send objects by name under "instances"',
                        field=where,
                    )
                rows.append(self._object_row(item, where))
            elif isinstance(item, list):
                rows.append(self._array_row(item, where))
            else:
                raise RequestError(
                    "invalid_type",
                    f"{where}: expected an object by feature name or an array of "
                    f"{len(self.names)} values, got {_describe(item)}",
                    field=where,
                )
        return rows

    # -- row level ------------------------------------------------------------------------------

    def _object_row(self, item: Mapping[str, Any], where: str) -> Row:
        for name in item:
            if name not in self.index:
                import difflib  # only on this error path: it is slow to import

                hint = difflib.get_close_matches(str(name), self.names, n=1)
                did_you_mean = f' (did you mean "{hint[0]}"?)' if hint else ""
                raise RequestError(
                    "unknown_feature",
                    f'{where}: unknown feature "{name}"{did_you_mean}; the model expects '
                    f"{self.names}",
                    field=f"{where}.{name}",
                )
        missing = [n for n in self.names if n not in item]
        if missing:
            raise RequestError(
                "missing_feature",
                f'{where}: feature "{missing[0]}" is missing'
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                + f"; the model expects {self.names}",
                field=f"{where}.{missing[0]}",
            )
        return [self._value(item[f.name], f, f"{where}.{f.name}") for f in self.features]

    def _array_row(self, item: list[Any], where: str) -> Row:
        if len(item) != len(self.features):
            raise RequestError(
                "wrong_length",
                f"{where}: expected {len(self.features)} values in the order {self.names}, "
                f"got {len(item)}",
                field=where,
            )
        return [
            self._value(v, f, f"{where}[{i}]")
            for i, (v, f) in enumerate(zip(item, self.features, strict=True))
        ]

    def _value(self, value: Any, feature: Feature, where: str) -> Value:
        if value is None:
            if feature.nullable:
                return None
            raise RequestError(
                "null_value",
                f'{where}: feature "{feature.name}" may not be null (the model was trained '
                "without missing values for it); send a value",
                field=where,
            )
        if feature.type == "number":
            if feature.date and not isinstance(value, int | float):
                return _date_value(value, feature, where)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RequestError(
                    "invalid_type",
                    f'{where}: feature "{feature.name}" must be a number, got {_describe(value)}',
                    field=where,
                )
            number = float(value)
            if not math.isfinite(number):
                raise RequestError(
                    "non_finite",
                    f'{where}: feature "{feature.name}" must be a finite number, got {value!r}',
                    field=where,
                )
            return number
        if not isinstance(value, str):
            raise RequestError(
                "invalid_type",
                f'{where}: feature "{feature.name}" must be a string, got {_describe(value)}',
                field=where,
            )
        if (
            feature.categories is not None
            and value not in feature.categories
            and feature.unknown != "ignore"
        ):
            shown = list(feature.categories[:20])
            more = " ..." if len(feature.categories) > 20 else ""
            raise RequestError(
                "unknown_category",
                f'{where}: "{value}" is not a known value of "{feature.name}"; '
                f"expected one of {shown}{more}",
                field=where,
            )
        return value


def _date_value(value: Any, feature: Feature, where: str) -> float:
    from .dates import epoch_days

    days = epoch_days(value)
    if days is None:
        raise RequestError(
            "invalid_type",
            f'{where}: feature "{feature.name}" is a date: send ISO text such as "1982-01-01" '
            f'or "1982-01-01 00:00:00" (or days since 1970-01-01), got {_describe(value)}',
            field=where,
        )
    return days


def plain(value: Any) -> Any:
    """numpy scalars and arrays to plain JSON values (duck-typed: no numpy import here)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value


def respond(
    request: PredictRequest,
    predictor: Predictor,
    *,
    classes: Sequence[Any] | None,
    model: Mapping[str, Any],
) -> dict[str, Any]:
    """Run the predictor on validated rows and shape the response body."""
    predictions = [plain(p) for p in predictor.predict(request.rows)]
    body: dict[str, Any] = {"predictions": predictions}
    if request.return_probabilities:
        labels = [str(plain(c)) for c in classes or []]
        body["probabilities"] = [
            dict(zip(labels, (float(p) for p in row), strict=True))
            for row in predictor.predict_proba(request.rows)
        ]
    if request.legacy:
        body["prediction"] = predictions  # scikit-learn-lambda's key, so its clients keep working
    body["model"] = dict(model)
    return body
