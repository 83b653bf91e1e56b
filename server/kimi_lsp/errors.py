"""Typed errors of the core, each carrying a protocol error kind and a sentence for the user."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """The `data.kind` values of protocol.md's RequestFailed errors."""

    AUTH = "auth"
    QUOTA = "quota"
    RATE_LIMIT = "rate_limit"
    OVERLOADED = "overloaded"
    CONTEXT_OVERFLOW = "context_overflow"
    CONTENT_FILTER = "content_filter"
    NETWORK = "network"
    TIMEOUT = "timeout"
    SERVER = "server"
    BAD_RESPONSE = "bad_response"
    STALE_DOCUMENT = "stale_document"
    CONFIG = "config"


class KimiError(Exception):
    """Base of every error the core raises on purpose; `str(err)` is the user-facing sentence."""

    kind: ErrorKind | None = None

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class InvalidInputError(KimiError):
    """A request's parameters are malformed; answered as InvalidParams."""


class RequestFailedError(KimiError):
    """An operation failed for a reason with a protocol error kind; answered as RequestFailed."""

    def __init__(self, kind: ErrorKind, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.kind = kind


class ConfigError(RequestFailedError):
    """Configuration is missing or wrong (e.g. no API key)."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.CONFIG, message)


class StaleDocumentError(RequestFailedError):
    """An edit could not be applied because the document changed under it."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.STALE_DOCUMENT, message)
