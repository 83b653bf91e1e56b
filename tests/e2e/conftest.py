"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_kimi import FakeKimi

from .harness import PROFILES


@pytest.fixture(params=sorted(PROFILES))
def profile(request: pytest.FixtureRequest) -> str:
    """Each e2e test runs once with VS Code's and once with Neovim's client capabilities."""
    return str(request.param)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKimi]:
    """The fake Kimi API in a thread, shared by a module's tests (reset before each one)."""
    with FakeKimi().start_in_thread() as handle:
        yield handle


@pytest.fixture
def fresh_fake(fake: FakeKimi) -> FakeKimi:
    fake.reset()
    return fake
