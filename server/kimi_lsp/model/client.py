"""`ModelClient`: streamed kimi-k2.6 calls with a queue, retries, timeouts, usage, typed errors."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import Pricing, RoleOverrides, Settings, is_kimi_model
from ..errors import ErrorKind, KimiError
from . import errors, sse
from .assemble import Assembler
from .errors import ErrorContext, ModelRequestError
from .estimate import Counter, estimate_usage
from .limiter import FairLimiter
from .params import Call, build_call, prefix_mode_for
from .prefix import PrefixStripper, learned_repeat, should_detect
from .pricing import usage_from
from .retry import RetryPolicy
from .types import Completed, ModelRequest, ModelResult, StreamEvent, ToolCall, Usage, UsageTotals

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

NO_KEY = "no-key"
"""What a keyless endpoint (self-hosted, no key configured) is sent as its bearer token."""
STALL_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0
STALL_ENV = "KIMI_LSP_STALL_SECONDS"  # tuning (and fast fault tests): the stall timeout
RETRY_BASE_ENV = "KIMI_LSP_RETRY_BASE_SECONDS"  # tuning: the first retry's backoff ceiling

EventCallback = Callable[[StreamEvent], Awaitable[None] | None]
UsageCallback = Callable[[ModelResult, UsageTotals], None]


class _Sdk:
    """One `AsyncOpenAI` client and the streams using it (closed once retired and unused)."""

    __slots__ = ("client", "retired", "users")

    def __init__(self, client: AsyncOpenAI) -> None:
        self.client = client
        self.users = 0
        self.retired = False


class ModelClient:
    """Calls the model through the official `openai` SDK (imported on first use).

    Every call waits its turn in a fair queue (`maxConcurrentRequests`), then streams. Failures
    before the first chunk of the answer are retried (`maxRetries`) when transient; every failure
    ends as a `RequestFailedError` whose message a user can act on and never contains the key.

    Streams: `stream()` is an async generator; close it (`contextlib.aclosing`) or cancel the
    task to stop the HTTP stream at once. `ContentDelta`s never contain a continuation's prefix;
    the final `Completed` result has `content` = prefix + reply when a continuation was sent.

    `finish_reason == "length"` with no answer and no tool call raises a `context_overflow`
    error (the budget went to reasoning); with some answer it is a result with `truncated`.
    Usage is counted (and `on_usage` called) for every answer the API finished, those two
    error cases (content filter, reasoning only) included, since they are billed."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client_factory: Callable[[], Any] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_usage: UsageCallback | None = None,
        stall_timeout: float | None = None,
        retry_policy: RetryPolicy | None = None,
        limiter: FairLimiter | None = None,
        counter: Callable[[], Counter] | None = None,
    ) -> None:
        self._settings = settings
        self._http_client_factory = http_client_factory
        self._sleep = sleep
        self._on_usage = on_usage
        self.stall_timeout = (
            stall_timeout if stall_timeout is not None else _env_seconds(STALL_ENV, STALL_TIMEOUT)
        )
        self.retry_policy = retry_policy or RetryPolicy(base=_env_seconds(RETRY_BASE_ENV, 0.5))
        # Shared by every client of a `ModelRouter`: maxConcurrentRequests bounds the server.
        self._limiter = limiter or FairLimiter(settings.max_concurrent_requests)
        # Counts an answer locally when the endpoint reports no usage (llama.cpp, some relays).
        self._counter = counter
        self._sdk: _Sdk | None = None
        self._retired: list[_Sdk] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._endpoint_repeats_prefix = False
        self.totals = UsageTotals(currency=settings.pricing.currency)
        self.last_error: dict[str, Any] | None = None
        self.open_streams = 0  # HTTP streams not yet closed (kimi/debugStats)

    # ------------------------------------------------------------------ settings, SDK client

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def limiter(self) -> FairLimiter:
        return self._limiter

    def update_settings(self, settings: Settings) -> None:
        """Use new settings for the next calls; calls in flight finish with the old ones."""
        old, self._settings = self._settings, settings
        if (old.api_key, old.base_url, old.request_timeout_seconds) != (
            settings.api_key,
            settings.base_url,
            settings.request_timeout_seconds,
        ):
            self._retire()
        if old.base_url != settings.base_url:
            self._endpoint_repeats_prefix = False
        self._limiter.resize(settings.max_concurrent_requests)

    def _retire(self) -> None:
        sdk, self._sdk = self._sdk, None
        if sdk is None:
            return
        sdk.retired = True
        self._retired.append(sdk)
        if sdk.users == 0:
            self._close_later(sdk)

    def _close_later(self, sdk: _Sdk) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # closed by aclose()
        task = loop.create_task(self._close_sdk(sdk))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_sdk(self, sdk: _Sdk) -> None:
        if sdk in self._retired:
            self._retired.remove(sdk)
        try:
            await sdk.client.close()
        except Exception:  # closing is best effort
            log.debug("closing an SDK client failed", exc_info=True)

    def _checkout(self, settings: Settings) -> _Sdk:
        if self._sdk is None:
            self._sdk = _Sdk(self._build_sdk(settings))
        self._sdk.users += 1
        return self._sdk

    def _checkin(self, sdk: _Sdk) -> None:
        sdk.users -= 1
        if sdk.retired and sdk.users == 0:
            self._close_later(sdk)

    def _build_sdk(self, settings: Settings) -> AsyncOpenAI:
        import httpx2
        from openai import AsyncOpenAI

        total = settings.request_timeout_seconds
        timeout = httpx2.Timeout(
            total,
            connect=min(CONNECT_TIMEOUT, total),
            read=self.stall_timeout + 5.0,  # a backstop: the stall timer below fires first
        )
        http_client = self._http_client_factory() if self._http_client_factory else None
        return AsyncOpenAI(
            base_url=settings.base_url,
            # Never None: the SDK would then read OPENAI_API_KEY and send that key here.
            api_key=settings.api_key or NO_KEY,
            max_retries=0,
            timeout=timeout,
            http_client=http_client,
        )

    async def aclose(self) -> None:
        """Close the SDK clients (and their connections)."""
        self._retire()
        for sdk in list(self._retired):
            await self._close_sdk(sdk)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # ------------------------------------------------------------------ calls

    def retire(self) -> None:
        """No more calls will come: close the SDK client once the calls in flight are done."""
        self._retire()

    async def complete(
        self, request: ModelRequest, on_event: EventCallback | None = None
    ) -> ModelResult:
        """Run `stream()` to the end; `on_event` sees every event (`Completed` last)."""
        result = await drain(self.stream(request), on_event)
        if result is None:  # unreachable: stream() ends with Completed or raises
            raise errors.broke_off("ended without a result", self._context(self._settings, False))
        return result

    async def stream(
        self, request: ModelRequest, settings: Settings | None = None, *, fail_fast: bool = False
    ) -> AsyncGenerator[StreamEvent, None]:
        """Deltas as they arrive, then `Completed`; or a `RequestFailedError`.

        `settings` (a role's or a fallback's, same endpoint and key as this client's) replace
        the client's for this call. With `fail_fast` only `rate_limit` is retried: a router
        with a fallback in hand moves on at once from an overloaded or unreachable endpoint."""
        settings = settings or self._settings
        try:
            if not settings.api_key and not settings.keyless:
                raise errors.missing_key()
            call = build_call(settings, request)
            request_id = request.request_id or uuid.uuid4().hex[:16]
            ctx = self._context(settings, call.continued, call.max_output_tokens)
            await self._limiter.acquire()
            try:
                events = self._run(settings, call, ctx, (request_id, request.purpose), fail_fast)
                async with aclosing(events):
                    async for event in events:
                        yield event
            finally:
                self._limiter.release()
        except KimiError as error:
            if error.kind is not None:
                self.last_error = {
                    "kind": str(error.kind),
                    "message": error.message,
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            raise

    def _context(self, settings: Settings, continued: bool, max_output: int = 0) -> ErrorContext:
        return ErrorContext(
            settings.base_url, settings.model, settings.api_key, max_output, continued
        )

    async def _run(
        self,
        settings: Settings,
        call: Call,
        ctx: ErrorContext,
        ids: tuple[str, str],
        fail_fast: bool,
    ) -> AsyncGenerator[StreamEvent, None]:
        """The attempts of one call; `ids` is (request id, purpose)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.request_timeout_seconds
        detect = should_detect(
            call.prefix,
            self._endpoint_repeats_prefix,
            prefix_mode_for(settings),
            settings.base_url,
        )
        attempt = 0
        while True:
            attempt += 1
            assembler = Assembler(PrefixStripper(call.prefix if detect else None))
            try:
                attempt_events = self._attempt(settings, call, ctx, assembler, deadline)
                async with aclosing(attempt_events):
                    async for event in attempt_events:
                        yield event
                break
            except ModelRequestError as error:
                delay = self.retry_policy.delay(attempt - 1, error.retry_after)
                if (
                    not error.retryable
                    or (fail_fast and error.kind is not ErrorKind.RATE_LIMIT)
                    or attempt > settings.max_retries
                    or loop.time() + delay >= deadline
                ):
                    raise errors.after_attempts(error, attempt) from None
                log.info(
                    "Kimi API %s (attempt %d of %d): retrying in %.2f s",
                    error.kind,
                    attempt,
                    settings.max_retries + 1,
                    delay,
                )
                await self._sleep(delay)
        for event in assembler.finish():
            yield event
        if assembler.stripper.repeated and learned_repeat(call.prefix):
            self._endpoint_repeats_prefix = True
        yield Completed(self._result(settings, call, assembler, ids, attempt))

    async def _attempt(
        self,
        settings: Settings,
        call: Call,
        ctx: ErrorContext,
        assembler: Assembler,
        deadline: float,
    ) -> AsyncGenerator[StreamEvent, None]:
        """One HTTP request and its stream; every failure leaves as a `ModelRequestError`."""
        sdk = self._checkout(settings)
        response: Any = None
        stream: Any = None
        try:
            response = await self._bounded(
                _open_stream(sdk.client, call), deadline, False, settings
            )
            stream = sse.chunks(response)
            self.open_streams += 1
            while True:
                try:
                    chunk = await self._bounded(
                        stream.__anext__(), deadline, assembler.chunks > 0, settings
                    )
                except StopAsyncIteration:
                    break
                for event in assembler.feed(chunk):
                    yield event
        except ModelRequestError:
            if assembler.finish_reason is None:
                raise
        except Exception as exc:
            if assembler.finish_reason is None:
                raise errors.classify(exc, ctx, started=assembler.chunks > 0) from None
            log.debug("ignored a failure after the end of the answer: %s", type(exc).__name__)
        finally:
            if response is not None:
                self.open_streams -= 1
                try:
                    await stream.aclose()
                    await response.aclose()
                except Exception:
                    log.debug("closing the stream failed", exc_info=True)
            self._checkin(sdk)
        if assembler.finish_reason is None:
            raise errors.broke_off("ended the stream before the answer was complete", ctx)

    async def _bounded(
        self, awaitable: Awaitable[Any], deadline: float, started: bool, settings: Settings
    ) -> Any:
        """Await with the stall timeout and the total deadline (whichever is nearer)."""
        remaining = deadline - asyncio.get_running_loop().time()
        limit = min(self.stall_timeout, remaining)
        if limit <= 0:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise errors.total_timeout(settings.request_timeout_seconds)
        try:
            async with asyncio.timeout(limit):
                return await awaitable
        except TimeoutError:
            if remaining <= self.stall_timeout:
                raise errors.total_timeout(settings.request_timeout_seconds) from None
            raise errors.stall(self.stall_timeout, started) from None

    def _usage(
        self, settings: Settings, call: Call, assembler: Assembler, tool_calls: list[ToolCall]
    ) -> Usage:
        """The endpoint's usage report; counted locally (`estimated`) when it sent none."""
        if assembler.usage is not None or self._counter is None:
            return usage_from(assembler.usage, settings.pricing)
        return estimate_usage(
            call.kwargs["messages"],
            assembler.reply,
            assembler.reasoning,
            self._counter(),
            tool_calls=tool_calls,
            tools=call.kwargs.get("tools"),
            pricing=_own_pricing(settings),
        )

    def _result(
        self,
        settings: Settings,
        call: Call,
        assembler: Assembler,
        ids: tuple[str, str],
        attempts: int,
    ) -> ModelResult:
        request_id, purpose = ids
        reply = assembler.reply
        finish = assembler.finish_reason or "stop"
        tool_calls = assembler.tool_calls(request_id)
        result = ModelResult(
            content=call.prefix + reply if call.continued else reply,
            reasoning=assembler.reasoning,
            tool_calls=tool_calls,
            finish_reason=finish,
            usage=replace(
                self._usage(settings, call, assembler, tool_calls),
                model=settings.model,
                role=settings.role or purpose,
                fallback=settings.fallback_rank > 0,
            ),
            request_id=request_id,
            reply=reply,
            continued=call.continued,
            prefix_repeated=assembler.stripper.repeated,
            attempts=attempts,
            thinking=call.thinking,
        )
        self.totals.add(result.usage)
        if self._on_usage is not None:
            try:
                self._on_usage(result, self.totals)
            except Exception:
                log.exception("the usage callback failed")
        if finish == "content_filter":
            raise errors.content_filtered(started=True)
        if finish == "length" and not reply.strip() and not result.tool_calls:
            raise errors.reasoning_only(call.max_output_tokens)
        return result


async def drain(
    stream: AsyncGenerator[StreamEvent, None], on_event: EventCallback | None
) -> ModelResult | None:
    """Run a stream to its end (closing it on the way out), showing `on_event` every event;
    the `Completed` result, or None when the stream ended without one."""
    result: ModelResult | None = None
    async with aclosing(stream) as events:
        async for event in events:
            if isinstance(event, Completed):
                result = event.result
            if on_event is not None:
                outcome = on_event(event)
                if inspect.isawaitable(outcome):
                    await outcome
    return result


async def _open_stream(client: Any, call: Call) -> Any:
    """POST the call through the SDK (its headers, authentication and error types) and return
    the `httpx2.Response` with its body unread. The SDK's `create` would first walk the whole
    request through its type-driven transform (~1.3 ms a call, a no-op for the plain JSON we
    build); `post` with `cast_to=httpx2.Response` skips it and any parsing of the answer."""
    import httpx2

    body = {key: value for key, value in call.kwargs.items() if key != "extra_body"}
    body.update(call.kwargs.get("extra_body", {}))
    return await client.post("/chat/completions", cast_to=httpx2.Response, body=body, stream=True)


def _own_pricing(settings: Settings) -> Pricing | None:
    """The pricing of the model that answered: its role's or fallback's own `pricing`, the
    top-level one for the top-level model or another Kimi K2.x model, else unknown (None: a
    local model's estimate costs 0 rather than Kimi's price)."""
    entry: RoleOverrides | None
    if settings.fallback_rank:
        entry = settings.fallback[settings.fallback_rank - 1]
    else:
        entry = settings.models.get(settings.role)
    if entry is None:
        return settings.pricing
    if entry.pricing is not None:
        return entry.pricing
    return settings.pricing if is_kimi_model(settings.model) else None


def _env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment, else `default`."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if 0 < value < 86_400 else default
