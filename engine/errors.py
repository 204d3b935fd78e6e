"""Engine errors. They carry a message for the user (Chinese) and never an HTTP code:
``web/`` maps each class to its status."""
from __future__ import annotations


class EngineError(Exception):
    code = "engine_error"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(EngineError):
    code = "not_found"


class Unauthenticated(EngineError):
    """Who is asking is not known: no valid session or token, or a refused sign-in."""

    code = "unauthenticated"


class Forbidden(EngineError):
    code = "forbidden"


class Conflict(EngineError):
    code = "conflict"


class InvalidData(EngineError):
    code = "invalid"
