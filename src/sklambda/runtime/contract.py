"""The request/response contract of a model service, shared by the Lambda handler and `predict`.

Standard library only: this module ships inside every Lambda package.

Accepted request shapes (see docs/http-contract.md):

- ``{"instances": [{"rooms": 3, "age": 20}, ...]}`` — objects by feature name;
- ``{"instances": [[3, 20], ...]}`` — arrays in the manifest's feature order;
- ``{"rooms": 3, "age": 20}`` — a single object;
- ``{"input": [[3, 20]], "return_prediction": true, "return_probabilities": true}`` —
  scikit-learn-lambda's shape, answered in its own response shape (``prediction``,
  ``probabilities``) with its own semantics (flags by truthiness, other keys ignored).

Numbers are accepted as scikit-learn's ``check_array`` accepts them: finite as float64, and for
models that compare in float32 (decision trees and their ensembles) finite as float32. Values
that stay finite on the way in but overflow inside the model end in a 422, never a 500.
"""

from __future__ import annotations

import json
import math
from operator import le as _le

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
LEGACY_KEYS = ("input", "return_prediction", "return_probabilities")
MAX_DEPTH = 100  # JSON nesting accepted; a request needs 3 ({"instances": [[...]]})
FLOAT64_MAX = 1.7976931348623157e308
FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max
OUT_OF_RANGE = "out_of_range"
UNKNOWN_CATEGORY = "unknown_category"
_NUMBER_TYPES = frozenset((int, float))
_FLOAT_ONLY = frozenset((float,))
# What scikit-learn's check_array says when a step of the model meets a non-finite value.
_NON_FINITE_WORDS = ("contains infinity", "contains nan", "value too large")


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
    """One input column of the model, as recorded in the manifest.

    ``unknown`` is what the model does with a category it never saw in training: ``"error"``
    (the request is refused) or ``"ignore"`` (accepted, encoded as no known category, and
    reported in the response's ``warnings``).
    """

    __slots__ = ("categories", "date", "max", "min", "name", "nullable", "type", "unknown")

    def __init__(
        self,
        name: str,
        type: str,  # "number" or "string"
        nullable: bool = False,
        categories: tuple[str, ...] | None = None,
        min: float | None = None,
        max: float | None = None,
        unknown: str = "error",
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
    """A validated request: rows in manifest order, ready for a predictor.

    ``warnings`` lists every value the model will answer for but was not trained on, as
    ``{"row", "feature", "kind", "value", "expected"}`` with ``kind`` ``out_of_range`` (a number
    outside the training min…max) or ``unknown_category`` (a category not seen in training, for
    features whose manifest says ``"unknown": "ignore"``).
    """

    __slots__ = ("key", "legacy", "return_prediction", "return_probabilities", "rows", "warnings")

    def __init__(
        self,
        rows: list[Row],
        return_probabilities: bool = False,
        legacy: bool = False,
        *,
        return_prediction: bool = True,
        warnings: list[dict[str, Any]] | None = None,
        key: str = "instances",
    ):
        self.rows = rows
        self.return_probabilities = return_probabilities
        self.return_prediction = return_prediction
        self.legacy = legacy  # scikit-learn-lambda's `input` shape: answered in its own shape
        self.warnings = warnings if warnings is not None else []
        self.key = key


def _reject_constant(name: str) -> float:
    raise RequestError(
        "non_finite",
        f"the body contains {name}, which is not valid JSON; send finite numbers "
        "(or null for a missing value where the model allows it)",
    )


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1, 91: 1, 123: 1, 93: -1, 125: -1}


def _openings(body: str | bytes) -> int:
    """How many ``[`` and ``{`` the text holds: an upper bound of its depth, counted in C."""
    if isinstance(body, bytes):
        return body.count(b"[") + body.count(b"{")
    return body.count("[") + body.count("{")


def json_depth(body: str | bytes) -> int:
    """How deep the arrays and objects of a JSON text nest, found without recursion.

    A linear scan: string literals are removed (brackets inside them do not count), then the
    bracket depth is summed. Malformed text gives some number; ``json.loads`` refuses it later.
    """
    if isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if not _openings(body):
        return 0
    import itertools
    import re

    brackets: str | bytes
    if isinstance(body, bytes):
        strings, others = rb'"[^"\\]*(?:\\.[^"\\]*)*"', rb"[^\[\]{}]+"
        brackets = re.sub(others, b"", re.sub(strings, b"", body, flags=re.S))
    else:
        strings_s, others_s = r'"[^"\\]*(?:\\.[^"\\]*)*"', r"[^\[\]{}]+"
        brackets = re.sub(others_s, "", re.sub(strings_s, "", body, flags=re.S))
    steps: Any = map(_DEPTH_STEP.__getitem__, brackets)
    return max(itertools.accumulate(steps), default=0)


def _loads(body: Any) -> Any:
    """``json.loads(body, parse_constant=_reject_constant)`` with its decoder made once (loads
    makes one per call when given an argument: a third of a one-row request's parse)."""
    if isinstance(body, bytes):
        body = body.decode(json.detect_encoding(body), "surrogatepass")
    if isinstance(body, str) and not body.startswith("\ufeff"):
        return _DECODER.decode(body)
    return json.loads(body, parse_constant=_reject_constant)  # its own error for the rest


def parse_json(body: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a request body strictly: NaN and Infinity are refused, as JSON itself does.

    The nesting depth is bounded before parsing (the parser recurses once per level), so a
    body nested thousands deep is a 400, not a RecursionError. Bodies with fewer brackets than
    the bound (every ordinary request) skip the scan.
    """
    if isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if isinstance(body, str | bytes) and _openings(body) > max_depth:
        depth = json_depth(body)
        if depth > max_depth:
            raise RequestError(
                "too_deep",
                f"the body nests arrays/objects {depth} deep; at most {max_depth} levels are "
                'accepted (a request needs 3: {"instances": [[...]]})',
                field="body",
            )
    try:
        return _loads(body)
    except RequestError:
        raise
    except RecursionError:  # only if the caller's own stack is already deep
        raise RequestError(
            "too_deep", "the body nests arrays/objects too deep; send a flat request", "body"
        ) from None
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
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
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    return f"{type(value).__name__} {value!r}"


def _at(key: str, row: int | None) -> str:
    return key if row is None else f"{key}[{row}]"


class RequestParser:
    """Turns request JSON into validated rows for one model's features.

    Parameters
    ----------
    features:
        The model's input columns, in order.
    probabilities:
        Whether the model gives class probabilities (so they can be asked for).
    max_rows:
        Largest batch accepted, or None for no limit (the 6 MB body bounds it in Lambda).
    float32:
        The model compares its inputs as float32 (decision trees and their ensembles, as
        scikit-learn casts X before walking a tree): numbers beyond float32's range are refused
        as scikit-learn refuses them.
    """

    def __init__(
        self,
        features: Sequence[Feature],
        *,
        probabilities: bool,
        max_rows: int | None = None,
        float32: bool = False,
    ):
        self.features = list(features)
        self.names = [f.name for f in self.features]
        self.index = {f.name: i for i, f in enumerate(self.features)}
        self._name_set = frozenset(self.names)
        self.probabilities = probabilities
        self.max_rows = max_rows
        self.float32 = float32
        self.limit = FLOAT32_MAX if float32 else FLOAT64_MAX
        # Per feature: (name, is_number, low, high, category set or None, nullable); low/high
        # bound the training range (±inf when unknown), checked for warnings only.
        inf = math.inf
        self._plan = [
            (
                f.name,
                f.type == "number",
                f.min if f.type == "number" and f.min is not None else -inf,
                f.max if f.type == "number" and f.max is not None else inf,
                frozenset(f.categories) if f.categories is not None else None,
                f.nullable,
            )
            for f in self.features
        ]
        self._width = len(self._plan)
        self._numbers_only = all(spec[1] for spec in self._plan)
        limit = self.limit
        self._lows = [max(spec[2], -limit) for spec in self._plan]
        self._highs = [min(spec[3], limit) for spec in self._plan]

    @classmethod
    def from_manifest(
        cls, manifest: Mapping[str, Any], max_rows: int | None = None, float32: bool = False
    ) -> RequestParser:
        """A parser for the features recorded in a bundle manifest."""
        features = [Feature.from_manifest(f) for f in manifest["features"]]
        return cls(
            features,
            probabilities=bool(manifest.get("probabilities")),
            max_rows=max_rows,
            float32=float32,
        )

    # -- request level -------------------------------------------------------------------------

    def parse(self, request: Any) -> PredictRequest:
        """Validate a decoded JSON request and return its rows in manifest order."""
        if isinstance(request, list):
            warnings: list[dict[str, Any]] = []
            return PredictRequest(self._rows(request, "instances", warnings), warnings=warnings)
        if not isinstance(request, dict):
            raise RequestError(
                "invalid_request",
                f"the request must be a JSON object, got {_describe(request)}; send "
                '{"instances": [{...}]}',
            )
        if "instances" in request and "input" in request:
            raise RequestError(
                "invalid_request",
                'send either "instances" or "input", not both',
                field="input",
            )
        if "input" in request:
            return self._legacy(request)
        wants_proba = self.probabilities_flag(request)
        warnings = []
        if "instances" in request:
            unknown = [k for k in request if k not in TOP_LEVEL_KEYS]
            if unknown:
                raise RequestError(
                    "unknown_field",
                    f'unknown field "{unknown[0]}" next to "instances"; allowed: '
                    + ", ".join(TOP_LEVEL_KEYS),
                    field=str(unknown[0]),
                )
            rows = self._rows(request["instances"], "instances", warnings)
            return PredictRequest(rows, wants_proba, warnings=warnings)
        single = {k: v for k, v in request.items() if k != "return_probabilities"}
        if not single:
            raise RequestError(
                "empty",
                'the request has no rows; send {"instances": [{...}]} with at least one row',
                field="instances",
            )
        row = self._object_row(single, "instance", None, warnings)
        return PredictRequest([row], wants_proba, warnings=warnings)

    def _legacy(self, request: Mapping[str, Any]) -> PredictRequest:
        """scikit-learn-lambda's request: its flags are read as its handler reads them.

        ``return_prediction`` (default true) and ``return_probabilities`` (default false) are
        taken by truthiness, at least one must hold, and other top-level keys are ignored.
        """
        want_prediction = bool(request.get("return_prediction", True))
        want_proba = bool(request.get("return_probabilities", False))
        if not (want_prediction or want_proba):
            raise RequestError(
                "invalid_request",
                "Must either specify return_prediction: True or return_probabilities: True",
                field="return_prediction",
            )
        if want_proba and not self.probabilities:
            raise RequestError(
                "invalid_request",
                "this model gives no class probabilities (it is a regressor, or a classifier "
                'without predict_proba); drop "return_probabilities"',
                field="return_probabilities",
            )
        warnings: list[dict[str, Any]] = []
        rows = self._rows(request["input"], "input", warnings)
        return PredictRequest(
            rows,
            want_proba,
            legacy=True,
            return_prediction=want_prediction,
            warnings=warnings,
            key="input",
        )

    def probabilities_flag(self, request: Mapping[str, Any]) -> bool:
        """sklambda's ``return_probabilities``: a boolean, only for a model that has them."""
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

    def _rows(self, items: Any, key: str, warnings: list[dict[str, Any]]) -> list[Row]:
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
        rows: list[Row] = []
        append = rows.append
        quick = self._quick_row if self._numbers_only else None
        objects = key != "input"
        for i, item in enumerate(items):
            if quick is not None:  # the common case: all-number models, a row at a time in C
                out = quick(item, objects)
                if out is not None:
                    append(out)
                    continue
            append(self._row(item, key, i, warnings))
        return rows

    def _quick_row(self, item: Any, objects: bool) -> Row | None:
        """An all-number row checked at once (types, conversion, bounds), or None to look closer.

        Within [low, high] (the training range, else ± the model's float limit) a row is valid
        and warns of nothing; anything else (an error, a warning, a null) takes the per-value
        path, which formats the location it names.
        """
        kind = type(item)
        if kind is list and len(item) == self._width:
            values = item
        elif kind is dict and objects and item.keys() == self._name_set:
            values = list(map(item.__getitem__, self.names))
        else:
            return None
        types = set(map(type, values))
        if types == _FLOAT_ONLY:
            out = values[:] if values is item else values
        elif types <= _NUMBER_TYPES:
            try:
                out = list(map(float, values))
            except OverflowError:
                return None
        else:
            return None
        if all(map(_le, self._lows, out)) and all(map(_le, out, self._highs)):
            return out
        return None

    def _row(self, item: Any, key: str, i: int, warnings: list[dict[str, Any]]) -> Row:
        if type(item) is list:
            return self._array_row(item, key, i, warnings)
        if type(item) is dict:
            if key == "input":
                where = _at(key, i)
                raise RequestError(
                    "invalid_type",
                    f'{where}: "input" rows are arrays in the order {self.names}; '
                    'send objects by name under "instances"',
                    field=where,
                )
            return self._object_row(item, key, i, warnings)
        where = _at(key, i)
        raise RequestError(
            "invalid_type",
            f"{where}: expected an object by feature name or an array of "
            f"{len(self.names)} values, got {_describe(item)}",
            field=where,
        )

    # -- row level ------------------------------------------------------------------------------
    #
    # The fast path checks each value with a few type and range comparisons and builds no
    # string; the location of a value (``instances[3].rooms``) is only formatted for an error
    # or a warning.

    def _object_row(
        self, item: Mapping[str, Any], key: str, row: int | None, warnings: list[dict[str, Any]]
    ) -> Row:
        if item.keys() != self._name_set:
            self._object_keys_error(item, _at(key, row))
        return self._values(list(map(item.__getitem__, self.names)), key, row, warnings, True)

    def _array_row(
        self, item: list[Any], key: str, row: int | None, warnings: list[dict[str, Any]]
    ) -> Row:
        if len(item) != self._width:
            where = _at(key, row)
            raise RequestError(
                "wrong_length",
                f"{where}: expected {len(self.features)} values in the order {self.names}, "
                f"got {len(item)}",
                field=where,
            )
        return self._values(item, key, row, warnings, False)

    def _values(
        self,
        values: list[Any],
        key: str,
        row: int | None,
        warnings: list[dict[str, Any]],
        by_name: bool,
    ) -> Row:
        out: Row = []
        append = out.append
        limit = self.limit
        for column, (value, (name, number, low, high, categories, nullable)) in enumerate(
            zip(values, self._plan, strict=True)
        ):
            kind = type(value)
            if number:
                if (kind is float or kind is int) and -limit <= value <= limit:
                    if kind is int:
                        value = float(value)
                    if value < low or value > high:
                        warnings.append(self._out_of_range(row, column, value))
                    append(value)
                    continue
            elif kind is str and (categories is None or value in categories):
                append(value)
                continue
            if value is None and nullable:
                append(None)
                continue
            where = f"{_at(key, row)}.{name}" if by_name else f"{_at(key, row)}[{column}]"
            append(self._checked(value, column, row, where, warnings))
        return out

    def _object_keys_error(self, item: Mapping[str, Any], where: str) -> None:
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
        raise RequestError(
            "missing_feature",
            f'{where}: feature "{missing[0]}" is missing'
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + f"; the model expects {self.names}",
            field=f"{where}.{missing[0]}",
        )

    def _checked(
        self, value: Any, column: int, row: int | None, where: str, warnings: list[dict[str, Any]]
    ) -> Value:
        """The slow path of one value: null, a subclass, an unknown category, or an error."""
        feature = self.features[column]
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
                days = _date_value(value, feature, where)
                return self._number(days, feature, column, row, where, warnings)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RequestError(
                    "invalid_type",
                    f'{where}: feature "{feature.name}" must be a number, got {_describe(value)}',
                    field=where,
                )
            return self._number(value, feature, column, row, where, warnings)
        if not isinstance(value, str):
            raise RequestError(
                "invalid_type",
                f'{where}: feature "{feature.name}" must be a string, got {_describe(value)}',
                field=where,
            )
        if feature.categories is not None and value not in feature.categories:
            shown = list(feature.categories[:20])
            more = " ..." if len(feature.categories) > 20 else ""
            if feature.unknown == "ignore":
                warnings.append(
                    _warning(row, feature.name, UNKNOWN_CATEGORY, value, ", ".join(shown) + more)
                )
                return str(value)
            raise RequestError(
                "unknown_category",
                f'{where}: "{value}" is not a known value of "{feature.name}"; '
                f"expected one of {shown}{more}",
                field=where,
            )
        return str(value)

    def _number(
        self,
        value: int | float,
        feature: Feature,
        column: int,
        row: int | None,
        where: str,
        warnings: list[dict[str, Any]],
    ) -> float:
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float64: float() cannot hold it
            raise RequestError(
                "too_large",
                f'{where}: feature "{feature.name}" is {_describe(value)}, too large for a '
                "float64 (what the model computes in); send a number between "
                f"-{FLOAT64_MAX:g} and {FLOAT64_MAX:g}",
                field=where,
            ) from None
        if not math.isfinite(number):
            raise RequestError(
                "non_finite",
                f'{where}: feature "{feature.name}" must be a finite number, got {value!r}',
                field=where,
            )
        if abs(number) > self.limit:
            raise RequestError(
                "too_large",
                f'{where}: feature "{feature.name}" is {number!r}, beyond float32\'s range '
                f"(±{FLOAT32_MAX:g}); this model compares its inputs as float32 (a tree "
                "model, as scikit-learn casts them), so it cannot answer for it",
                field=where,
            )
        low, high = self._plan[column][2:4]
        if number < low or number > high:
            warnings.append(self._out_of_range(row, column, number))
        return number

    def _out_of_range(self, row: int | None, column: int, value: float) -> dict[str, Any]:
        feature = self.features[column]
        return _warning(row, feature.name, OUT_OF_RANGE, value, f"{feature.min} … {feature.max}")


def _warning(row: int | None, feature: str, kind: str, value: Any, expected: str) -> dict[str, Any]:
    return {"row": row or 0, "feature": feature, "kind": kind, "value": value, "expected": expected}


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


def is_non_finite_error(error: BaseException) -> bool:
    """Whether a model step refused a value that overflowed on the way (scikit-learn's words)."""
    if isinstance(error, FloatingPointError | OverflowError):
        return True
    text = str(error).lower()
    return isinstance(error, ValueError) and any(words in text for words in _NON_FINITE_WORDS)


def _overflow(request: PredictRequest, rows: list[int] | None, detail: str) -> RequestError:
    shown = ""
    field = request.key
    if rows:
        field = f"{request.key}[{rows[0]}]"
        more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
        shown = f" for {field}{more}"
    return RequestError(
        "non_finite_result",
        f"the model's computation overflowed{shown} ({detail}): the input is finite but far "
        "outside what the model was trained on, so it has no answer; send values nearer the "
        "training range (GET / lists it)",
        field=field,
        status=422,
    )


def _non_finite_rows(values: list[Any]) -> list[int]:
    bad = []
    for i, value in enumerate(values):
        if type(value) is float:
            if not math.isfinite(value):
                bad.append(i)
        elif isinstance(value, list) and any(
            type(v) is float and not math.isfinite(v) for v in value
        ):
            bad.append(i)
    return bad


def _first_refused(predictor: Predictor, rows: list[Row]) -> int | None:
    """The first row the model refuses as non-finite, by bisection (only on the error path)."""

    def refused(part: list[Row]) -> bool:
        try:
            predictor.predict(part)
        except Exception as error:
            if is_non_finite_error(error):
                return True
            raise
        return False

    low, high = 0, len(rows)  # the first refused row is in rows[low:high]
    if not refused(rows):
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if refused(rows[low:middle]):
            high = middle
        else:
            low = middle
    return low


def respond(
    request: PredictRequest,
    predictor: Predictor,
    *,
    classes: Sequence[Any] | None,
    model: Mapping[str, Any],
) -> dict[str, Any]:
    """Run the predictor on validated rows and shape the response body.

    sklambda's shape: ``predictions`` (+ ``probabilities``), ``model``, and ``warnings`` when
    some value was outside the training data. scikit-learn-lambda's shape (an ``input``
    request): exactly its handler's fields, ``prediction`` and/or ``probabilities``.

    Raises
    ------
    RequestError
        422 ``non_finite_result`` when the model's arithmetic overflows for a row (scikit-learn
        refuses such a row, or answers NaN, which JSON cannot carry).
    """
    predictions: list[Any] | None = None
    body: dict[str, Any] = {}
    try:
        if request.return_prediction or not request.legacy:
            predictions = [plain(p) for p in predictor.predict(request.rows)]
            bad = _non_finite_rows(predictions)
            if bad:
                raise _overflow(request, bad, "the prediction is not a finite number")
        if request.return_probabilities:
            labels = [str(plain(c)) for c in classes or []]
            matrix = [[float(p) for p in row] for row in predictor.predict_proba(request.rows)]
            bad = _non_finite_rows(matrix)
            if bad:
                raise _overflow(request, bad, "a class probability is not a finite number")
            if request.legacy:  # its handler writes JSON with sort_keys=True
                body["probabilities"] = [
                    dict(sorted(zip(labels, row, strict=True))) for row in matrix
                ]
            else:
                body["probabilities"] = [dict(zip(labels, row, strict=True)) for row in matrix]
    except RequestError:
        raise
    except Exception as error:
        if is_non_finite_error(error):
            first = _first_refused(predictor, request.rows)
            detail = str(error).strip().rstrip(".")
            raise _overflow(request, None if first is None else [first], detail) from None
        raise
    if request.legacy:
        if predictions is not None:
            body = {"prediction": predictions, **body}
        return body
    body = {"predictions": predictions, **body}
    if request.warnings:
        body["warnings"] = request.warnings
    body["model"] = dict(model)
    return body
