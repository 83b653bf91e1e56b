"""Fault matrix, editor side: every fault of the fake API × every request and command.

One server for the module (cells run one after another and leave no state behind, which is
what each cell checks); each cell records its outcome for the grid of `matrix.py`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.e2e.harness import open_document, request, session
from tests.fake_kimi import FakeKimi

from . import matrix
from .faults import CASES, FAST_ENV, MAX_RETRIES, FaultCase, kind_of, readable_problems
from .features import FEATURES, SOURCE, Feature, responder, write_workspace

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKimi]:
    with FakeKimi().start_in_thread() as handle:
        yield handle


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(fake: FakeKimi, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    root = write_workspace(tmp_path_factory.mktemp("matrix") / "proj")
    settings = {"baseUrl": fake.base_url, "maxRetries": MAX_RETRIES}
    async with session(
        "vscode", init_options=settings, env=FAST_ENV, root=root, configuration={"kimi": settings}
    ) as lsp:
        uri = (root / "pkg" / "calc.py").as_uri()
        open_document(lsp, uri, SOURCE)
        lsp.matrix_uri = uri  # type: ignore[attr-defined]
        lsp.matrix_settings = settings  # type: ignore[attr-defined]
        yield lsp


def closed_port_url() -> str:
    """A local URL nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def point_at(client: Any, base_url: str, settings: dict[str, Any] | None = None) -> None:
    """Change kimi.baseUrl the way an editor does (with `settings` as the rest, else the
    session's own), and wait until the server uses it."""
    settings = {**(client.matrix_settings if settings is None else settings), "baseUrl": base_url}
    client.set_configuration({"kimi": settings})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kimi": settings})
    )
    for _ in range(200):  # each turn is a round trip to the server, not a sleep
        if (await request(client, "kimi/status", None))["baseUrl"] == base_url:
            return
    raise AssertionError(f"the server never switched to {base_url}")


def streams_balanced(fake: FakeKimi) -> bool:
    """Every stream the fake opened has ended, one way or another."""
    stats = fake.stats
    ended_by_fake = sum(
        1 for r in fake.chat_requests if r.stream and r.outcome in ("cut", "stream_error")
    )
    opened = stats.streams_opened
    return opened == stats.streams_completed + stats.streams_client_closed + ended_by_fake


async def run_cell(
    client: Any, fake: FakeKimi, case: FaultCase, feature: Feature, seen: list[str]
) -> None:
    """Run one cell; `seen` gets the observed kind ("ok" for a success) before any check."""
    uri = client.matrix_uri
    refused = closed_port_url() if case.refused else None
    if refused:
        await point_at(client, refused)
    fake.enqueue(*case.items)
    error: JsonRpcException | None = None
    try:
        result = await asyncio.wait_for(feature.call(client, uri), 30)
    except JsonRpcException as exc:
        error = exc
    finally:
        if refused:
            await point_at(client, fake.base_url)
    await fake.wait_for_idle()
    assert fake.stats.in_flight == 0 and streams_balanced(fake), fake.stats
    requests = fake.chat_requests
    if case.kind is None:
        assert error is None, f"{error}"
        assert result is not None
        assert len(requests) == case.attempts + feature.model_calls
        assert requests[0].status != 200 or requests[0].outcome == "cut"
        seen.append("ok")
    else:
        assert error is not None, "the call succeeded"
        data = error.data or {}
        observed = str(data.get("kind", f"code {error.code}"))
        seen.append(observed)
        assert (error.code, observed) == (-32803, case.kind), error.message
        assert not readable_problems(error.message), (readable_problems(error.message), error)
        assert kind_of(error.message) == case.kind, error.message
        assert len(requests) == case.attempts
        assert client.applied == []
        if case.stalls:
            assert requests[0].outcome == "client_disconnected"
    await no_pending_state(client)
    fake.reset()
    after = await request(client, "kimi/chat", {"message": "still there?"})
    assert after["content"] == "ok"


async def no_pending_state(client: Any) -> None:
    """No proposal of the failed call can be accepted, and every progress bar ended."""
    for edit_id in {p["editId"] for p in client.kimi.of("kimi/editPreview")}:
        accepted = await request(client, "kimi/acceptEdit", {"editId": edit_id})
        if client.applied:  # the call succeeded: its proposal was accepted already
            continue
        assert accepted["applied"] is False and "no longer pending" in accepted["reason"]
    for token, reports in client.progress_reports.items():
        # A bar the client acknowledged after the call ended is never begun: nothing to end.
        if str(token).startswith("kimi-") and reports:
            assert reports[-1].kind == "end", (token, reports)


@pytest.mark.parametrize("feature", FEATURES, ids=[f.name for f in FEATURES])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fault_cell(
    client: LanguageClient, fake: FakeKimi, case: FaultCase, feature: Feature
) -> None:
    fake.reset()
    fake.set_default(responder)
    client.applied.clear()  # type: ignore[attr-defined]
    client.kimi.received.clear()  # type: ignore[attr-defined]
    client.progress_reports.clear()
    seen: list[str] = []
    passed = False
    try:
        await run_cell(client, fake, case, feature, seen)
        passed = True
    finally:
        matrix.record(case.name, feature.name, passed, seen[0] if seen else "no answer")
