"""OpenAPI 3.1 from the route table and its pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import stocky
from stocky.api.errors import ErrorBody
from stocky.api.policy import Policy
from stocky.api.routing import Route

REF = "#/components/schemas/{model}"

ERROR_TEXT = {
    400: "Malformed request (the body is not JSON)",
    401: "Not signed in, or the credentials are not valid",
    403: "Signed in, but this account may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "The body is larger than 256 KiB",
    415: "The body is not sent as `Content-Type: application/json`",
    422: "Validation failed; `fields` names each failing field",
    429: "Too many failed sign-ins, or too many password checks at once; see Retry-After",
    503: "The database cannot be used right now; nothing was saved (busy: see Retry-After)",
    507: "The disk under the database is full; nothing was saved",
}
# What any change may meet: storage that refuses it (StorageFault, StorageFull).
STORAGE_ERRORS = {503, 507}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}}}


def _errors_of(route: Route) -> list[int]:
    codes = set(route.errors)
    if route.policy is not Policy.ANYONE:
        codes |= {401, 403}
    if route.body is not None:
        codes |= {400, 413, 415, 422}
    if route.query is not None:
        codes.add(422)
    if route.path_params:
        codes.add(404)
    if route.method != "GET":
        codes |= STORAGE_ERRORS
    return sorted(codes)


def _security(policy: Policy) -> list[dict[str, list[str]]]:
    if policy is Policy.ANYONE:
        return []
    if policy is Policy.SCAN:
        return [{"apiKey": []}, {"bearer": []}]
    return [{"bearer": []}, {"apiKey": []}]


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def build_spec(routes: list[Route]) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], str]] = [(ErrorBody, "serialization")]
    routes = [route for route in routes if route.documented]
    for route in routes:
        if route.body is not None:
            models.append((route.body, "validation"))
        if isinstance(route.response, type) and issubclass(route.response, BaseModel):
            models.append((route.response, "serialization"))
    keys, definitions = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return keys[(model, mode)]

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": [route.tag],
            "security": _security(route.policy),
            "x-policy": route.policy.value,
        }
        if doc := (route.handler.__doc__ or "").strip():
            operation["description"] = doc
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
            if name == "id"
            else {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.path_params
        ]
        if route.query is not None:
            parameters += _query_parameters(route.query, schemas)
        if parameters:
            operation["parameters"] = parameters
        if route.body is not None:
            operation["requestBody"] = {
                "required": not route.body_optional,
                "content": {"application/json": {"schema": ref(route.body, "validation")}},
            }
        responses: dict[str, Any] = {}
        if route.response is not None and route.media_type == "application/json":
            responses[str(route.status)] = {
                "description": route.summary,
                "content": {"application/json": {"schema": ref(route.response, "serialization")}},
            }
        elif route.media_type.startswith("image/"):
            responses[str(route.status)] = {
                "description": "The QR code (PNG; SVG with ?format=svg)",
                "content": {
                    "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}},
                    "image/svg+xml": {"schema": {"type": "string"}},
                },
            }
        elif route.media_type != "application/json":
            responses[str(route.status)] = {
                "description": route.summary,
                "content": {route.media_type: {"schema": {"type": "string"}}},
            }
        else:
            responses[str(route.status)] = {"description": route.summary}
        for code in _errors_of(route):
            if code >= 500 and code in route.errors:  # /health's 503 answers with its own body
                responses[str(code)] = {
                    "description": "Stocky is up but not healthy",
                    "content": {"application/json": {"schema": ref(route.response, "serialization")}},
                }
                continue
            responses[str(code)] = {
                "description": ERROR_TEXT.get(code, "Error"),
                "content": {"application/json": {"schema": ref(ErrorBody, "serialization")}},
            }
        if 429 in route.errors:
            responses["429"]["headers"] = RETRY_AFTER
        if route.method != "GET":  # a database busy elsewhere says when to try again
            responses["503"]["headers"] = RETRY_AFTER
        paths.setdefault(route.full_path, {})[route.method.lower()] = operation | {
            "responses": responses
        }

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stocky",
            "version": stocky.__version__,
            "description": (
                "The kitchen inventory appliance. People sign in with `POST /api/v1/auth/login` "
                "and send `Authorization: Bearer <token>`; scanners and services send "
                "`X-API-Key: <key>`. Keys are never accepted in the address."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
