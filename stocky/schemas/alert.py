from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import StrictBool, StringConstraints

from stocky.core.vocabulary import AlertSeverity
from stocky.schemas.common import Input, Output


class AlertCreate(Input):
    severity: AlertSeverity = "Info"
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AlertUpdate(Input):
    is_acknowledged: StrictBool


class AlertOut(Output):
    id: uuid.UUID
    timestamp: datetime
    severity: AlertSeverity
    message: str
    is_acknowledged: bool
