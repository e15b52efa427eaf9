"""One middleware turns every error into ``{"error": {"code", "message"}}``.

ERROR is for Stocky's own faults, so the Log tab's red lines mean something:
a client that went away (a closed tab, a reset connection, a socket dropped
mid-request) is logged at DEBUG.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from stocky.core import errors
from stocky.core.security import mask_api_keys

log = logging.getLogger("stocky.api")

STATUS: dict[type[errors.StockyError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 422,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.TooManyAttempts: 429,
    errors.LookupFailed: 502,
    errors.StorageFull: 507,
    errors.StorageFault: 503,
}

# nginx's status for "the client closed the connection before the answer":
# nobody receives it, but the access log says what happened.
CLIENT_GONE = 499

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "too_large",
    415: "unsupported_media_type",
}


class ErrorDetail(BaseModel):
    """The error's code and sentence; some carry what they are about too
    (``fields``, ``id`` of the existing object, ``quantity``)."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    fields: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def status_of(error: errors.StockyError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    detail: dict[str, Any] = {"code": code, "message": message, **extra}
    return web.json_response({"error": detail}, status=status, dumps=_keys_hidden)


def _keys_hidden(body: Any) -> str:
    # An error may quote what the client sent (a scan, an id in the address,
    # a field's value): an API key in it, or a piece of one, is not echoed.
    # A key's characters need no escaping in JSON, so masking the text is enough.
    return mask_api_keys(json.dumps(body))


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _domain(error: errors.StockyError) -> web.Response:
    status = status_of(error)
    # What the error is about, beside the sentence: the failing fields, the
    # existing item a barcode belongs to (``id``), how many are left.
    response = error_response(status, error.code, error.message, **error.details)
    if isinstance(error, errors.TooManyAttempts | errors.StorageBusy):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.NotAuthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.StockyError as error:
        return _domain(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = HTTP_CODES.get(error.status, "error")
        message = "The request body is too large." if error.status == 413 else error.reason
        response = error_response(error.status, code, message)
        if allow := error.headers.get("Allow"):
            response.headers["Allow"] = allow
        if error.status == 408:
            response.force_close()  # the rest of the body may still be on its way
        return response
    except Exception as error:
        if isinstance(error, ConnectionError) and client_gone(request):
            log.debug("The client of %s %s went away: %r", request.method, request.path, error)
            return web.Response(status=CLIENT_GONE)
        log.exception("Unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal", "Something went wrong inside Stocky; it is logged.")
