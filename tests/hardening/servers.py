"""Shared set-up of the hardening tests: the fake API in a thread and raw servers pointed at it."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.fake_kimi import TEST_KEY, FakeKimi, Reply

from .wire import RawServer

DEFAULT_REPLY = Reply(content="```python\npass\n```", chunks=2)


def settings_for(fake: FakeKimi, **extra: Any) -> dict[str, Any]:
    """Settings that send every model call to the fake, failing fast when it fails."""
    return {
        "baseUrl": fake.base_url,
        "apiKey": TEST_KEY,
        "maxRetries": 0,
        "requestTimeoutSeconds": 20,
        **extra,
    }


@contextmanager
def running_fake() -> Iterator[FakeKimi]:
    with FakeKimi().start_in_thread() as fake:
        fake.set_default(DEFAULT_REPLY)
        yield fake


@contextmanager
def raw_server(fake: FakeKimi, profile: str = "vscode", **settings: Any) -> Iterator[RawServer]:
    server = RawServer(profile)
    try:
        server.initialize(settings_for(fake, **settings))
        yield server
    finally:
        server.close()


class Ids:
    """Unique request ids (numbers and strings), and the ones sent lately (for cancels)."""

    def __init__(self) -> None:
        self._counter = itertools.count(10_000)
        self.sent: list[Any] = []

    def next(self, as_string: bool) -> Any:
        n = next(self._counter)
        msg_id: Any = f"fz-{n}" if as_string else n
        self.sent.append(msg_id)
        return msg_id

    def recent(self, back: int) -> Any:
        return self.sent[-1 - back] if len(self.sent) > back else 1

    def junk(self) -> str:
        return f"junk-{next(self._counter)}"


def run_seed(name: str) -> int:
    """The seed of a randomized run: `name` from the environment; in CI (CI=true) a fixed one,
    so a red CI replays; elsewhere a new one each run, printed on failure to replay it."""
    fixed = 20261129 if os.environ.get("CI", "").lower() in ("1", "true", "yes") else None
    return env_int(name, fixed if fixed is not None else random.randrange(2**32))


def env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default
