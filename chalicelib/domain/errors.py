"""One exception hierarchy for the core; `chalicelib.web.http` maps it to HTTP in one place."""

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


class BadRequest(MikrokortError):
    """A request the server cannot read at all (a malformed header)."""

    status = 400
    code = "BadRequest"


class InvalidParameter(MikrokortError):
    status = 400
    code = "InvalidParameterValue"


class UnknownParameter(InvalidParameter):
    code = "UnknownParameter"


class NotFound(MikrokortError):
    status = 404
    code = "NotFound"


class MethodNotAllowed(MikrokortError):
    status = 405
    code = "MethodNotAllowed"


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


class NotConfigured(MikrokortError):
    """The deployment is missing a setting it must have (a secret left at its default)."""

    status = 503
    code = "NotConfigured"


class ReferenceDataMissing(MikrokortError):
    """A data file the product ships (boundaries, names, postcodes) is missing or unreadable:
    the installation is incomplete, which no setting can fix."""

    status = 503
    code = "ReferenceDataMissing"


class Unauthorized(MikrokortError):
    """No API key, an unknown one, or a revoked one."""

    status = 401
    code = "Unauthorized"


class PreconditionFailed(MikrokortError):
    """If-Match names a version that is no longer current: re-read, re-apply, retry."""

    status = 412
    code = "PreconditionFailed"


class PreconditionRequired(MikrokortError):
    """A write to something that exists came without If-Match: it could overwrite unseen edits."""

    status = 428
    code = "PreconditionRequired"


class PayloadTooLarge(MikrokortError):
    status = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(MikrokortError):
    status = 415
    code = "UnsupportedMediaType"


class UnprocessableEntity(MikrokortError):
    """A well-formed request whose content breaks the rules; `parameter` names the field."""

    status = 422
    code = "UnprocessableEntity"


class TooManyRequests(MikrokortError):
    status = 429
    code = "TooManyRequests"
