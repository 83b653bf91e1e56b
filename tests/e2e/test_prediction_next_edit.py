"""End-to-end next-edit suggestions: kimi/nextEdit from the edits the server saw."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from tests.fake_kimi import FakeKimi, Fault, Reply

from .harness import change, git_workspace, open_document, request, session

KEY = "sk-test-fake"
ENV = {"MOONSHOT_API_KEY": KEY}
URI = "file:///tmp/kimi-e2e-next/geometry.py"
SOURCE = (
    "def area(w, h):\n"
    "    if w < 0:\n"
    "        raise ValueError(w)\n"
    "    return w * h\n"
    "\n"
    "\n"
    "print(area(2, 3))\n"
)
PREFIX = "<|region 1|>\n"
REGION = re.compile(r"<\|region (\d+)\|>\n(.*?)<\|/region \1\|>\n", re.DOTALL)
TOKEN = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa98"


@pytest.fixture(autouse=True)
def fresh(fresh_fake: FakeKimi) -> None:
    """Every test starts with an empty script and no records."""


def options(fake: FakeKimi, **prediction: Any) -> dict[str, Any]:
    opts: dict[str, Any] = {"baseUrl": fake.base_url, "maxRetries": 0}
    if prediction:
        opts["prediction"] = prediction
    return opts


def rewrite(body: dict[str, Any], edit: Callable[[str], str]) -> str:
    """The answer a model gives: every region of the last user message rewritten by `edit`,
    continuing the prefix (partial mode: the answer starts after "<|region 1|>\\n")."""
    user = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    parts = []
    for k, text in REGION.findall(user):
        parts.append(f"<|region {k}|>\n{edit(text.replace('<|cursor|>', ''))}<|/region {k}|>\n")
    return "".join(parts).removeprefix(PREFIX)


def rename_w(text: str) -> str:
    return re.sub(r"\bw\b", "width", text)


def renamer(body: dict[str, Any]) -> Reply:
    return Reply(content=rewrite(body, rename_w))


async def rename_parameter(client: Any) -> int:
    """Rename `w` to `width` on the first line as a user does: select it, type the new name
    keystroke by keystroke. Returns the document's version."""
    open_document(client, URI, SOURCE)
    change(client, URI, 2, (0, 9), (0, 10), "w")
    version = 2
    for i, ch in enumerate("idth"):
        version += 1
        change(client, URI, version, (0, 10 + i), (0, 10 + i), ch)
    return version


def next_edit(version: int, line: int = 0, character: int = 14) -> dict[str, Any]:
    return {
        "textDocument": {"uri": URI, "version": version},
        "position": {"line": line, "character": character},
    }


def spans(result: dict[str, Any]) -> list[tuple[int, int, int, int, str]]:
    return [
        (
            e["range"]["start"]["line"], e["range"]["start"]["character"],
            e["range"]["end"]["line"], e["range"]["end"]["character"], e["text"],
        )
        for e in result["edits"]
    ]  # fmt: skip


OTHER_USES = [
    (1, 7, 1, 8, "width"),
    (2, 25, 2, 26, "width"),
    (3, 11, 3, 12, "width"),
]


async def test_rename_on_the_first_line_suggests_the_other_uses(
    fake: FakeKimi, profile: str
) -> None:
    fake.enqueue(renamer)
    async with session(profile, init_options=options(fake), env=ENV) as client:
        version = await rename_parameter(client)
        result = await request(client, "kimi/nextEdit", next_edit(version))
        assert spans(result) == OTHER_USES
        assert len({e["id"] for e in result["edits"]}) == 3
        assert all(e["textDocument"] == {"uri": URI, "version": version} for e in result["edits"])
        status = await request(client, "kimi/status", None)
        assert status["prediction"]["made"] == 1 and status["prediction"]["shown"] == 1
    [sent] = fake.chat_requests
    body = sent.body
    assert body["thinking"] == {"type": "disabled"}
    assert body["messages"][-1] == {"role": "assistant", "content": PREFIX, "partial": True}
    user = body["messages"][-2]["content"]
    # The edit's old and new text are in the prompt, not only the current document.
    assert "- def area(w, h):\n+ def area(width, h):" in user
    assert "def area(width<|cursor|>, h):" in user
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    assert 0 < limit < 1000


async def test_far_uses_are_sent_as_more_regions(fake: FakeKimi) -> None:
    fake.enqueue(renamer)
    far = SOURCE + "".join(f"x{i} = {i}\n" for i in range(80)) + "scale = w * 2\n"
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, far)
        change(client, URI, 2, (0, 9), (0, 10), "width")
        result = await request(client, "kimi/nextEdit", next_edit(2))
        # `w` on line 88 is no longer a parameter: the model renamed it all the same, and
        # it is outside region 1, so it came from region 2.
        assert spans(result) == [*OTHER_USES, (87, 8, 87, 9, "width")]
    user = fake.chat_requests[-1].body["messages"][-2]["content"]
    assert "<|region 2|>\nx78 = 78\n" in user and "scale = w * 2\n<|/region 2|>" in user


async def test_stale_version_answers_empty_without_a_call(fake: FakeKimi) -> None:
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        version = await rename_parameter(client)
        assert await request(client, "kimi/nextEdit", next_edit(version - 1)) == {"edits": []}
    assert fake.chat_requests == []


async def test_version_moving_while_the_model_answers_gives_nothing(fake: FakeKimi) -> None:
    gate = f"next-{uuid.uuid4().hex}"
    fake.enqueue(lambda body: Reply(content=rewrite(body, rename_w), gate=gate))
    async with session("neovim", init_options=options(fake), env=ENV) as client:
        version = await rename_parameter(client)
        call = asyncio.ensure_future(request(client, "kimi/nextEdit", next_edit(version)))
        await fake.wait_for_in_flight(1)
        change(client, URI, version + 1, (6, 0), (6, 0), "# ")
        assert await request(client, "kimi/status", None)  # the didChange was handled
        fake.open_gate(gate)
        assert await call == {"edits": []}


async def test_rejected_edit_is_not_suggested_again(fake: FakeKimi) -> None:
    fake.enqueue(renamer, renamer)
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        version = await rename_parameter(client)
        first = await request(client, "kimi/nextEdit", next_edit(version))
        assert spans(first) == OTHER_USES
        rejected, ignored = first["edits"][0]["id"], first["edits"][1]["id"]
        client.protocol.notify("kimi/nextEditOutcome", {"id": rejected, "outcome": "rejected"})
        client.protocol.notify("kimi/nextEditOutcome", {"id": ignored, "outcome": "ignored"})
        client.protocol.notify("kimi/nextEditOutcome", {"id": "nope", "outcome": "accepted"})
        second = await request(client, "kimi/nextEdit", next_edit(version))
        assert spans(second) == OTHER_USES[1:]
        status = (await request(client, "kimi/status", None))["prediction"]
        assert (status["rejected"], status["ignored"], status["accepted"]) == (1, 1, 0)
        assert status["made"] == 2


async def test_next_edits_off_make_no_call(fake: FakeKimi) -> None:
    opts = options(fake, nextEdit=False)
    async with session("vscode", init_options=opts, env=ENV) as client:
        version = await rename_parameter(client)
        assert await request(client, "kimi/nextEdit", next_edit(version)) == {"edits": []}
    async with session("vscode", init_options=options(fake, enabled=False), env=ENV) as client:
        version = await rename_parameter(client)
        assert await request(client, "kimi/nextEdit", next_edit(version)) == {"edits": []}
    assert fake.chat_requests == []


async def test_spend_cap_makes_no_call(fake: FakeKimi) -> None:
    async with session("vscode", init_options=options(fake, maxCostPerHour=0), env=ENV) as client:
        version = await rename_parameter(client)
        assert await request(client, "kimi/nextEdit", next_edit(version)) == {"edits": []}
        status = await request(client, "kimi/status", None)
        assert status["prediction"]["capped"] == 1
    assert fake.chat_requests == []


async def test_api_failure_answers_empty_and_the_server_keeps_serving(fake: FakeKimi) -> None:
    fake.enqueue(Fault.server_error(), renamer)
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        version = await rename_parameter(client)
        assert await request(client, "kimi/nextEdit", next_edit(version)) == {"edits": []}
        again = await request(client, "kimi/nextEdit", next_edit(version))
        assert spans(again) == OTHER_USES


async def test_newer_request_answers_the_older_empty_and_closes_its_stream(
    fake: FakeKimi,
) -> None:
    gate = f"held-{uuid.uuid4().hex}"
    fake.enqueue(Reply(content="<|/region 1|>\n", gate=gate), renamer)
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        version = await rename_parameter(client)
        older = asyncio.ensure_future(request(client, "kimi/nextEdit", next_edit(version)))
        await fake.wait_for_in_flight(1)
        newer = await request(client, "kimi/nextEdit", next_edit(version))
        assert await older == {"edits": []}
        assert spans(newer) == OTHER_USES
        await fake.wait_for_disconnect()
        status = await request(client, "kimi/status", None)
        assert status["prediction"]["superseded"] == 1
        fake.open_gate(gate)


async def test_secrets_typed_into_the_history_are_redacted(fake: FakeKimi) -> None:
    fake.enqueue(lambda body: Reply(content=rewrite(body, lambda text: text)))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        change(client, URI, 2, (4, 0), (4, 0), f'TOKEN = "{TOKEN}"')
        result = await request(client, "kimi/nextEdit", next_edit(2, 4, 10))
        assert result == {"edits": []}
    [sent] = fake.chat_requests
    raw = json.dumps(sent.body)
    assert TOKEN not in raw and TOKEN[4:20] not in raw and TOKEN[-12:] not in raw
    assert "[REDACTED:github-token]" in sent.body["messages"][-2]["content"]
    assert "+ TOKEN = " in sent.body["messages"][-2]["content"]


async def test_unknown_document_and_malformed_params_are_invalid(fake: FakeKimi) -> None:
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        with pytest.raises(JsonRpcException, match="not open"):
            await request(client, "kimi/nextEdit", next_edit(1))
        open_document(client, URI, SOURCE)
        with pytest.raises(JsonRpcException, match="position"):
            await request(client, "kimi/nextEdit", {"textDocument": {"uri": URI, "version": 1}})
        # Outcomes never answer, even malformed or for ids never issued.
        client.protocol.notify("kimi/nextEditOutcome", {"id": 3})
        client.protocol.notify("kimi/nextEditOutcome", {"id": "x", "outcome": "rejected"})
        status = await request(client, "kimi/status", None)
        assert status["prediction"]["rejected"] == 0
    assert fake.chat_requests == []


async def test_history_holds_only_documents_a_prompt_may_carry(
    fake: FakeKimi, tmp_path: Path
) -> None:
    root = git_workspace(
        tmp_path / "ws",
        {"geometry.py": SOURCE, "util.py": "A = 1\n", ".env": "KEY=1\n", "gen/out.py": "B = 2\n",
         ".gitignore": "gen/\n"},
    )  # fmt: skip
    uri = (root / "geometry.py").as_uri()
    util, env, ignored = ((root / name).as_uri() for name in ("util.py", ".env", "gen/out.py"))
    fake.enqueue(lambda body: Reply(content=rewrite(body, lambda text: text)))
    async with session("vscode", init_options=options(fake), env=ENV, root=root) as client:
        for other, text in ((util, "A = 1\n"), (env, "KEY=1\n"), (ignored, "B = 2\n")):
            open_document(client, other, text)
        change(client, util, 2, (0, 4), (0, 5), "util_value")
        change(client, env, 2, (0, 4), (0, 5), "env_value")
        change(client, ignored, 2, (0, 4), (0, 5), "ignored_value")
        open_document(client, uri, SOURCE)
        change(client, uri, 2, (0, 9), (0, 10), "width")
        params = {**next_edit(2), "textDocument": {"uri": uri, "version": 2}}
        assert await request(client, "kimi/nextEdit", params) == {"edits": []}
        # A secret file is never the subject of a prediction either: no call.
        secret = {"textDocument": {"uri": env, "version": 2}, "position": params["position"]}
        assert await request(client, "kimi/nextEdit", secret) == {"edits": []}
    [sent] = fake.chat_requests
    user = sent.body["messages"][-2]["content"]
    assert "util.py:1\n- A = 1\n+ A = util_value\n" in user
    assert "geometry.py:1\n- def area(w, h):" in user
    assert "env_value" not in user and "ignored_value" not in user


async def test_the_files_project_context_leads_the_prompt(fake: FakeKimi, tmp_path: Path) -> None:
    helpers = "def scale(x):\n    return 2 * x\n"
    source = "from helpers import scale\n\n\ndef grow(w):\n    return scale(w) + w\n"
    root = git_workspace(tmp_path / "ws", {"helpers.py": helpers, "main.py": source})
    uri = (root / "main.py").as_uri()
    fake.enqueue(renamer, renamer)
    async with session("vscode", init_options=options(fake), env=ENV, root=root) as client:
        open_document(client, uri, source)
        block = await request(client, "kimi/ghostContext", {"textDocument": {"uri": uri}})
        assert "def scale(x):" in block["text"]
        change(client, uri, 2, (3, 9), (3, 10), "width")
        params = {
            "textDocument": {"uri": uri, "version": 2},
            "position": {"line": 3, "character": 14},
        }
        result = await request(client, "kimi/nextEdit", params)
        assert spans(result) == [(4, 17, 4, 18, "width"), (4, 22, 4, 23, "width")]
        change(client, uri, 3, (0, 0), (0, 0), "#")
        params["textDocument"]["version"] = 3
        await request(client, "kimi/nextEdit", params)
    one, two = (r.body["messages"] for r in fake.chat_requests[-2:])
    assert "# Project context" in one[0]["content"] and "def scale(x):" in one[0]["content"]
    assert one[0] == two[0]  # the same system message: the API's prefix cache bills it less
