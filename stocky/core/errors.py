"""Domain errors: what went wrong, in words a person understands.

Every layer raises these; the API maps ``code`` to an HTTP status and the
touch UI shows ``message``. Nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class StockyError(Exception):
    """Base of every error Stocky raises on purpose."""

    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(StockyError):
    code = "not_found"


class Conflict(StockyError):
    """The request is well formed but the current state forbids it."""

    code = "conflict"


class InvalidInput(StockyError):
    """Input failed validation; ``fields`` lists each failing field."""

    code = "validation_error"

    def __init__(self, message: str, fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, fields=fields or [])
        self.fields = fields or []


class NotAuthenticated(StockyError):
    code = "not_authenticated"


class PermissionDenied(StockyError):
    code = "forbidden"


class TooManyAttempts(StockyError):
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class CannotListen(StockyError):
    """Stocky cannot listen where it was told to (a port another program
    holds); ``message`` is one sentence saying how to choose another."""

    code = "cannot_listen"


class LookupFailed(StockyError):
    """The product service could not be asked, or gave no usable answer."""

    code = "lookup_failed"


class StorageFault(StockyError):
    """The database cannot take writes right now; nothing of the request was written."""

    code = "storage_unavailable"


class StorageFull(StorageFault):
    """The disk under the database is full."""

    code = "storage_full"


class StorageRefused(StockyError):
    """Stocky will not run on this storage (damaged, foreign, read-only or
    missing); ``message`` is one paragraph of advice for the person at the box."""

    code = "storage_refused"


class StorageBusy(StorageFault):
    """Another process holds the database's write lock; try again shortly."""

    code = "storage_busy"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
