"""Fixtures shared by the unit tests (the model client's: a fake Kimi API and client factory)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.fake_kimi` lives at the repository root
    sys.path.insert(0, str(ROOT))

from kimi_lsp.config import Settings  # noqa: E402
from kimi_lsp.model.client import ModelClient  # noqa: E402
from tests.fake_kimi import TEST_KEY, FakeKimi  # noqa: E402


class SleepRecorder:
    """A stand-in for `asyncio.sleep` in retry tests: records the delays, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def model_fake() -> AsyncIterator[FakeKimi]:
    async with FakeKimi() as fake:
        yield fake


@pytest.fixture
def recorded_sleep() -> SleepRecorder:
    return SleepRecorder()


MakeModelClient = Callable[..., ModelClient]


@pytest.fixture
async def make_model_client(
    model_fake: FakeKimi, recorded_sleep: SleepRecorder
) -> AsyncIterator[MakeModelClient]:
    """`make(fake=None, *, sleep=..., stall_timeout=..., on_usage=..., **settings)`: a
    `ModelClient` of the fake (key `TEST_KEY`) with the recorded sleep; closed afterwards."""
    clients: list[ModelClient] = []

    def make(
        fake: FakeKimi | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        client_options: dict[str, Any] | None = None,
        **settings: Any,
    ) -> ModelClient:
        settings.setdefault("api_key", TEST_KEY)
        settings.setdefault("base_url", (fake or model_fake).base_url)
        client = ModelClient(
            Settings(**settings), sleep=sleep or recorded_sleep, **(client_options or {})
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
