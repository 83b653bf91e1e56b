"""Maps HTTP statuses, Moonshot `error.type`s and SDK exceptions to error kinds and sentences."""

from __future__ import annotations

import json
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import API_KEY_ENV_VARS
from ..errors import ConfigError, ErrorKind, RequestFailedError
from ..secrets.redact import redact
from .retry import parse_retry_after

_KEY_SHAPES = re.compile(r"\b(?:sk|ak|key)-[A-Za-z0-9_\-]{8,}|\bBearer\s+\S+", re.IGNORECASE)
_TOKEN_LIMIT = re.compile(
    r"token limit|too long|context length|context window|maximum context|exceed.*tokens",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"\bpartial\b|\bprefix\b", re.IGNORECASE)
_QUOTA = re.compile(r"quota|balance|recharge|insufficient", re.IGNORECASE)
_BROKE_OFF = (
    "the answer broke off after it had started streaming and was not retried "
    "(a retry would pay for the whole answer again): ask again"
)


class ModelRequestError(RequestFailedError):
    """A failed model call: kind, user sentence, and what the API said (already scrubbed)."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        error_type: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(kind, message, retry_after=retry_after)
        self.status = status
        self.error_type = error_type
        self.retryable = retryable
        """Worth another attempt (only ever made before the first chunk of an answer)."""
        self.attempts = 1


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """What the sentences name; `api_key` is only used to scrub it out of every text."""

    base_url: str
    model: str
    api_key: str | None
    max_output_tokens: int = 0
    continued: bool = False


def scrub(text: str, secret: str | None) -> str:
    """Remove the key (and anything key-shaped or secret-looking, which an endpoint may echo
    back) from a text shown to the user or logged."""
    if secret:
        text = text.replace(secret, "[REDACTED]")
    return _KEY_SHAPES.sub("[REDACTED]", redact(text).text)


def missing_key() -> ConfigError:
    return ConfigError(
        f"Kimi API key missing: set {API_KEY_ENV_VARS[0]} or the kimi.apiKey setting "
        "(keys come from platform.moonshot.ai, or platform.moonshot.cn in China)."
    )


def _upstream(body: Any, fallback: str, ctx: ErrorContext) -> tuple[str | None, str]:
    """(error.type, error.message) from an error body in Moonshot/OpenAI shape or raw text."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            kind = inner.get("type") or inner.get("code")
            message = inner.get("message")
            return (
                str(kind) if kind else None,
                _short(str(message) if message else fallback, ctx),
            )
    if isinstance(body, str) and body.strip():
        try:
            return _upstream(json.loads(body), fallback, ctx)
        except ValueError:
            text = re.sub(r"<[^>]+>", " ", body)
            return None, _short(" ".join(text.split()) or fallback, ctx)
    return None, _short(fallback, ctx)


def _short(text: str, ctx: ErrorContext, limit: int = 240) -> str:
    text = scrub(text.strip(), ctx.api_key)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


@dataclass(frozen=True, slots=True)
class _Answer:
    """An HTTP error response, as the sentences about it need it."""

    status: int
    error_type: str | None
    upstream: str
    retry_after: float | None
    ctx: ErrorContext

    @property
    def label(self) -> str:
        return f"HTTP {self.status}" + (f" {self.error_type}" if self.error_type else "")

    @property
    def where(self) -> str:
        return f"The Kimi API at {self.ctx.base_url}"

    def error(self, kind: ErrorKind, message: str, retryable: bool = False) -> ModelRequestError:
        return ModelRequestError(
            kind,
            message,
            retry_after=self.retry_after,
            status=self.status,
            error_type=self.error_type,
            retryable=retryable,
        )


def from_status(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None,
    ctx: ErrorContext,
) -> ModelRequestError:
    """The error for an HTTP error response (before any stream)."""
    error_type, upstream = _upstream(body, f"HTTP {status}", ctx)
    a = _Answer(status, error_type, upstream, parse_retry_after(headers), ctx)
    if status == 401:
        return a.error(
            ErrorKind.AUTH,
            f"{a.where} rejected the API key ({a.label}). Check kimi.apiKey / "
            f"{API_KEY_ENV_VARS[0]}; note that keys of api.moonshot.ai and api.moonshot.cn are "
            "not interchangeable: check that the key matches kimi.baseUrl.",
        )
    if status == 403:
        return a.error(
            ErrorKind.AUTH,
            f"{a.where} does not allow this account to use model {ctx.model} "
            f"({a.label}: {a.upstream}). "
            "Check kimi.model, or the model permissions of your account.",
        )
    if status == 404:
        return a.error(
            ErrorKind.CONFIG,
            f"{a.where} does not know model {ctx.model} ({a.label}: {a.upstream}). "
            "Check kimi.model (e.g. kimi-k2.6) and that kimi.baseUrl ends with /v1.",
        )
    if status == 429:
        return _too_many_requests(a)
    if status in (400, 413, 422):
        return _refused(a)
    if status >= 500 or status in (408, 409):
        return a.error(
            ErrorKind.SERVER,
            f"{a.where} failed with a server error ({a.label}: {a.upstream}): try again later.",
            retryable=True,
        )
    return a.error(ErrorKind.BAD_RESPONSE, f"{a.where} answered {a.label}: {a.upstream}.")


def _too_many_requests(a: _Answer) -> ModelRequestError:
    """HTTP 429: the balance is exhausted, Kimi is overloaded, or the rate limit was reached."""
    if a.error_type == "exceeded_current_quota_error" or (
        a.error_type not in ("rate_limit_reached_error", "engine_overloaded_error")
        and _QUOTA.search(a.upstream)
    ):
        return a.error(
            ErrorKind.QUOTA,
            f"Your Kimi account balance is exhausted ({a.label}): recharge at "
            "platform.moonshot.ai (platform.moonshot.cn for a China key), then try again. "
            "The request was not retried.",
        )
    if a.error_type == "engine_overloaded_error" or "overload" in a.upstream.lower():
        return a.error(
            ErrorKind.OVERLOADED,
            f"Kimi is overloaded right now ({a.label}): try again in a moment.",
            retryable=True,
        )
    wait = f"wait {_seconds(a.retry_after)} and " if a.retry_after else "wait a little and "
    return a.error(
        ErrorKind.RATE_LIMIT,
        f"The Kimi API rate limit was reached ({a.label}: {a.upstream}): {wait}try again, or "
        "lower kimi.maxConcurrentRequests to match your account tier.",
        retryable=True,
    )


def _refused(a: _Answer) -> ModelRequestError:
    """HTTP 400, 413 or 422: the content filter, the context window, the prefix mode, or else."""
    if a.error_type == "content_filter" or "high risk" in a.upstream.lower():
        return a.error(
            ErrorKind.CONTENT_FILTER,
            "Kimi's content filter rejected the request as high risk: rephrase it or leave "
            "out the flagged content. It was not retried.",
        )
    if a.status == 413 or _TOKEN_LIMIT.search(a.upstream):
        return a.error(
            ErrorKind.CONTEXT_OVERFLOW,
            f"The request does not fit {a.ctx.model}'s context window ({a.upstream}): shorten "
            "the conversation or the selection, or lower kimi.maxOutputTokens "
            f"(now {a.ctx.max_output_tokens}).",
        )
    if a.ctx.continued and _CONTINUATION.search(a.upstream):
        return a.error(
            ErrorKind.CONFIG,
            f"{a.where} refused the prefix continuation ({a.label}: {a.upstream}): set "
            'kimi.prefixMode to the form this endpoint supports ("partial" for Moonshot, '
            '"prefix" for relays such as Huawei Cloud, or "none").',
        )
    return a.error(
        ErrorKind.BAD_RESPONSE,
        f"{a.where} refused the request ({a.label}: {a.upstream}). It was not retried.",
    )


def network(cause: BaseException | None, ctx: ErrorContext) -> ModelRequestError:
    """Connection refused, DNS failure, TLS failure, connection lost before the answer began."""
    detail = _describe(cause, ctx)
    return ModelRequestError(
        ErrorKind.NETWORK,
        f"Could not reach the Kimi API at {ctx.base_url} ({detail}): check the network "
        "connection, any proxy, and kimi.baseUrl.",
        retryable=True,
    )


def _describe(cause: BaseException | None, ctx: ErrorContext) -> str:
    seen: list[BaseException] = []
    while cause is not None and cause not in seen:
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    for exc in seen:
        if isinstance(exc, socket.gaierror):
            return "the host name could not be resolved"
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, ssl.SSLError):
            return _short(f"TLS failed: {exc}", ctx, 160)
    texts = [str(exc) for exc in reversed(seen) if str(exc) and str(exc) != "Connection error."]
    text = texts[0] if texts else "connection failed"
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        text = "the host name could not be resolved"
    elif "connect call failed" in lowered or "refused" in lowered:
        text = "connection refused"
    elif "all connection attempts failed" in lowered:
        text = "could not connect"
    return _short(text, ctx, 160)


def stall(seconds: float, started: bool) -> ModelRequestError:
    when = "in the middle of the answer" if started else "before the answer began"
    tail = f"; {_BROKE_OFF}" if started else ": try again"
    return ModelRequestError(
        ErrorKind.TIMEOUT,
        f"The Kimi API sent nothing for {_seconds(seconds)} {when}, so the request was stopped"
        f"{tail}.",
        retryable=not started,
    )


def total_timeout(seconds: float) -> ModelRequestError:
    return ModelRequestError(
        ErrorKind.TIMEOUT,
        f"The Kimi request took longer than kimi.requestTimeoutSeconds ({_seconds(seconds)}) "
        "and was stopped: try again, or raise kimi.requestTimeoutSeconds.",
    )


def broke_off(reason: str, ctx: ErrorContext) -> ModelRequestError:
    """The stream started, then failed: never retried."""
    return ModelRequestError(
        ErrorKind.BAD_RESPONSE,
        f"The Kimi API at {ctx.base_url} {_short(reason, ctx)}; {_BROKE_OFF}.",
    )


def malformed(ctx: ErrorContext, started: bool) -> ModelRequestError:
    if started:
        return broke_off("sent a malformed stream chunk", ctx)
    return ModelRequestError(
        ErrorKind.BAD_RESPONSE,
        f"The Kimi API at {ctx.base_url} sent a malformed stream chunk: check that kimi.baseUrl "
        "is an OpenAI-compatible endpoint.",
    )


def in_stream(body: Any, ctx: ErrorContext) -> ModelRequestError:
    """An error event inside the stream (`data: {"error": {...}}`)."""
    error_type, upstream = _upstream(body, "unknown error", ctx)
    if error_type == "content_filter" or "high risk" in upstream.lower():
        return content_filtered(started=True)
    label = f"{error_type}: {upstream}" if error_type else upstream
    return broke_off(f"reported an error in the middle of the answer ({label})", ctx)


def content_filtered(started: bool) -> ModelRequestError:
    if started:
        return ModelRequestError(
            ErrorKind.CONTENT_FILTER,
            "Kimi's content filter stopped the answer part-way as high risk: rephrase the "
            "request or leave out the flagged content. It was not retried.",
            error_type="content_filter",
        )
    return ModelRequestError(
        ErrorKind.CONTENT_FILTER,
        "Kimi's content filter rejected the request as high risk: rephrase it or leave out the "
        "flagged content. It was not retried.",
        error_type="content_filter",
    )


def reasoning_only(max_output_tokens: int) -> ModelRequestError:
    """`finish_reason == "length"` with no answer: the budget went to reasoning."""
    return ModelRequestError(
        ErrorKind.CONTEXT_OVERFLOW,
        f"Kimi used the whole output budget (kimi.maxOutputTokens = {max_output_tokens}) on "
        "reasoning and wrote no answer: raise kimi.maxOutputTokens (16K-32K leaves room for "
        'reasoning) or set kimi.thinking to "disabled".',
    )


def after_attempts(error: ModelRequestError, attempts: int) -> ModelRequestError:
    """The same error, saying how many attempts were made when there were several."""
    error.attempts = attempts
    if attempts > 1:
        error.message = f"{error.message} (Gave up after {attempts} attempts.)"
        error.args = (error.message,)
    return error


def classify(exc: BaseException, ctx: ErrorContext, *, started: bool) -> ModelRequestError:
    """Any exception out of the SDK call or its stream, as a `ModelRequestError`."""
    import openai

    if isinstance(exc, ModelRequestError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        return from_status(exc.status_code, exc.body, exc.response.headers, ctx)
    if isinstance(exc, openai.APITimeoutError):
        if started:
            return broke_off("timed out", ctx)
        return ModelRequestError(
            ErrorKind.TIMEOUT,
            f"The Kimi API at {ctx.base_url} did not answer in time: check the network "
            "connection and kimi.baseUrl, then try again.",
            retryable=True,
        )
    if isinstance(exc, openai.APIConnectionError):
        if started:
            return broke_off("closed the connection before the end of the stream", ctx)
        return network(exc, ctx)
    if isinstance(exc, openai.APIResponseValidationError | ValueError | KeyError | TypeError):
        return malformed(ctx, started)
    if isinstance(exc, openai.APIError):  # an in-stream error event
        return in_stream(exc.body, ctx)
    name = type(exc).__name__
    if started:
        return broke_off(f"failed unexpectedly ({name})", ctx)
    return ModelRequestError(
        ErrorKind.BAD_RESPONSE,
        f"The call to the Kimi API at {ctx.base_url} failed unexpectedly ({name}: "
        f"{_short(str(exc), ctx, 160)}).",
    )
