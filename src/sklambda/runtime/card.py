"""What `GET /` and `GET /openapi.json` answer: the model card and an OpenAPI 3.1 document whose
request schema lists the model's real features. Standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

CARD_KEYS = ("name", "version", "task", "classes", "target", "metrics", "versions", "created_at")


UNKNOWN_CATEGORY = {
    "error": "refused: a request with a category training never saw is a 400 unknown_category",
    "ignore": "accepted: encoded as the group of rare categories, or as none of the known ones",
}


def unknown_categories(manifest: Mapping[str, Any]) -> str | None:
    """What the model does with a category it never saw (``error``/``ignore``), or None when it
    has no text features."""
    text = [f for f in manifest["features"] if f["type"] == "string"]
    if not text:
        return None
    return "ignore" if any(f.get("unknown") == "ignore" for f in text) else "error"


def model_card(manifest: dict[str, Any], runtime: str) -> dict[str, Any]:
    """The model's public description: features, types, ranges, metrics, versions."""
    card = {key: manifest.get(key) for key in CARD_KEYS}
    card["features"] = [
        {
            k: v
            for k, v in f.items()
            if k in ("name", "type", "nullable", "min", "max", "categories", "date", "unknown")
        }
        for f in manifest["features"]
    ]
    unknown = unknown_categories(manifest)
    if unknown is not None:
        card["unknown_categories"] = {"mode": unknown, "meaning": UNKNOWN_CATEGORY[unknown]}
    card["runtime"] = runtime
    card["probabilities"] = bool(manifest.get("probabilities"))
    card["endpoints"] = {
        "predict": "POST / or POST /predict",
        "card": "GET /",
        "openapi": "GET /openapi.json",
    }
    return card


def _feature_schema(feature: dict[str, Any]) -> dict[str, Any]:
    if feature.get("date") is not None:
        schema: dict[str, Any] = {
            "type": ["string", "number"],
            "description": "a date: ISO text (1982-01-01 or 1982-01-01 00:00:00) or days since "
            "1970-01-01",
        }
    elif feature["type"] == "number":
        schema = {"type": "number"}
        if feature.get("min") is not None:
            schema["description"] = (
                f"seen in training from {feature['min']:g} to {feature['max']:g}"
            )
            schema["examples"] = [feature["min"]]
    else:
        schema = {"type": "string"}
        if feature.get("categories") is not None and feature.get("unknown") != "ignore":
            schema["enum"] = list(feature["categories"])
    if feature.get("nullable"):
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*kinds, "null"]
    return schema


def openapi(manifest: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.1 document for this model's service."""
    features = manifest["features"]
    names = [f["name"] for f in features]
    instance = {
        "type": "object",
        "properties": {f["name"]: _feature_schema(f) for f in features},
        "required": names,
        "additionalProperties": False,
    }
    row = {
        "type": "array",
        "description": f"values in the order {names}",
        "prefixItems": [_feature_schema(f) for f in features],
        "minItems": len(features),
        "maxItems": len(features),
    }
    classification = manifest["task"] == "classification"
    prediction: dict[str, Any] = {"type": "string" if classification else "number"}
    if classification and manifest.get("classes"):
        prediction = {"enum": manifest["classes"]}
    request = {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "instances": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"oneOf": [instance, row]},
                    },
                    "return_probabilities": {"type": "boolean"},
                },
                "required": ["instances"],
                "additionalProperties": False,
            },
            instance,
            {
                "type": "object",
                "description": "scikit-learn-lambda's request shape, read as its handler reads "
                "it: flags by truthiness (at least one true), other keys ignored; answered with "
                "its response fields",
                "properties": {
                    "input": {"type": "array", "minItems": 1, "items": row},
                    "return_prediction": {"description": "default true"},
                    "return_probabilities": {"description": "default false"},
                },
                "required": ["input"],
            },
        ]
    }
    probabilities = {
        "type": "array",
        "items": {"type": "object", "additionalProperties": {"type": "number"}},
    }
    warning = {
        "type": "object",
        "description": "a value the model answers for but was not trained on",
        "properties": {
            "row": {"type": "integer"},
            "feature": {"type": "string"},
            "kind": {"enum": ["out_of_range", "unknown_category"]},
            "value": {},
            "expected": {"type": "string"},
        },
        "required": ["row", "feature", "kind", "value", "expected"],
    }
    response = {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "predictions": {"type": "array", "items": prediction},
                    "probabilities": probabilities,
                    "warnings": {"type": "array", "items": warning},
                    "model": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "version": {"type": "string"},
                        },
                    },
                },
                "required": ["predictions", "model"],
            },
            {
                "type": "object",
                "description": "the answer to scikit-learn-lambda's request shape",
                "properties": {
                    "prediction": {"type": "array", "items": prediction},
                    "probabilities": probabilities,
                },
                "minProperties": 1,
                "additionalProperties": False,
            },
        ]
    }
    error = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
                "required": ["code", "message"],
            }
        },
        "required": ["error"],
    }
    target = (manifest.get("target") or {}).get("name") or "the target"
    predict_op = {
        "summary": f"Predict {target}",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}},
        },
        "responses": {
            "200": _json_ref("predictions", "Response"),
            "400": _json_ref("the request is invalid; the error names the field", "Error"),
            "413": _json_ref("the body (or the answer) is over 6 MB", "Error"),
            "422": _json_ref(
                "the model's arithmetic overflowed for a row (non_finite_result)", "Error"
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{manifest['name']} (sklambda)",
            "version": str(manifest.get("version")),
            "description": f"{manifest['task']} model served by sklambda",
        },
        "paths": {
            "/": {
                "get": {"summary": "Model card", "responses": {"200": {"description": "card"}}},
                "post": {**predict_op, "operationId": "predictRoot"},
            },
            "/predict": {"post": {**predict_op, "operationId": "predict"}},
            "/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "spec"}}}
            },
        },
        "components": {
            "schemas": {
                "Request": request,
                "Instance": instance,
                "Response": response,
                "Error": error,
            }
        },
    }


def _json_ref(description: str, name: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }
