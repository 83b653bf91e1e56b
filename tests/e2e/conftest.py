"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from .harness import PROFILES


@pytest.fixture(params=sorted(PROFILES))
def profile(request: pytest.FixtureRequest) -> str:
    """Each e2e test runs once with VS Code's and once with Neovim's client capabilities."""
    return str(request.param)
