"""Fault matrix, fallback column: every fault of the primary's fake API with a fallback configured
(a second fake on its own port, with its own key and model). Expected per protocol.md: an
outage before any content is answered by the fallback (a rate limit once its retries are
spent); everything else is the primary's error, exactly as without a fallback.

The circuit breaker's cool-down is 0 here, so an open circuit is probed again at once and each
cell sees the primary first, as a lone request would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.e2e.harness import open_document, request, session
from tests.fake_kimi import FakeKimi, Reply

from . import matrix
from .faults import CASES, FAST_ENV, KEY, MAX_RETRIES, FaultCase, readable_problems
from .features import SOURCE, responder, write_workspace
from .test_fault_matrix_lsp import closed_port_url, streams_balanced
from .test_fault_matrix_lsp import point_at as point_primary

pytestmark = pytest.mark.asyncio(loop_scope="module")

COLUMN = "kimi/chat + fallback"
SECOND_KEY = "sk-fallback-matrix-0123456789"
SECOND_KEY_ENV = "KIMI_MATRIX_FALLBACK_KEY"
ENV = {
    **FAST_ENV,
    SECOND_KEY_ENV: SECOND_KEY,
    "KIMI_LSP_BREAKER_COOL_DOWN_SECONDS": "0",
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKimi]:
    with FakeKimi().start_in_thread() as handle:
        yield handle


@pytest.fixture(scope="module")
def second() -> Iterator[FakeKimi]:
    with FakeKimi(api_keys=(SECOND_KEY,)).start_in_thread() as handle:
        yield handle


def settings_for(primary_url: str, second: FakeKimi) -> dict[str, Any]:
    entry = {"model": "kimi-k2.5", "baseUrl": second.base_url, "apiKeyEnv": SECOND_KEY_ENV}
    return {"baseUrl": primary_url, "maxRetries": MAX_RETRIES, "fallback": [entry]}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(
    fake: FakeKimi, second: FakeKimi, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    root = write_workspace(tmp_path_factory.mktemp("matrix-fallback") / "proj")
    settings = settings_for(fake.base_url, second)
    async with session(
        "vscode", init_options=settings, env=ENV, root=root, configuration={"kimi": settings}
    ) as lsp:
        uri = (root / "pkg" / "calc.py").as_uri()
        open_document(lsp, uri, SOURCE)
        lsp.matrix_uri = uri  # type: ignore[attr-defined]
        yield lsp


async def point_at(client: Any, base_url: str, second: FakeKimi) -> None:
    """Change the primary's kimi.baseUrl (the fallback stays) and wait until it is in use."""
    await point_primary(client, base_url, settings_for(base_url, second))


def expected(case: FaultCase) -> str:
    if case.fallback_serves():
        return "fallback"
    return case.kind or "ok"


def primary_attempts(case: FaultCase) -> int:
    """Requests the fault causes at the primary: with a fallback in hand only a rate limit is
    retried; any other outage moves on after one attempt."""
    if case.refused:
        return 0
    if case.fallback_serves() and case.fault_kind != "rate_limit":
        return 1
    return case.attempts


async def run_cell(
    client: Any, fake: FakeKimi, second: FakeKimi, case: FaultCase, seen: list[str]
) -> None:
    refused = closed_port_url() if case.refused else None
    if refused:
        await point_at(client, refused, second)
    fake.enqueue(*case.items)
    message = {"message": "What is wrong?", "textDocument": {"uri": client.matrix_uri}}
    error: JsonRpcException | None = None
    result: Any = None
    try:
        result = await asyncio.wait_for(request(client, "kimi/chat", message), 30)
    except JsonRpcException as exc:
        error = exc
    finally:
        if refused:
            await point_at(client, fake.base_url, second)
    await fake.wait_for_idle()
    await second.wait_for_idle()
    assert fake.stats.in_flight == 0 and streams_balanced(fake), fake.stats
    if error is None:
        seen.append("fallback" if result["usage"]["fallback"] else "ok")
    else:
        seen.append(str((error.data or {}).get("kind", f"code {error.code}")))
        assert not readable_problems(error.message, (KEY, SECOND_KEY)), error.message
    assert seen[0] == expected(case), error
    primary_requests = len(fake.chat_requests)
    if case.kind is None and not case.fallback_serves():
        primary_requests -= 1  # the retry that succeeded
    assert primary_requests == primary_attempts(case)
    assert len(second.chat_requests) == (1 if seen[0] == "fallback" else 0)
    for recorded in second.requests:
        assert recorded.headers.get("authorization") == f"Bearer {SECOND_KEY}"
        assert KEY not in json.dumps(recorded.body)
    for recorded in fake.requests:
        assert SECOND_KEY not in json.dumps(dict(recorded.headers))
        assert SECOND_KEY not in json.dumps(recorded.body)
    fake.reset()
    fake.set_default(responder)
    after = await request(client, "kimi/chat", {"message": "still there?"})
    assert after["content"] == "ok" and after["usage"]["fallback"] is False


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fallback_cell(
    client: LanguageClient, fake: FakeKimi, second: FakeKimi, case: FaultCase
) -> None:
    fake.reset()
    fake.set_default(responder)
    second.reset()
    second.set_default(Reply(content="from the fallback"))
    seen: list[str] = []
    passed = False
    try:
        await run_cell(client, fake, second, case, seen)
        passed = True
    finally:
        matrix.record(case.name, COLUMN, passed, seen[0] if seen else "no answer")
