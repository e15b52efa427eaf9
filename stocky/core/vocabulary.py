"""The fixed word lists of the data model, shared by models and schemas."""

from typing import Literal, get_args

StorageType = Literal["Ambient", "Refrigerated", "Frozen"]
Role = Literal["Admin", "Member", "Scanner", "Read-only"]
LookupStatus = Literal["pending", "found", "not_found", "failed"]
AlertSeverity = Literal["Info", "Warning", "Error"]
ChangeSource = Literal["scan", "ui", "api"]
ScanMode = Literal["add", "remove"]
ExpiryState = Literal["soon", "expired"]

STORAGE_TYPES: tuple[str, ...] = get_args(StorageType)
ROLES: tuple[str, ...] = get_args(Role)
LOOKUP_STATUSES: tuple[str, ...] = get_args(LookupStatus)
ALERT_SEVERITIES: tuple[str, ...] = get_args(AlertSeverity)
CHANGE_SOURCES: tuple[str, ...] = get_args(ChangeSource)
EXPIRY_STATES: tuple[str, ...] = get_args(ExpiryState)
