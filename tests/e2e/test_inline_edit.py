"""End-to-end inline edits and code actions: streamed, minimal, versioned, never clobbering."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.fake_kimi import FakeKimi, Fault, Reply

from .harness import apply_text_edits, change, open_document, request, session, text_edits

KEY = "sk-test-fake"
URI = "file:///tmp/kimi-e2e/calc.py"
SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
LINE_1 = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}
FUNCS = {"start": {"line": 0, "character": 0}, "end": {"line": 6, "character": 0}}


@pytest.fixture(autouse=True)
def fresh(fresh_fake: FakeKimi) -> None:
    """Every test starts with an empty script and no records."""


def options(fake: FakeKimi) -> dict[str, Any]:
    return {"baseUrl": fake.base_url, "maxRetries": 0}


ENV = {"MOONSHOT_API_KEY": KEY}


async def test_apply_mode_sends_one_minimal_versioned_edit(fake: FakeKimi, profile: str) -> None:
    # Partial mode: the server's prefix is "```python\n    ", the model continues after it.
    fake.enqueue(Reply(content=["return a ", "+ b\n", "```"]))
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        result = await request(
            client, "kimi/inlineEdit",
            {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix the bug"},
        )  # fmt: skip
        assert result["applied"] is True and result["version"] == 1
        [params] = client.applied
        uri, version, edits = text_edits(params)
        assert uri == URI
        assert version == (1 if profile == "vscode" else None)  # Neovim: no documentChanges
        [edit] = edits
        assert (edit.range.start.line, edit.range.start.character) == (1, 13)
        assert (edit.range.end.line, edit.range.end.character) == (1, 14)
        assert edit.new_text == "+"
        assert result["edits"][0]["newText"] == "+"
        previews = client.kimi.of("kimi/editPreview")
        assert previews and previews[-1]["text"] == "    return a + b\n"
        assert previews[-1]["editId"] == result["editId"]
    body = fake.chat_requests[-1].body
    assert body["thinking"] == {"type": "disabled"}
    last = body["messages"][-1]
    assert last == {"role": "assistant", "content": "```python\n    ", "partial": True}
    assert "fix the bug" in body["messages"][-2]["content"]


def mirror(client: Any, text: str, params: Any, version: int) -> str:
    """Do what an editor does with a workspace/applyEdit: change the buffer, send didChange."""
    _, _, edits = text_edits(params)
    text = apply_text_edits(text, edits)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return text


async def test_preview_accept_some_then_the_rest_and_reject(fake: FakeKimi, profile: str) -> None:
    new = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b * 1\n"
    fake.enqueue(Reply(content=new + "```"), Reply(content=new + "```"))
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        params = {"textDocument": {"uri": URI}, "range": FUNCS, "instruction": "tweak",
                  "mode": "preview"}  # fmt: skip
        proposal = await request(client, "kimi/inlineEdit", params)
        assert proposal["applied"] is False and len(proposal["edits"]) == 2
        assert client.applied == []
        accepted = await request(
            client, "kimi/acceptEdit", {"editId": proposal["editId"], "hunks": [1]}
        )
        assert accepted == {"applied": True}
        _, _, edits = text_edits(client.applied[0])
        assert [e.new_text for e in edits] == [" * 1"]
        text = mirror(client, SOURCE, client.applied[0], 2)
        twice = await request(
            client, "kimi/acceptEdit", {"editId": proposal["editId"], "hunks": [1]}
        )
        assert twice["applied"] is False and twice["code"] == "already_accepted"
        # The other hunk is still pending under its original index.
        rest = await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]})
        assert rest == {"applied": True}
        text = mirror(client, text, client.applied[1], 3)
        assert text == new
        again = await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]})
        assert again["applied"] is False and "no longer pending" in again["reason"]
        assert again["code"] == "not_pending"

        second = await request(client, "kimi/inlineEdit", params)
        rejected = await request(client, "kimi/rejectEdit", {"editId": second["editId"]})
        assert rejected == {"applied": False}
        assert len(client.applied) == 2


async def test_partial_accept_survives_a_didchange_sent_before_the_answer(
    fake: FakeKimi,
) -> None:
    # VS Code applies the edit and sends its didChange before answering workspace/applyEdit:
    # the server must not take the accepted hunk for the user's typing and drop the rest.
    new = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b * 1\n"
    fake.enqueue(Reply(content=new + "```"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        state = {"text": SOURCE, "version": 1}

        def editor(params: Any) -> None:
            state["version"] += 1
            state["text"] = mirror(client, state["text"], params, state["version"])

        client.on_apply = editor
        params = {"textDocument": {"uri": URI}, "range": FUNCS, "instruction": "tweak",
                  "mode": "preview"}  # fmt: skip
        proposal = await request(client, "kimi/inlineEdit", params)
        first = {"editId": proposal["editId"], "hunks": [0]}
        assert await request(client, "kimi/acceptEdit", first) == {"applied": True}
        assert await request(client, "kimi/status", None)  # the didChange was handled
        assert client.kimi.of("kimi/editDropped") == []
        rest = await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]})
        assert rest == {"applied": True}
        assert state["text"] == new


async def edit_while_typing(
    client: Any,
    fake: FakeKimi,
    typing: tuple[tuple[int, int], tuple[int, int], str],
    mode: str = "apply",
) -> Any:
    """Start an inline edit of LINE_1, type while the model is held, then let it answer."""
    gate = f"slow-{uuid.uuid4().hex}"
    fake.enqueue(Reply(content="return a + b\n```", gate=gate))
    call = asyncio.ensure_future(request(
        client, "kimi/inlineEdit",
        {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix", "mode": mode},
    ))  # fmt: skip
    await fake.wait_for_in_flight(1)
    change(client, URI, 2, *typing)
    fake.open_gate(gate)
    return await call


async def test_preview_refused_when_the_user_typed_over_its_lines(fake: FakeKimi) -> None:
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        with pytest.raises(JsonRpcException) as caught:
            await edit_while_typing(client, fake, ((1, 13), (1, 14), "*"), mode="preview")
        assert caught.value.data["kind"] == "stale_document"


async def test_typing_elsewhere_during_the_stream_is_rebased(fake: FakeKimi, profile: str) -> None:
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        result = await edit_while_typing(client, fake, ((0, 0), (0, 0), "import math\n"))
        assert result["applied"] is True
        [params] = client.applied
        _, version, edits = text_edits(params)
        assert version == (2 if profile == "vscode" else None)
        current = "import math\n" + SOURCE
        assert apply_text_edits(current, edits) == "import math\n" + SOURCE.replace(
            "a - b", "a + b"
        )


async def test_typing_over_the_range_refuses_and_keeps_the_text(
    fake: FakeKimi, profile: str
) -> None:
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        with pytest.raises(JsonRpcException) as caught:
            await edit_while_typing(client, fake, ((1, 13), (1, 14), "*"))
        assert caught.value.data["kind"] == "stale_document"
        assert "nothing was applied" in caught.value.message
        assert client.applied == []
        state = await request(client, "kimi/documentState", {"textDocument": {"uri": URI}})
        assert state["text"] == SOURCE.replace("a - b", "a * b")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.cut(after=2, reply=Reply(content="return a + b\n```")), "bad_response"),
        (Fault.content_filter(), "content_filter"),
        (
            Fault.content_filter_midstream(after=2, reply=Reply(content="return a")),
            "content_filter",
        ),
    ],
)
async def test_faults_apply_nothing(fake: FakeKimi, fault: Any, kind: str) -> None:
    fake.enqueue(fault)
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        with pytest.raises(JsonRpcException) as caught:
            await request(
                client, "kimi/inlineEdit",
                {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix"},
            )  # fmt: skip
        assert caught.value.data["kind"] == kind
        assert client.applied == []


async def test_context_overflow_applies_nothing(fake: FakeKimi) -> None:
    opts = {**options(fake), "contextWindow": 1024, "maxOutputTokens": 16}
    async with session("neovim", init_options=opts, env=ENV) as client:
        open_document(client, URI, SOURCE * 200)
        whole = {"start": {"line": 0, "character": 0}, "end": {"line": 1200, "character": 0}}
        with pytest.raises(JsonRpcException) as caught:
            await request(
                client, "kimi/inlineEdit",
                {"textDocument": {"uri": URI}, "range": whole, "instruction": "fix"},
            )  # fmt: skip
        assert caught.value.data["kind"] == "context_overflow"
    assert fake.chat_requests == []


async def test_cancel_closes_the_stream_and_applies_nothing(fake: FakeKimi) -> None:
    fake.enqueue(Reply(content=[f"x{i} " for i in range(300)], chunk_delay=0.05))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        call = asyncio.ensure_future(client.protocol.send_request_async(
            "kimi/inlineEdit",
            {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix"},
            msg_id="edit-1",
        ))  # fmt: skip
        await client.kimi.wait("kimi/editPreview", 1)
        client.cancel_request(types.CancelParams(id="edit-1"))
        with pytest.raises(JsonRpcException):
            await call
        await fake.wait_for_disconnect()
        assert client.applied == []


async def test_python_edit_that_breaks_the_file_is_refused(fake: FakeKimi) -> None:
    fake.enqueue(Reply(content="return (a + b\n```"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        with pytest.raises(JsonRpcException, match="unparseable"):
            await request(
                client, "kimi/inlineEdit",
                {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix"},
            )  # fmt: skip
        assert client.applied == []


async def test_code_actions_are_listed_without_the_network(fake: FakeKimi, profile: str) -> None:
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        diagnostic = types.Diagnostic(
            range=types.Range(
                start=types.Position(line=1, character=11),
                end=types.Position(line=1, character=16),
            ),
            message="suspicious subtraction",
            source="lint",
        )
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                range=diagnostic.range,
                context=types.CodeActionContext(diagnostics=[diagnostic]),
            )
        )
        titles = [a.title for a in actions]
        assert titles[0] == "Kimi: fix 'suspicious subtraction'"
        assert "Kimi: edit selection…" in titles and "Kimi: add docstrings" in titles
        assert "Kimi: explain" in titles and "Kimi: write tests for this file" in titles
        # lsprotocol's client-side converter reads a CodeAction that carries a command as a
        # Command (VS Code and Neovim do not); kinds are checked through `only` below.
        command = str(actions[0].command)  # the CodeAction.command object, stringified
        assert "'command': 'kimi.fix'" in command and URI in command
        quick = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=URI), range=diagnostic.range,
                context=types.CodeActionContext(diagnostics=[diagnostic],
                                                only=[types.CodeActionKind.QuickFix]),
            )
        )  # fmt: skip
        assert [a.title for a in quick] == ["Kimi: fix 'suspicious subtraction'"]
        only = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=URI), range=diagnostic.range,
                context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.Source]),
            )
        )  # fmt: skip
        assert [a.title for a in only] == ["Kimi: write tests for this file"]
    assert fake.chat_requests == []


async def test_fix_command_end_to_end(fake: FakeKimi, profile: str) -> None:
    fake.enqueue(Reply(content="return a + b\n```"))
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        diagnostic = {"range": {"start": {"line": 1, "character": 11},
                                "end": {"line": 1, "character": 16}},
                      "message": "suspicious subtraction", "source": "lint"}  # fmt: skip
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="kimi.fix", arguments=[URI, diagnostic["range"], diagnostic]
            )
        )
        assert result["applied"] is True
        _, _, edits = text_edits(client.applied[0])
        assert apply_text_edits(SOURCE, edits) == SOURCE.replace("a - b", "a + b")
    prompt = fake.chat_requests[-1].body["messages"][-2]["content"]
    assert "suspicious subtraction" in prompt and "line 2" in prompt


async def test_preview_accept_all(fake: FakeKimi) -> None:
    new = SOURCE.replace("a - b", "a + b").replace("a * b", "a * b * 1")
    fake.enqueue(Reply(content=new + "```"))
    async with session("neovim", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        proposal = await request(
            client, "kimi/inlineEdit",
            {"textDocument": {"uri": URI}, "range": FUNCS, "instruction": "t", "mode": "preview"},
        )  # fmt: skip
        assert await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]}) == {
            "applied": True
        }
        _, _, edits = text_edits(client.applied[0])
        assert apply_text_edits(SOURCE, edits) == new


async def test_typing_in_a_previewed_range_drops_it_with_a_notice(fake: FakeKimi) -> None:
    fake.enqueue(Reply(content="return a + b\n```"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        proposal = await request(
            client, "kimi/inlineEdit",
            {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix",
             "mode": "preview"},
        )  # fmt: skip
        change(client, URI, 2, (1, 4), (1, 4), "  ")
        [dropped] = await client.kimi.wait("kimi/editDropped", 1)
        assert dropped["editId"] == proposal["editId"] and "changed" in dropped["reason"]
        assert dropped["code"] == "user_edited"
        late = await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]})
        assert late["applied"] is False and client.applied == []
        assert late["code"] == "not_pending"


async def test_docstring_explain_and_tests_commands(fake: FakeKimi) -> None:
    documented = 'def add(a, b):\n    """Add two numbers."""\n    return a - b\n'
    fake.enqueue(Reply(content=documented + "```"))
    fake.enqueue(Reply(content="It adds two numbers (with a bug)."))
    fake.enqueue(Reply(content="```python\ndef test_add():\n    assert add(1, 2) == 3\n```"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        first_fn = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 16}}
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kimi.docstring", arguments=[URI, first_fn])
        )
        assert result["applied"] is True
        _, _, edits = text_edits(client.applied[0])
        assert apply_text_edits(SOURCE, edits).startswith(documented)
        explained = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kimi.explain", arguments=[URI, first_fn])
        )
        assert explained["content"] == "It adds two numbers (with a bug)."
        assert any("It adds two numbers" in m.message for m in client.messages)
        tests = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kimi.tests", arguments=[URI])
        )
        assert "def test_add" in tests["content"]
    prompts = [r.body["messages"][-2 if r.body["messages"][-1]["role"] == "assistant" else -1]
               ["content"] for r in fake.chat_requests]  # fmt: skip
    assert "docstrings" in prompts[0] and "Explain" in prompts[1] and "unit tests" in prompts[2]


async def test_edit_selection_without_an_instruction_says_what_is_needed(fake: FakeKimi) -> None:
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        with pytest.raises(JsonRpcException, match="instruction"):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="kimi.inlineEdit", arguments=[URI, LINE_1])
            )
    assert fake.chat_requests == []


async def test_an_edit_keeps_the_secrets_the_model_never_saw(fake: FakeKimi) -> None:
    token = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed9Cb8"
    source = f'TOKEN = "{token}"\n\n\ndef f():\n    return 1\n'
    # The model saw the token as a marker and echoes it while changing another line.
    reply = 'TOKEN = "[REDACTED:github-token]"\n\n\ndef f() -> int:\n    return 1\n```'
    fake.enqueue(Reply(content=reply))
    everything = {"start": {"line": 0, "character": 0}, "end": {"line": 5, "character": 0}}
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, source)
        result = await request(
            client, "kimi/inlineEdit",
            {"textDocument": {"uri": URI}, "range": everything, "instruction": "annotate"},
        )  # fmt: skip
        assert result["applied"] is True
        _, _, edits = text_edits(client.applied[0])
        assert apply_text_edits(source, edits) == source.replace("f():", "f() -> int:")
    assert token not in str(fake.chat_requests[-1].body)
    assert "[REDACTED:github-token]" in str(fake.chat_requests[-1].body)


async def test_results_that_apply_nothing_carry_a_code(fake: FakeKimi) -> None:
    fake.enqueue(
        Reply(content="return a - b\n```"),
        Reply(content="return a + b\n```"),
        Reply(content="return a + b\n```"),
        Reply(content="return a + b\n```"),
    )
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        edit = {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix"}
        same = await request(client, "kimi/inlineEdit", edit)
        assert same["applied"] is False and same["edits"] == []
        assert same["code"] == "no_change" and "does not change" in same["reason"]
        client.apply_result = False
        refused = await request(client, "kimi/inlineEdit", edit)
        assert refused["applied"] is False and refused["code"] == "client_refused"
        assert refused["reason"] == "refused by test"
        proposal = await request(client, "kimi/inlineEdit", {**edit, "mode": "preview"})
        assert "code" not in proposal  # pending, not refused
        declined = await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]})
        assert declined == {
            "applied": False, "code": "client_refused", "reason": "refused by test",
        }  # fmt: skip
        client.apply_result = True
        closing = await request(client, "kimi/inlineEdit", {**edit, "mode": "preview"})
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=URI))
        )
        late = await request(client, "kimi/acceptEdit", {"editId": closing["editId"]})
        assert late["applied"] is False and late["code"] == "document_closed"
        assert "no longer pending" in late["reason"]
        unknown = await request(client, "kimi/rejectEdit", {"editId": "never-proposed"})
        assert unknown == {
            "applied": False, "code": "not_pending", "reason": "This edit is no longer pending.",
        }  # fmt: skip
        assert len(client.applied) == 2  # the refused inlineEdit and the refused accept


# Typing inside a partially accepted preview (issue 19): an accepted hunk moves the end of the
# preview's range; typing before the moved end is typing in the preview (dropped, as any typing
# in its range), typing after it is not (the rest stays pending and still applies).
TWO = {"start": {"line": 0, "character": 0}, "end": {"line": 6, "character": 0}}


async def accept_first_hunk(client: Any, source: str, proposal_text: str, rng: Any) -> Any:
    """Open `source`, preview `proposal_text` for `rng`, accept hunk 0 (the editor mirrors it);
    returns (proposal, state) where state holds the editor's text and version."""
    state = {"text": source, "version": 1}

    def editor(params: Any) -> None:
        state["version"] += 1
        state["text"] = mirror(client, state["text"], params, state["version"])

    client.on_apply = editor
    open_document(client, URI, source)
    params = {"textDocument": {"uri": URI}, "range": rng, "instruction": "t", "mode": "preview"}
    proposal = await request(client, "kimi/inlineEdit", params)
    assert proposal["applied"] is False and len(proposal["edits"]) == 2
    first = {"editId": proposal["editId"], "hunks": [0]}
    assert await request(client, "kimi/acceptEdit", first) == {"applied": True}
    assert await request(client, "kimi/status", None)  # the editor's didChange was handled
    assert client.kimi.of("kimi/editDropped") == []
    return proposal, state


async def test_typing_in_the_range_a_partial_accept_grew_drops_the_preview(
    fake: FakeKimi,
) -> None:
    source = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n\n\nX = 1\n"
    new = 'def add(a, b):\n    """Sum."""\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n'
    fake.enqueue(Reply(content=new + "```"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        proposal, state = await accept_first_hunk(client, source, new, TWO)
        # Hunk 0 added a line: sub's body is line 6 now, still in the preview, though past
        # where the range ended before the accept.
        assert state["text"].splitlines()[6] == "    return a + b"
        change(client, URI, state["version"] + 1, (6, 4), (6, 4), "x")
        [dropped] = await client.kimi.wait("kimi/editDropped", 1)
        assert dropped["editId"] == proposal["editId"] and dropped["code"] == "user_edited"
        rest = await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]})
        assert rest["applied"] is False and rest["code"] == "not_pending"
        assert len(client.applied) == 1  # only the hunk accepted before the typing


async def test_typing_just_after_the_range_a_partial_accept_shrank_keeps_the_preview(
    fake: FakeKimi,
) -> None:
    source = (
        "def add(a, b):\n    # TODO: check\n    return a - b\n\n\n"
        "def sub(a, b):\n    return a + b\n\n\nX = 1\n"
    )
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 7, "character": 0}}
    new = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
    fake.enqueue(Reply(content=new + "```"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        proposal, state = await accept_first_hunk(client, source, new, rng)
        # Hunk 0 removed a line: the range ends at line 6 now; "X = 1" (line 8) is after it,
        # though before where the range ended before the accept.
        assert state["text"].splitlines()[8] == "X = 1"
        version = state["version"] + 1
        change(client, URI, version, (8, 5), (8, 5), "0")
        state["version"], state["text"] = version, state["text"].replace("X = 1\n", "X = 10\n")
        assert await request(client, "kimi/status", None)  # the typing was handled
        assert client.kimi.of("kimi/editDropped") == []
        rest = await request(client, "kimi/acceptEdit", {"editId": proposal["editId"]})
        assert rest == {"applied": True}
        _, applied_to, _ = text_edits(client.applied[-1])
        assert applied_to == version  # against the text with the user's typing
        assert state["text"] == new + "\n\nX = 10\n"
