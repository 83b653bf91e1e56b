"""The model client's parts on their own: pricing, retry policy, fair limiter, prefix stripper,
call parameters, and the mapping of HTTP errors to kinds and sentences."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kimi_lsp.config import Pricing, Settings
from kimi_lsp.errors import ErrorKind
from kimi_lsp.model import errors as model_errors
from kimi_lsp.model.errors import ErrorContext, from_status, scrub
from kimi_lsp.model.estimate import estimate_usage
from kimi_lsp.model.limiter import FairLimiter
from kimi_lsp.model.params import FORBIDDEN, build_call, thinking_enabled
from kimi_lsp.model.prefix import PrefixStripper, should_detect
from kimi_lsp.model.pricing import cost, usage_from
from kimi_lsp.model.retry import RetryPolicy, parse_retry_after
from kimi_lsp.model.types import ModelRequest, ToolCall, Usage, UsageTotals
from kimi_lsp.tokens.counter import TokenCounter

HANG_GUARD = 30  # seconds: fails only a hung test, never what a test waits for

KEY = "sk-unit-0123456789abcdefghijklmnop"
CTX = ErrorContext("https://api.moonshot.ai/v1", "kimi-k2.6", KEY, 32768)


# ---------------------------------------------------------------- pricing


def test_cost_charges_cached_tokens_at_the_cache_hit_price() -> None:
    pricing = Pricing(input_per_million=1.0, cached_input_per_million=0.1, output_per_million=4.0)
    # 600k uncached, 400k cached, 250k out
    assert cost(1_000_000, 400_000, 250_000, pricing) == pytest.approx(0.6 + 0.04 + 1.0)
    assert cost(100, 500, 0, pricing) == pytest.approx(100 * 0.1 / 1e6)  # cached capped


def test_usage_reads_cached_tokens_from_either_place() -> None:
    pricing = Pricing()
    moonshot = usage_from(
        {"prompt_tokens": 1000, "completion_tokens": 10, "cached_tokens": 512}, pricing
    )
    openai_style = usage_from(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 256},
        },
        pricing,
    )
    assert (moonshot.cached_tokens, openai_style.cached_tokens) == (512, 256)
    assert usage_from(None, pricing) == Usage(currency="USD")
    expected = (488 * 0.95 + 512 * 0.16 + 10 * 4.0) / 1e6
    assert moonshot.cost == pytest.approx(expected)


def test_usage_wire_shapes() -> None:
    usage = Usage(10, 4, 3, 0.5, "CNY")
    assert usage.to_wire() == {
        "promptTokens": 10,
        "cachedTokens": 4,
        "completionTokens": 3,
        "cost": 0.5,
        "currency": "CNY",
    }
    totals = UsageTotals()
    totals.add(usage)
    totals.add(usage)
    assert totals.to_wire() == {
        "requests": 2,
        "promptTokens": 20,
        "cachedTokens": 8,
        "completionTokens": 6,
        "cost": 1.0,
        "currency": "CNY",
    }


# ---------------------------------------------------------------- retry policy


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    top = RetryPolicy(base=0.5, cap=20.0, jitter=lambda: 0.999999)
    assert [round(top.delay(n), 3) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0]
    bottom = RetryPolicy(jitter=lambda: 0.0)
    assert bottom.delay(3) == 0.0
    assert bottom.delay(3, retry_after=2.5) == 2.5  # Retry-After is a floor
    assert top.delay(0, retry_after=0.1) == pytest.approx(0.5, abs=1e-3)


def test_retry_after_parsing() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    date = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000.0) == pytest.approx(30.0)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    assert parse_retry_after({}) is None


# ---------------------------------------------------------------- limiter


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_limiter_is_fifo_and_hands_slots_over() -> None:
    limiter = FairLimiter(1)
    order: list[str] = []
    await limiter.acquire()

    async def worker(name: str) -> None:
        async with limiter.slot():
            order.append(name)

    tasks = []
    for name in "abcd":
        tasks.append(asyncio.create_task(worker(name)))
        await _settle()
    assert limiter.queued == 4
    limiter.release()
    await asyncio.gather(*tasks)
    assert order == list("abcd")
    assert (limiter.in_use, limiter.queued) == (0, 0)


async def test_limiter_cancelled_waiter_leaves_the_queue() -> None:
    limiter = FairLimiter(1)
    await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(3)]
    await _settle()
    waiters[1].cancel()
    await _settle()
    assert limiter.queued == 2
    limiter.release()
    await waiters[0]
    limiter.release()
    await waiters[2]
    limiter.release()
    assert (limiter.in_use, limiter.queued) == (0, 0)


async def test_limiter_granted_then_cancelled_passes_the_slot_on() -> None:
    limiter = FairLimiter(1)
    await limiter.acquire()
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await _settle()
    limiter.release()  # granted to `first`, which is cancelled before it runs
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, HANG_GUARD)
    assert limiter.in_use == 1
    limiter.release()


async def test_limiter_resize() -> None:
    limiter = FairLimiter(1)
    await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(2)]
    await _settle()
    limiter.resize(3)
    await asyncio.wait_for(asyncio.gather(*waiters), HANG_GUARD)
    assert limiter.in_use == 3
    limiter.resize(1)
    limiter.release()
    limiter.release()
    third = asyncio.create_task(limiter.acquire())
    await _settle()
    assert not third.done()  # 1 in use, limit 1
    limiter.release()
    await asyncio.wait_for(third, HANG_GUARD)
    with pytest.raises(ValueError):
        limiter.resize(0)


# ---------------------------------------------------------------- prefix stripper


def _run_stripper(prefix: str, parts: list[str]) -> tuple[str, bool]:
    stripper = PrefixStripper(prefix)
    out = "".join(stripper.feed(p) for p in parts) + stripper.flush()
    return out, stripper.repeated


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


@given(
    prefix=st.text(min_size=1, max_size=12),
    reply=st.text(max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=6),
    repeat=st.booleans(),
)
def test_stripper_removes_exactly_a_repeated_prefix(
    prefix: str, reply: str, cuts: list[int], repeat: bool
) -> None:
    sent = prefix + reply if repeat else reply
    out, repeated = _run_stripper(prefix, _split(sent, cuts))
    if sent.startswith(prefix):
        assert (out, repeated) == (sent[len(prefix) :], True)
    else:
        assert (out, repeated) == (sent, False)


def test_stripper_streams_as_soon_as_the_reply_diverges() -> None:
    stripper = PrefixStripper("def main():\n")
    assert stripper.feed("def ") == ""  # could still be the prefix
    assert stripper.feed("x") == "def x"  # diverged: released unchanged
    assert stripper.feed("y") == "y"
    repeat = PrefixStripper("abc")
    assert [repeat.feed(p) for p in ("a", "bcd", "e")] == ["", "d", "e"]
    assert repeat.repeated


def test_short_prefixes_are_only_stripped_once_the_endpoint_repeats() -> None:
    assert should_detect("def handler(event):\n    ", False)
    assert not should_detect("    ", False)
    assert should_detect("    ", True)
    assert not should_detect("", True)


# ---------------------------------------------------------------- call parameters


@pytest.mark.parametrize(
    ("setting", "purpose", "expected"),
    [
        ("auto", "chat", True),
        ("auto", "refactor", True),
        ("auto", "edit", False),
        ("auto", "continuation", False),
        ("enabled", "edit", True),
        ("disabled", "chat", False),
    ],
)
def test_thinking_per_setting_and_purpose(setting: str, purpose: str, expected: bool) -> None:
    assert thinking_enabled(setting, purpose, continued=False, tool_choice=None) is expected  # type: ignore[arg-type]
    assert thinking_enabled(setting, purpose, continued=True, tool_choice=None) is False  # type: ignore[arg-type]
    assert thinking_enabled(setting, purpose, continued=False, tool_choice="required") is False  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["partial", "prefix", "none"])
def test_continuation_shapes(mode: str) -> None:
    messages = [{"role": "user", "content": "go on"}]
    settings = Settings(api_key=KEY, prefix_mode=mode, thinking="enabled")  # type: ignore[arg-type]
    call = build_call(settings, ModelRequest(messages, "edit", prefix="x = ", max_output_tokens=99))
    sent = call.kwargs["messages"]
    assert messages == [{"role": "user", "content": "go on"}]  # the caller's list is untouched
    assert call.kwargs["max_completion_tokens"] == 99
    assert not set(FORBIDDEN) & set(call.kwargs) and not set(FORBIDDEN) & set(
        call.kwargs["extra_body"]
    )
    if mode == "partial":
        assert sent[-1] == {"role": "assistant", "content": "x = ", "partial": True}
        assert "prefix" not in call.kwargs["extra_body"]
    elif mode == "prefix":
        assert sent[-1] == {"role": "assistant", "content": "x = ", "prefix": True}
        assert call.kwargs["extra_body"]["prefix"] is True
    else:
        assert sent == messages and not call.continued and call.prefix == ""
    expected = "disabled" if mode != "none" else "enabled"
    assert call.kwargs["extra_body"]["thinking"] == {"type": expected}


# ---------------------------------------------------------------- HTTP errors


@pytest.mark.parametrize(
    ("status", "error_type", "message", "kind", "phrase", "retryable"),
    [
        (401, "invalid_authentication_error", "Invalid Authentication", ErrorKind.AUTH,
         "api.moonshot.ai and api.moonshot.cn are not interchangeable", False),
        (401, "incorrect_api_key_error", "bad key", ErrorKind.AUTH, "kimi.baseUrl", False),
        (403, "permission_denied_error", "denied", ErrorKind.AUTH, "kimi-k2.6", False),
        (404, "resource_not_found_error", "Not found the model", ErrorKind.CONFIG,
         "https://api.moonshot.ai/v1", False),
        (429, "exceeded_current_quota_error", "insufficient balance", ErrorKind.QUOTA,
         "recharge at platform.moonshot.ai", False),
        (429, "rate_limit_reached_error", "max RPM: 3", ErrorKind.RATE_LIMIT,
         "kimi.maxConcurrentRequests", True),
        (429, "engine_overloaded_error", "overloaded", ErrorKind.OVERLOADED, "overloaded", True),
        (400, "content_filter", "high risk", ErrorKind.CONTENT_FILTER, "content filter", False),
        (400, "invalid_request_error", "Your request exceeded model token limit : 262144",
         ErrorKind.CONTEXT_OVERFLOW, "context window", False),
        (400, "invalid_request_error", "Input token length too long", ErrorKind.CONTEXT_OVERFLOW,
         "kimi.maxOutputTokens", False),
        (400, "invalid_request_error", "invalid temperature", ErrorKind.BAD_RESPONSE,
         "refused the request", False),
        (500, "server_error", "boom", ErrorKind.SERVER, "server error", True),
        (503, None, "<html><body>Service Unavailable</body></html>", ErrorKind.SERVER,
         "Service Unavailable", True),
    ],
)  # fmt: skip
def test_status_mapping(
    status: int,
    error_type: str | None,
    message: str,
    kind: ErrorKind,
    phrase: str,
    retryable: bool,
) -> None:
    body: object = {"message": message, "type": error_type} if error_type else message
    error = from_status(status, body, {"retry-after": "3"}, CTX)
    assert error.kind is kind
    assert phrase in error.message
    assert error.retryable is retryable
    assert error.retry_after == 3.0
    assert error.message.endswith(".")
    assert "<html>" not in error.message


def test_quota_is_recognised_by_its_text_on_relays() -> None:
    error = from_status(429, {"message": "You exceeded your current quota", "type": "x"}, {}, CTX)
    assert error.kind is ErrorKind.QUOTA and not error.retryable


def test_continuation_refusal_names_prefix_mode() -> None:
    ctx = ErrorContext("https://relay.example/v1", "kimi-k2.6", KEY, 100, continued=True)
    body = {
        "message": "Invalid request: unsupported field(s): prefix",
        "type": "invalid_request_error",
    }
    error = from_status(400, body, {}, ctx)
    assert error.kind is ErrorKind.CONFIG and "kimi.prefixMode" in error.message


def test_key_is_scrubbed_from_upstream_text() -> None:
    body = {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error"}
    error = from_status(400, body, {}, CTX)
    assert KEY not in error.message and "[REDACTED]" in error.message
    assert KEY[:20] not in scrub(f"Bearer {KEY} and {KEY[:-3]}", None)
    missing = model_errors.missing_key()
    assert missing.kind is ErrorKind.CONFIG
    assert missing.message.startswith(
        "Kimi API key missing: set MOONSHOT_API_KEY or the kimi.apiKey setting"
    )


# ---------------------------------------------------------------- usage counted locally


def test_estimated_usage_counts_prompt_and_answer_with_the_counter(tmp_path: Path) -> None:
    counter = TokenCounter(env={"XDG_CACHE_HOME": str(tmp_path)})  # not loaded: the estimate
    messages = [{"role": "user", "content": "x" * 300}]
    short = estimate_usage(messages, "", "", counter)
    long = estimate_usage(messages, "y" * 600, "z" * 300, counter)
    assert short.estimated and long.estimated
    assert short.prompt_tokens == long.prompt_tokens == counter.count_messages(messages) > 0
    assert long.completion_tokens == counter.count("y" * 600) + counter.count("z" * 300) > 0
    assert (short.completion_tokens, short.cost, long.cached_tokens) == (0, 0.0, 0)
    with_tools = estimate_usage(
        messages,
        "",
        "",
        counter,
        tool_calls=[ToolCall("c1", "read_file", '{"path": "' + "p" * 90 + '"}')],
        tools=[{"type": "function", "function": {"name": "read_file", "description": "d" * 90}}],
        pricing=Pricing(1.0, 0.5, 2.0, "EUR"),
    )
    assert with_tools.prompt_tokens > short.prompt_tokens and with_tools.completion_tokens > 0
    expected = (with_tools.prompt_tokens * 1.0 + with_tools.completion_tokens * 2.0) / 1e6
    assert with_tools.cost == pytest.approx(expected) and with_tools.currency == "EUR"
