"""`ModelRouter`: each request to its role's model, with the fallback chain and circuit breakers."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Hashable
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..config import Settings
from ..errors import ErrorKind, KimiError, RequestFailedError
from . import errors
from .breaker import CircuitBreaker
from .client import EventCallback, ModelClient, UsageCallback, drain
from .estimate import Counter
from .limiter import FairLimiter
from .types import (
    Completed,
    ContentDelta,
    ModelRequest,
    ModelResult,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UsageTotals,
)

log = logging.getLogger(__name__)

ROLES = ("chat", "edit", "refactor", "prediction")

FALLBACK_KINDS: frozenset[ErrorKind] = frozenset(
    {
        ErrorKind.OVERLOADED,
        ErrorKind.RATE_LIMIT,
        ErrorKind.SERVER,
        ErrorKind.NETWORK,
        ErrorKind.TIMEOUT,
        ErrorKind.QUOTA,
    }
)
"""Failures before any content that a fallback may answer instead (protocol.md, `fallback`);
the same kinds count as outages for the circuit breaker."""

CIRCUIT_OPEN = "circuit_open"  # lastFallback.kind when the primary was skipped, not tried

_SAID = {
    "overloaded": "was overloaded",
    "rate_limit": "was rate-limited",
    "server": "failed with a server error",
    "network": "could not be reached",
    "timeout": "did not answer in time",
    "quota": "is out of quota",
    CIRCUIT_OPEN: "is skipped for a while after repeated failures",
}

_EVENTS_STREAMED = (ContentDelta, ReasoningDelta, ToolCallDelta)
_CHARS_PER_TOKEN = 3  # a deliberately high count of an unknown tokenizer's tokens


@dataclass(frozen=True, slots=True)
class FallbackNote:
    """A request a fallback served: `from_model` failed (`kind`) or was skipped, `to` answered."""

    at: str
    from_model: str
    to: str
    kind: str
    role: str

    def to_wire(self) -> dict[str, Any]:
        return {"at": self.at, "from": self.from_model, "to": self.to, "kind": self.kind}

    def sentence(self) -> str:
        return f"{self.from_model} {_SAID.get(self.kind, self.kind)}; {self.to} answered"


FallbackCallback = Callable[[FallbackNote], None]


def role_settings(settings: Settings, purpose: str) -> Settings:
    """The settings a request of `purpose` uses (its role's overrides over the top level)."""
    return settings.for_role(purpose)


def fallback_settings(settings: Settings, purpose: str) -> tuple[Settings, ...]:
    """The fallback chain for `purpose`, in order."""
    return settings.fallback_chain(purpose)


def roles_of(settings: Settings) -> dict[str, dict[str, str]]:
    """`kimi/status`'s `roles`: each role's model and base URL (never a key)."""
    out: dict[str, dict[str, str]] = {}
    for role in ROLES:
        derived = role_settings(settings, role)
        out[role] = {"model": derived.model, "baseUrl": derived.base_url}
    return out


def endpoint_key(settings: Settings) -> Hashable:
    """What makes two settings the same endpoint: one client and one circuit per key. The key
    stays in memory (it holds the API key so that two accounts never share a client)."""
    return (settings.base_url, settings.api_key, settings.model, settings.request_timeout_seconds)


def rough_tokens(messages: list[dict[str, Any]]) -> int:
    """An upper estimate of the messages' tokens under any tokenizer (no tokenizer loaded)."""
    chars = 0
    for message in messages:
        content = message.get("content")
        chars += len(content) if isinstance(content, str) else len(str(content or ""))
        for call in message.get("tool_calls") or ():
            chars += len(str(call))
    return chars // _CHARS_PER_TOKEN + 4 * len(messages)


class ModelRouter:
    """The model as the server uses it: `stream()` / `complete()` like `ModelClient`, with

    - each request sent with its purpose's role settings (`models`),
    - one `ModelClient` per endpoint, built on first use, retired when the settings drop it,
      all sharing one queue (`maxConcurrentRequests`),
    - the fallback chain (`fallback`) tried in order when a model fails with an outage before
      anything was streamed to the caller (never in the middle of an answer, never on auth,
      configuration, context overflow, content filter or a cancel),
    - a circuit breaker per endpoint: one that keeps failing is skipped while a fallback is
      configured, then probed again,
    - usage summed over every model (`totals`), and the last fallback kept for `kimi/status`."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_usage: UsageCallback | None = None,
        on_fallback: FallbackCallback | None = None,
        breaker: CircuitBreaker | None = None,
        client_factory: Callable[..., ModelClient] = ModelClient,
        counter: Callable[[], Counter] | None = None,
    ) -> None:
        self._settings = settings
        self._on_usage = on_usage
        self._on_fallback = on_fallback
        self.breaker = breaker or CircuitBreaker()
        self._factory = client_factory
        self._counter = counter  # for endpoints that report no usage
        self._limiter = FairLimiter(settings.max_concurrent_requests)
        self._clients: dict[Hashable, ModelClient] = {}
        self._retired: list[ModelClient] = []
        self.totals = UsageTotals(currency=settings.pricing.currency)
        self.last_error: dict[str, Any] | None = None
        self.last_fallback: FallbackNote | None = None

    # ------------------------------------------------------------------ settings, clients

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def limiter(self) -> FairLimiter:
        return self._limiter

    @property
    def open_streams(self) -> int:
        clients = [*self._clients.values(), *self._retired]
        return sum(client.open_streams for client in clients)

    def update_settings(self, settings: Settings) -> None:
        """New settings for the next calls; a client whose endpoint is no longer configured is
        retired (its calls in flight finish, then its connections close)."""
        self._settings = settings
        self._limiter.resize(settings.max_concurrent_requests)
        keep = self._configured_keys(settings)
        # Retired clients are kept only while a stream of theirs is open (for open_streams).
        self._retired = [client for client in self._retired if client.open_streams]
        for key in [k for k in self._clients if k not in keep]:
            client = self._clients.pop(key)
            client.retire()
            self._retired.append(client)
        self.breaker.forget(keep)

    def _configured_keys(self, settings: Settings) -> set[Hashable]:
        keys: set[Hashable] = set()
        for role in ROLES:
            keys.add(endpoint_key(role_settings(settings, role)))
            keys.update(endpoint_key(s) for s in fallback_settings(settings, role))
        return keys

    def client_for(self, settings: Settings) -> ModelClient:
        """The client of the endpoint `settings` name, built on first use."""
        key = endpoint_key(settings)
        client = self._clients.get(key)
        if client is None:
            client = self._factory(
                settings, on_usage=self._usage, limiter=self._limiter, counter=self._counter
            )
            self._clients[key] = client
        return client

    def _usage(self, result: ModelResult, _client_totals: UsageTotals) -> None:
        self.totals.add(result.usage)
        if self._on_usage is not None:
            self._on_usage(result, self.totals)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        clients.extend(self._retired)
        self._retired = []
        for client in clients:
            await client.aclose()

    # ------------------------------------------------------------------ calls

    async def complete(
        self, request: ModelRequest, on_event: EventCallback | None = None
    ) -> ModelResult:
        """Run `stream()` to the end; `on_event` sees every event (`Completed` last)."""
        result = await drain(self.stream(request), on_event)
        if result is None:  # unreachable: stream() ends with Completed or raises
            raise errors.broke_off("ended without a result", _no_context(self._settings))
        return result

    async def stream(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
        """Deltas as they arrive, then `Completed`; or the error of the last model tried."""
        try:
            async with aclosing(self._route(request)) as events:
                async for event in events:
                    yield event
        except KimiError as error:
            if error.kind is not None:
                self.last_error = {
                    "kind": str(error.kind),
                    "message": error.message,
                    "at": _now(),
                }
            raise

    async def _route(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
        primary = role_settings(self._settings, request.purpose)
        chain = (primary, *fallback_settings(self._settings, request.purpose))
        attempt = _Attempt(primary)
        for index, settings in enumerate(chain):
            if len(chain) > 1 and not self.breaker.allow(endpoint_key(settings)):
                log.info("Skipping %s: it failed repeatedly; probed again later", settings.model)
                attempt.skipped(settings, CIRCUIT_OPEN)
                continue
            if index > 0 and not settings.api_key and not settings.keyless:
                # A fallback on Moonshot's endpoint without apiKeyEnv has no key (the top-level
                # key never leaves its endpoint): skipped, so the primary's error stands. A
                # self-hosted one is tried without a key.
                log.info("Skipping fallback %s: no API key (set its apiKeyEnv)", settings.model)
                continue
            fitted = await self._fit(request, primary, settings)
            if fitted is None:
                continue
            fail_fast = index < len(chain) - 1
            async with aclosing(self._try(fitted, settings, attempt, fail_fast)) as events:
                async for event in events:
                    yield event
            if attempt.done:
                return
        if attempt.error is not None:
            raise attempt.error
        # Every endpoint was skipped (all circuits open): the primary is tried all the same,
        # rather than failing a request nobody attempted.
        async with aclosing(self._try(request, primary, attempt, False)) as events:
            async for event in events:
                yield event
        if attempt.error is not None:
            raise attempt.error

    async def _try(
        self, request: ModelRequest, settings: Settings, attempt: _Attempt, fail_fast: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        """One model of the chain. Sets `attempt.done` when it answered; records an outage
        that a fallback may answer in `attempt.error`; raises every other failure."""
        key = endpoint_key(settings)
        client = self.client_for(settings)
        streamed = False
        try:
            events = client.stream(request, settings, fail_fast=fail_fast)
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, _EVENTS_STREAMED):
                        streamed = True
                    elif isinstance(event, Completed):
                        self.breaker.succeeded(key)
                        self._served(attempt, settings)
                    yield event
        except RequestFailedError as error:
            self._judge(key, error)
            if streamed or error.kind not in FALLBACK_KINDS:
                raise
            attempt.failed(settings, error)
            if fail_fast:  # another model of the chain comes next
                log.info("%s failed (%s) before answering", settings.model, error.kind)
            return
        except BaseException:
            self.breaker.released(key)
            raise
        attempt.done = True

    def _judge(self, key: Hashable, error: RequestFailedError) -> None:
        if error.kind in FALLBACK_KINDS:
            self.breaker.failed(key)
        else:  # the endpoint answered (auth, a filter, an overflow): it is up
            self.breaker.succeeded(key)

    def _served(self, attempt: _Attempt, settings: Settings) -> None:
        """A model answered: note it when it was not the first one the request meant."""
        if attempt.reason is None or settings is attempt.primary:
            return
        note = FallbackNote(
            _now(), attempt.primary.model, settings.model, attempt.reason, attempt.primary_role
        )
        self.last_fallback = note
        log.info("%s", note.sentence())
        if self._on_fallback is not None:
            try:
                self._on_fallback(note)
            except Exception:
                log.exception("the fallback callback failed")

    async def _fit(
        self, request: ModelRequest, primary: Settings, settings: Settings
    ) -> ModelRequest | None:
        """The request as `settings` can take it: as it is when it fits that model's window,
        re-planned when the window or tokenizer differs and it does not fit; None (skipped,
        with the reason logged) when it neither fits nor can be re-planned."""
        if settings is primary or _same_budget(primary, settings):
            return request
        if rough_tokens(request.messages) <= settings.prompt_budget():
            return request
        if request.replan is None:
            log.info(
                "Skipping fallback %s: the request does not fit its %d-token window and cannot "
                "be rebuilt for it",
                settings.model,
                settings.context_window,
            )
            return None
        messages = await request.replan(settings)
        return replace(request, messages=messages)


class _Attempt:
    """What happened so far to one routed request."""

    def __init__(self, primary: Settings) -> None:
        self.primary = primary
        self.primary_role = primary.role
        self.done = False
        self.error: RequestFailedError | None = None
        self.reason: str | None = None  # why the primary did not answer

    def skipped(self, settings: Settings, reason: str) -> None:
        if settings is self.primary and self.reason is None:
            self.reason = reason

    def failed(self, settings: Settings, error: RequestFailedError) -> None:
        self.error = error
        if self.reason is None:
            self.reason = str(error.kind)


def _same_budget(a: Settings, b: Settings) -> bool:
    return (a.context_window, a.model, a.tokenizer_path, a.max_output_tokens) == (
        b.context_window,
        b.model,
        b.tokenizer_path,
        b.max_output_tokens,
    )


def _no_context(settings: Settings) -> errors.ErrorContext:
    return errors.ErrorContext(settings.base_url, settings.model, settings.api_key)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
