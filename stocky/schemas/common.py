from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
)

from stocky.core.errors import InvalidInput


def no_nul(value: Any) -> Any:
    """PostgreSQL cannot store the NUL character in text (SQLite can): it
    is refused on the way in, on both, instead of failing in the database."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    _no_nul = field_validator("*")(no_nul)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    data: list[T]
    total: int


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Text = Annotated[str, StringConstraints(max_length=10_000)]

MAX_QUANTITY = 1_000_000
# Strict: a quantity is a JSON number, never "5" or true.
Quantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "body", "message": _plain(e)}
        for e in error.errors(include_url=False)
    ]


def _plain(error: Any) -> str:
    """Pydantic's message without the "Value error, " it puts before what a
    validator of ours raised: that sentence is ours, for people to read."""
    message = error["msg"]
    if error["type"] == "value_error":
        return message.removeprefix("Value error, ")
    if error["type"] == "assertion_error":
        return message.removeprefix("Assertion failed, ")
    return message


def parse(model: type[M], data: Any) -> M:
    """``data`` as ``model``, or ``InvalidInput`` naming every failing field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = field_errors(error)
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        raise InvalidInput(f"Invalid input ({summary}).", fields) from error
