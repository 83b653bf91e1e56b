"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fake_kimi import FakeKimi

from .harness import PROFILES
from .selfhosted import SETUP, LlamaServer, find_install


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


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A real llama.cpp OpenAI-compatible server (tests/selfhosted/setup.sh installs it), one
    per session: started on first use, ready once it answers /v1/models."""
    install = find_install()
    if install is None:
        message = f"the llama.cpp server is not installed: run {SETUP}"
        if os.environ.get("CI"):
            pytest.fail(message)  # the test command installs it: in CI its absence is a bug
        pytest.skip(message)
    server = LlamaServer(install, tmp_path_factory.mktemp("llama") / "server.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
