"""Query-string parameters of the collection endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from stocky.core.digits import parse_int
from stocky.core.logbuffer import Severity
from stocky.schemas.common import no_nul
from stocky.schemas.item import StockFilter


def _digits_only(value: Any) -> Any:
    # pydantic reads "1_0", "+5" and " 5" as numbers when it converts a query
    # string; a count in an address is written with 0-9 and nothing else.
    return parse_int(value) if isinstance(value, str) else value


Count = Annotated[int, BeforeValidator(_digits_only)]
Limit = Annotated[Count, Field(ge=1, le=500)]
Offset = Annotated[Count, Field(ge=0, le=10_000_000)]


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    _no_nul = field_validator("*")(no_nul)


class ItemQuery(Query):
    search: Annotated[str, Field(max_length=200)] | None = None
    stock: StockFilter = "in"
    limit: Limit = 50
    offset: Offset = 0


class LotQuery(Query):
    expiring_within_days: Annotated[Count, Field(ge=0, le=36_500)] | None = None
    limit: Limit = 100
    offset: Offset = 0


class SkuQuery(Query):
    item_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    limit: Limit = 100
    offset: Offset = 0


class AlertQuery(Query):
    acknowledged: bool | None = None
    limit: Limit = 100
    offset: Offset = 0


class LogQuery(Query):
    severity: Severity | None = None
    search: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[Count, Field(ge=1, le=10_000)] = 100


class HistoryQuery(Query):
    limit: Limit = 100


class QrQuery(Query):
    format: Annotated[str, Field(pattern="^(png|svg)$")] = "png"
