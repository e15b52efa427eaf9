"""Query-string parameters of the collection endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stocky.core.logbuffer import Severity
from stocky.schemas.common import no_nul
from stocky.schemas.item import StockFilter

Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=10_000_000)]


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    _no_nul = field_validator("*")(no_nul)


class ItemQuery(Query):
    search: Annotated[str, Field(max_length=200)] | None = None
    stock: StockFilter = "in"
    limit: Limit = 50
    offset: Offset = 0


class LotQuery(Query):
    expiring_within_days: Annotated[int, Field(ge=0, le=36_500)] | None = None
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
    limit: Annotated[int, Field(ge=1, le=10_000)] = 100


class HistoryQuery(Query):
    limit: Limit = 100


class QrQuery(Query):
    format: Annotated[str, Field(pattern="^(png|svg)$")] = "png"
