"""Request bodies: JSON or form data validated by a pydantic model, with errors that name the
field. Shared by every write route (admin, curation, self-registration), so it lives on the web
side rather than in one of them.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from chalicelib.domain.errors import (
    InvalidParameter,
    PayloadTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from chalicelib.web.http import HttpRequest

MAX_BODY = 512 * 1024  # a network area with a detailed outline fits; anything bigger is refused
M = TypeVar("M", bound=BaseModel)


def parse_body(req: HttpRequest, model: type[M], limit: int = MAX_BODY) -> M:
    """A JSON body validated by a pydantic model: 413, 415, 400 or 422 naming the field."""
    if len(req.body) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit // 1024} KB")
    media = (req.header("content-type") or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    try:
        data = orjson.loads(req.body)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameter(f"the body is not JSON: {exc}", parameter="body") from None
    return validate(model, data)


def validate(model: type[M], data: Any) -> M:
    """The model, or a 422 naming the first field that is wrong (and how many are)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise UnprocessableEntity(
            f"{where}: {first['msg']}"
            + (f" ({len(exc.errors())} problems)" if len(exc.errors()) > 1 else ""),
            parameter=where,
        ) from None
