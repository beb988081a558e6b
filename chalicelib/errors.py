"""One exception hierarchy for the core; `chalicelib.http` maps it to HTTP in one place."""

from __future__ import annotations


class MikrokortError(Exception):
    """Base of every error the core raises on purpose."""

    status = 500
    code = "ServerError"

    def __init__(self, description: str, *, parameter: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.parameter = parameter

    def body(self) -> dict[str, object]:
        """The OGC exception document (`code`, `description`), plus the parameter at fault."""
        doc: dict[str, object] = {"code": self.code, "description": self.description}
        if self.parameter is not None:
            doc["parameter"] = self.parameter
        return doc


class InvalidParameter(MikrokortError):
    status = 400
    code = "InvalidParameterValue"


class UnknownParameter(InvalidParameter):
    code = "UnknownParameter"


class NotFound(MikrokortError):
    status = 404
    code = "NotFound"


class NotAcceptable(MikrokortError):
    status = 406
    code = "NotAcceptable"


class Conflict(MikrokortError):
    status = 409
    code = "Conflict"


class Forbidden(MikrokortError):
    status = 403
    code = "Forbidden"


class StoreUnavailable(MikrokortError):
    status = 503
    code = "StoreUnavailable"
