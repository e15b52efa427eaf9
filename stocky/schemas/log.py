from __future__ import annotations

import uuid
from datetime import datetime

from stocky.core.logbuffer import Severity
from stocky.schemas.common import Output


class LogEntryOut(Output):
    id: uuid.UUID
    timestamp: datetime
    severity: Severity
    message: str
    source: str
