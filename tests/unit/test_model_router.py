"""The model router against two fake Kimi APIs (separate ports and keys): roles, the fallback
chain and when it may serve, the circuit breaker, re-budgeting, and who answered."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kimi_lsp.config import Settings
from kimi_lsp.config_roles import RoleOverrides
from kimi_lsp.errors import ErrorKind, RequestFailedError
from kimi_lsp.model.breaker import CircuitBreaker, OffsetClock
from kimi_lsp.model.client import ModelClient
from kimi_lsp.model.router import FallbackNote, ModelRouter, roles_of, rough_tokens
from kimi_lsp.model.types import ContentDelta, ModelRequest, ModelResult, UsageTotals
from tests.fake_kimi import FakeKimi, Fault, Reply

from .conftest import SleepRecorder

PRIMARY_KEY = "sk-primary-0123456789"
FALLBACK_KEY = "sk-fallback-9876543210"
USER = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def primary() -> AsyncIterator[FakeKimi]:
    async with FakeKimi(api_keys=(PRIMARY_KEY,)) as fake:
        yield fake


@pytest.fixture
async def fallback() -> AsyncIterator[FakeKimi]:
    async with FakeKimi(api_keys=(FALLBACK_KEY,)) as fake:
        yield fake


class Harness:
    def __init__(self, primary: FakeKimi, fallback: FakeKimi, sleep: SleepRecorder) -> None:
        self.primary, self.fallback, self.sleep = primary, fallback, sleep
        self.clock = OffsetClock(base=lambda: 0.0)
        self.notes: list[FallbackNote] = []
        self.usage: list[tuple[ModelResult, UsageTotals]] = []
        self.routers: list[ModelRouter] = []

    def settings(self, **extra: Any) -> Settings:
        entry = RoleOverrides(
            model="kimi-k2.5",
            base_url=self.fallback.base_url,
            api_key_env="FALLBACK_KEY",
            api_key=FALLBACK_KEY,
            context_window=extra.pop("fallback_window", None),
        )
        extra.setdefault("fallback", (entry,))
        return Settings(api_key=PRIMARY_KEY, base_url=self.primary.base_url, max_retries=2, **extra)

    def router(self, settings: Settings | None = None) -> ModelRouter:
        def client(s: Settings, **kw: Any) -> ModelClient:
            return ModelClient(s, sleep=self.sleep, **kw)

        router = ModelRouter(
            settings or self.settings(),
            on_usage=lambda r, t: self.usage.append((r, t.copy())),
            on_fallback=self.notes.append,
            breaker=CircuitBreaker(threshold=3, cool_down=30.0, clock=self.clock),
            client_factory=client,
        )
        self.routers.append(router)
        return router


@pytest.fixture
async def h(
    primary: FakeKimi, fallback: FakeKimi, recorded_sleep: SleepRecorder
) -> AsyncIterator[Harness]:
    harness = Harness(primary, fallback, recorded_sleep)
    yield harness
    for router in harness.routers:
        await router.aclose()


def keys_seen(fake: FakeKimi) -> set[str]:
    return {r.headers.get("authorization", "") for r in fake.chat_requests}


# ---------------------------------------------------------------- when the fallback serves


@pytest.mark.parametrize(
    "fault, kind",
    [
        (Fault.overloaded(retry_after=None), ErrorKind.OVERLOADED),
        (Fault.unavailable(), ErrorKind.SERVER),
        (Fault.server_error(), ErrorKind.SERVER),
        (Fault.quota(), ErrorKind.QUOTA),
    ],
    ids=["overloaded", "unavailable", "server", "quota"],
)
async def test_an_outage_before_content_is_served_by_the_fallback(
    h: Harness, fault: Any, kind: ErrorKind
) -> None:
    h.primary.set_default(fault)
    h.fallback.enqueue(Reply(content="from the fallback"))
    result = await h.router().complete(ModelRequest(USER, "chat"))
    assert result.content == "from the fallback"
    assert result.usage.model == "kimi-k2.5" and result.usage.fallback
    assert result.usage.role == "chat"
    assert keys_seen(h.fallback) == {f"Bearer {FALLBACK_KEY}"}
    assert keys_seen(h.primary) == {f"Bearer {PRIMARY_KEY}"}
    assert h.fallback.chat_requests[0].body["model"] == "kimi-k2.5"
    [note] = h.notes
    assert (note.from_model, note.to, note.role) == ("kimi-k2.6", "kimi-k2.5", "chat")
    assert note.kind == str(kind)
    assert "kimi-k2.6" in note.sentence() and "kimi-k2.5 answered" in note.sentence()


async def test_with_a_fallback_an_outage_is_not_retried_but_a_rate_limit_is(h: Harness) -> None:
    h.primary.set_default(Fault.unavailable())
    await h.router().complete(ModelRequest(USER, "chat"))
    assert len(h.primary.chat_requests) == 1 and h.sleep.delays == []
    h.primary.set_default(Fault.rate_limit(retry_after=0.01))
    await h.router().complete(ModelRequest(USER, "chat"))
    assert len(h.primary.chat_requests) == 1 + 3  # maxRetries 2: three attempts, then fallback
    assert len(h.fallback.chat_requests) == 2


@pytest.mark.parametrize(
    "fault, kind",
    [
        (Fault.auth(), ErrorKind.AUTH),
        (Fault.content_filter(), ErrorKind.CONTENT_FILTER),
        (Fault.not_found(), ErrorKind.CONFIG),
    ],
    ids=["auth", "content_filter", "config"],
)
async def test_no_fallback_for_what_another_model_would_not_fix(
    h: Harness, fault: Any, kind: ErrorKind
) -> None:
    h.primary.set_default(fault)
    router = h.router()
    with pytest.raises(RequestFailedError) as caught:
        await router.complete(ModelRequest(USER, "chat"))
    assert caught.value.kind is kind
    assert h.fallback.chat_requests == [] and h.notes == []
    assert router.last_error is not None and router.last_error["kind"] == str(kind)


async def test_an_error_after_content_is_the_error(h: Harness) -> None:
    h.primary.enqueue(Fault.cut(after=2, reply=Reply(content="partial answer here", chunks=6)))
    seen: list[str] = []
    with pytest.raises(RequestFailedError):
        await h.router().complete(
            ModelRequest(USER, "chat"),
            lambda e: seen.append(e.text) if isinstance(e, ContentDelta) else None,
        )
    assert seen and h.fallback.chat_requests == []


async def test_the_last_error_when_every_model_fails(h: Harness) -> None:
    h.primary.set_default(Fault.unavailable())
    h.fallback.set_default(Fault.server_error())
    with pytest.raises(RequestFailedError) as caught:
        await h.router().complete(ModelRequest(USER, "chat"))
    assert caught.value.kind is ErrorKind.SERVER
    assert len(h.primary.chat_requests) == 1  # fail-fast: a fallback was in hand
    assert len(h.fallback.chat_requests) == 3  # the last one retries as usual
    assert h.notes == []


async def test_without_a_fallback_nothing_changes(h: Harness) -> None:
    h.primary.set_default(Fault.unavailable())
    with pytest.raises(RequestFailedError):
        await h.router(h.settings(fallback=())).complete(ModelRequest(USER, "chat"))
    assert len(h.primary.chat_requests) == 3  # retried as before


# ---------------------------------------------------------------- circuit breaker


async def test_the_breaker_skips_the_primary_then_probes_it(h: Harness) -> None:
    router = h.router()
    h.primary.set_default(Fault.unavailable())
    for _ in range(3):
        await router.complete(ModelRequest(USER, "chat"))
    assert len(h.primary.chat_requests) == 3
    result = await router.complete(ModelRequest(USER, "chat"))
    assert result.usage.fallback and len(h.primary.chat_requests) == 3  # skipped
    assert h.notes[-1].kind == "circuit_open"
    h.primary.set_default(Reply(content="back"))
    h.clock.advance(30.0)
    result = await router.complete(ModelRequest(USER, "chat"))  # the probe
    assert result.content == "back" and not result.usage.fallback
    assert len(h.primary.chat_requests) == 4
    await router.complete(ModelRequest(USER, "chat"))
    assert len(h.primary.chat_requests) == 5  # closed again


async def test_every_circuit_open_tries_the_primary_anyway(h: Harness) -> None:
    router = h.router()
    h.primary.set_default(Fault.unavailable())
    h.fallback.set_default(Fault.unavailable())
    for _ in range(3):
        with pytest.raises(RequestFailedError):
            await router.complete(ModelRequest(USER, "chat"))
    before = len(h.primary.chat_requests)
    h.primary.set_default(Reply(content="up"))
    assert (await router.complete(ModelRequest(USER, "chat"))).content == "up"
    assert len(h.primary.chat_requests) == before + 1


# ---------------------------------------------------------------- roles, re-budgeting, usage


async def test_a_role_uses_its_own_endpoint_and_key(h: Harness) -> None:
    edit = RoleOverrides(
        model="kimi-k2.5", base_url=h.fallback.base_url, api_key_env="E", api_key=FALLBACK_KEY
    )
    router = h.router(h.settings(models={"edit": edit}, fallback=()))
    chat = await router.complete(ModelRequest(USER, "chat"))
    edited = await router.complete(ModelRequest(USER, "edit"))
    assert (chat.usage.model, chat.usage.role) == ("kimi-k2.6", "chat")
    assert (edited.usage.model, edited.usage.role, edited.usage.fallback) == (
        "kimi-k2.5",
        "edit",
        False,
    )
    assert keys_seen(h.primary) == {f"Bearer {PRIMARY_KEY}"}
    assert keys_seen(h.fallback) == {f"Bearer {FALLBACK_KEY}"}
    assert roles_of(router.settings)["edit"] == {
        "model": "kimi-k2.5",
        "baseUrl": h.fallback.base_url,
    }
    assert router.totals.requests == 2
    assert [u[1].requests for u in h.usage] == [1, 2]  # session totals across models


async def test_a_smaller_window_replans_the_request(h: Harness) -> None:
    big = [{"role": "user", "content": "x" * 30_000}]
    asked: list[int] = []

    async def replan(settings: Settings) -> list[dict[str, Any]]:
        asked.append(settings.context_window)
        return [{"role": "user", "content": "short"}]

    h.primary.set_default(Fault.unavailable())
    settings = h.settings(fallback_window=8_192, max_output_tokens=1_000)
    router = h.router(settings)
    await router.complete(ModelRequest(big, "chat", replan=replan))
    assert asked == [8_192]
    assert h.fallback.chat_requests[0].body["messages"] == [{"role": "user", "content": "short"}]
    # Without a way to re-plan it, the fallback is skipped and the primary's error stands.
    with pytest.raises(RequestFailedError) as caught:
        await router.complete(ModelRequest(big, "chat"))
    assert caught.value.kind is ErrorKind.SERVER
    assert len(h.fallback.chat_requests) == 1
    # A request that fits goes as it is.
    await router.complete(ModelRequest(USER, "chat", replan=replan))
    assert asked == [8_192] and h.fallback.chat_requests[-1].body["messages"] == USER


def test_rough_tokens_overestimates() -> None:
    assert rough_tokens([{"role": "user", "content": "x" * 300}]) >= 100


async def test_settings_changes_retire_dropped_endpoints(h: Harness) -> None:
    router = h.router()
    h.primary.set_default(Fault.unavailable())
    await router.complete(ModelRequest(USER, "chat"))
    assert len(router._clients) == 2
    router.update_settings(h.settings(fallback=()))
    assert len(router._clients) == 1


async def test_an_endpoint_without_usage_is_counted_locally_and_priced_by_its_role(
    h: Harness, tmp_path: Any
) -> None:
    from kimi_lsp.config import Pricing
    from kimi_lsp.tokens.counter import TokenCounter

    counter = TokenCounter(env={"XDG_CACHE_HOME": str(tmp_path)})
    async with FakeKimi(api_keys=None, dialect="llamacpp") as local:
        local.set_default(Reply(content="a local answer " * 20))
        priced = Pricing(1.0, 0.0, 2.0, "EUR")
        entries = {
            "chat": RoleOverrides(
                model="gemma-3-270m", base_url=local.base_url, api_key_env="L", api_key="local"
            ),
            "edit": RoleOverrides(
                model="gemma-3-270m",
                base_url=local.base_url,
                api_key_env="L",
                api_key="local",
                pricing=priced,
                token_param="max_tokens",
            ),
        }
        settings = h.settings(models=entries, fallback=())
        router = ModelRouter(settings, counter=lambda: counter)
        try:
            chat = await router.complete(ModelRequest(USER, "chat"))
            edit = await router.complete(ModelRequest(USER, "edit"))
        finally:
            await router.aclose()
    assert chat.usage.estimated and chat.usage.model == "gemma-3-270m"
    assert chat.usage.prompt_tokens > 0 and chat.usage.completion_tokens > 0
    assert chat.usage.cost == 0.0  # a local model's price is unknown unless its role sets one
    assert edit.usage.estimated and edit.usage.currency == "EUR" and edit.usage.cost > 0
    assert router.totals.requests == 2


async def test_a_moonshot_fallback_without_a_key_is_skipped_and_the_primary_error_stands(
    h: Harness,
) -> None:
    keyless = RoleOverrides(model="kimi-k2.5", base_url="https://api.moonshot.cn/v1")
    router = h.router(h.settings(fallback=(keyless,)))
    fallback = router.settings.fallback_chain("chat")[0]
    assert fallback.api_key is None and not fallback.keyless
    h.primary.set_default(Fault.unavailable())
    with pytest.raises(RequestFailedError) as caught:
        await router.complete(ModelRequest(USER, "chat"))
    assert caught.value.kind is ErrorKind.SERVER  # no request to moonshot.cn was attempted


async def test_a_self_hosted_fallback_without_a_key_is_tried_without_one(h: Harness) -> None:
    """No apiKeyEnv on another endpoint: the top-level key never goes there, and neither does
    OPENAI_API_KEY (the SDK's own default): the request carries only a placeholder."""
    keyless = RoleOverrides(model="kimi-k2.5", base_url=h.fallback.base_url)
    router = h.router(h.settings(fallback=(keyless,)))
    assert router.settings.fallback_chain("chat")[0].keyless
    h.primary.set_default(Fault.unavailable())
    h.fallback.config.api_keys = None  # a self-hosted server without --api-key
    os.environ["OPENAI_API_KEY"] = "sk-openai-must-not-leak-0123456789"
    try:
        result = await router.complete(ModelRequest(USER, "chat"))
    finally:
        del os.environ["OPENAI_API_KEY"]
    assert result.usage.fallback and result.usage.model == "kimi-k2.5"
    sent = [r.headers.get("authorization") for r in h.fallback.requests]
    assert sent and all(a == "Bearer no-key" for a in sent)


async def test_a_cancelled_request_does_not_fall_back(h: Harness) -> None:
    import asyncio

    h.primary.enqueue(Fault.stall(after=0))
    router = h.router()
    task = asyncio.ensure_future(router.complete(ModelRequest(USER, "chat")))
    await h.primary.wait_for(lambda: len(h.primary.chat_requests) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert h.fallback.requests == [] and h.notes == []
    after = await router.complete(ModelRequest(USER, "chat"))  # the primary, as before
    assert after.content == "ok" and not after.usage.fallback


def test_a_sum_of_calls_says_who_answered() -> None:
    from kimi_lsp.model.types import Usage

    step = UsageTotals()
    step.add(Usage(10, 0, 5, 0.1, model="kimi-k2.6", role="refactor"))
    step.add(Usage(20, 0, 5, 0.2, model="kimi-k2.5", role="refactor", fallback=True))
    total = UsageTotals()
    total.merge(step)
    total.merge(UsageTotals())
    wire = total.answer_wire()
    assert (wire["requests"], wire["promptTokens"]) == (2, 30)
    assert (wire["model"], wire["role"], wire["fallback"], wire["estimated"]) == (
        "kimi-k2.5",
        "refactor",
        True,
        False,
    )
    assert "model" not in total.to_wire()  # session totals stay as they were
    assert "model" not in UsageTotals().answer_wire()
