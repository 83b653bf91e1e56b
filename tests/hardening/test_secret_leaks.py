"""Regressions of the secrets audit: each leak it found, on its own."""

from __future__ import annotations

import json
from pathlib import Path

from kimi_lsp.cli.doctor import check_endpoint
from kimi_lsp.config import Settings
from kimi_lsp.model.errors import ErrorContext, from_status
from tests.e2e.harness import request, session
from tests.fake_kimi import FakeKimi

from . import secret_values as sv
from .test_secrets_audit import echo_url, responder, workspace

__all__ = ["echo_url"]  # the fixture, shared with the audit

KEY = sv.api_key()


async def test_refactor_plan_request_redacts_the_repo_map(tmp_path: Path) -> None:
    """The planning request's repository map (symbol outlines with their values) was sent
    unredacted: a module's `AWS_ACCESS_KEY_ID = "AKIA…"` reached the API."""
    root = workspace(tmp_path / "proj")
    disk = (root / "pkg" / "settings.py").read_text()
    values = [line.split('"')[1] for line in disk.splitlines() if line.startswith("AWS_")]
    async with FakeKimi(api_keys=None) as fake:
        fake.set_default(responder)
        options = {"baseUrl": fake.base_url, "maxRetries": 0, "apiKey": KEY}
        async with session("neovim", init_options=options, root=root) as client:
            # A first context request builds the deep index, whose outlines feed the map.
            uri = (root / "pkg" / "settings.py").as_uri()
            params = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
            await request(client, "kimi/context", params)
            await request(client, "kimi/refactor", {"instruction": "annotate", "mode": "preview"})
        plan = fake.chat_requests[0].raw_body.decode()
    assert "# Context" in json.loads(plan)["messages"][1]["content"]
    assert values and all(v not in plan for v in values)


def test_api_error_echoing_a_secret_is_scrubbed() -> None:
    """An endpoint echoing part of a request (a token) in its 400 message: not shown."""
    token = sv.strings()["github"]
    body = {"error": {"type": "invalid_request_error", "message": f"bad input near {token}"}}
    error = from_status(400, body, {}, ErrorContext("http://x/v1", "kimi-k2.6", KEY))
    assert token not in error.message and "[REDACTED" in error.message


def test_doctor_does_not_print_an_error_body_echoing_the_key(echo_url: str) -> None:
    ok, message = check_endpoint(Settings(api_key=KEY, base_url=echo_url), timeout=10)
    assert not ok and "403" in message
    assert KEY not in message and KEY[-20:] not in message
