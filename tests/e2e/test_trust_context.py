"""Open documents pass the rules files on disk follow (issue 16, finding 4): a file outside
the workspace, an ignored file and an `untitled:` buffer never reach the API unless focused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fake_kimi import FakeKimi, Reply

from .harness import git_workspace, open_document, request, session

KEY = "sk-test-fake"
OUTSIDE_MARKER = "OUTSIDE_NOTES_MARKER_4a1"
LOCAL_MARKER = "LOCAL_SETTINGS_MARKER_9c2"
UNTITLED_MARKER = "UNTITLED_SCRATCH_MARKER_b77"
MARKERS = (OUTSIDE_MARKER, LOCAL_MARKER, UNTITLED_MARKER)
PHYSICS = "def speed(distance, time):\n    return distance / time\n"
UNTITLED_URI = "untitled:Untitled-1"
ALLOWED_MARKER = "UNSAVED_UNITS_MARKER_e05"  # an open workspace file's unsaved text


def _workspace(tmp_path: Path) -> Path:
    return git_workspace(
        tmp_path / "proj",
        {
            "pkg/__init__.py": "",
            "pkg/physics.py": PHYSICS,
            "local_settings.py": f"{LOCAL_MARKER} = 'dev database'\n",
            ".gitignore": "local_settings.py\n",
            ".kimiignore": "local_settings.py\n",
        },
    )


def _sent(fake: FakeKimi) -> str:
    return "\n".join(json.dumps(r.body) for r in fake.chat_requests)


async def test_open_documents_outside_ignored_or_untitled_never_reach_the_api(
    fake: FakeKimi, tmp_path: Path, profile: str
) -> None:
    fake.reset()
    fake.enqueue(Reply(content="It divides."), Reply(content="    return distance / time\n```"))
    root = _workspace(tmp_path)
    outside = tmp_path / "elsewhere" / "notes.py"
    outside.parent.mkdir()
    outside.write_text(f"{OUTSIDE_MARKER} = 'private notes'\n")
    local = root / "local_settings.py"
    physics = (root / "pkg" / "physics.py").as_uri()
    options = {"baseUrl": fake.base_url, "maxRetries": 0, "exclude": ["local_settings.py"]}
    async with session(
        profile, init_options=options, env={"MOONSHOT_API_KEY": KEY}, root=root
    ) as client:
        open_document(client, outside.as_uri(), outside.read_text())
        open_document(client, local.as_uri(), local.read_text())
        open_document(client, UNTITLED_URI, f"{UNTITLED_MARKER} = 'scratch'\n")
        units = (root / "pkg" / "units.py").as_uri()  # never saved: no file on disk yet
        open_document(client, units, f"{ALLOWED_MARKER} = 1000\n")
        open_document(client, physics, PHYSICS)
        # The untitled buffer also as an editor-supplied definition: refused there too.
        where: dict[str, Any] = {"start": {"line": 0, "character": 0},
                                 "end": {"line": 0, "character": 5}}  # fmt: skip
        definitions = [{"uri": UNTITLED_URI, "range": where}]
        focus = {"textDocument": {"uri": physics}, "definitions": definitions}
        manifest = await request(client, "kimi/context", focus)
        await request(client, "kimi/chat", {"message": "What does speed do?", **focus})
        line = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}
        await request(
            client, "kimi/inlineEdit",
            {"textDocument": {"uri": physics}, "range": line, "instruction": "guard time == 0",
             "mode": "preview"},
        )  # fmt: skip
    assert len(fake.chat_requests) == 2
    sent = _sent(fake)
    assert "def speed(distance, time)" in sent  # the focus itself was sent
    for marker in MARKERS:
        assert marker not in sent, marker
    excluded = {(e["uri"], e["reason"]) for e in manifest["excluded"]}
    assert (outside.as_uri(), "open document: outside the workspace") in excluded
    # Listed in .gitignore, .kimiignore and `exclude`: the setting is checked first.
    assert (local.as_uri(), "open document: excluded by the exclude setting") in excluded
    assert (UNTITLED_URI, "open document: untitled buffer") in excluded
    assert (UNTITLED_URI, "definition from the editor (line 1): untitled buffer") in excluded
    # An open workspace document that passes the rules is still sent, as "recent".
    assert ALLOWED_MARKER in sent
    recent = [s["uri"] for s in manifest["sections"] if s["kind"] == "recent"]
    assert recent == [units]


async def test_an_untitled_buffer_is_sent_when_it_is_the_focus(
    fake: FakeKimi, tmp_path: Path
) -> None:
    fake.reset()
    fake.enqueue(Reply(content="A scratch assignment."))
    root = _workspace(tmp_path)
    options = {"baseUrl": fake.base_url, "maxRetries": 0}
    async with session(
        "vscode", init_options=options, env={"MOONSHOT_API_KEY": KEY}, root=root
    ) as client:
        open_document(client, UNTITLED_URI, f"{UNTITLED_MARKER} = 'scratch'\n")
        await request(
            client, "kimi/chat",
            {"message": "What is this?", "textDocument": {"uri": UNTITLED_URI}},
        )  # fmt: skip
    assert UNTITLED_MARKER in _sent(fake)  # the user chose it: the focus is sent


async def test_an_ignored_or_outside_focus_is_sent_but_never_its_neighbours(
    fake: FakeKimi, tmp_path: Path
) -> None:
    """The decision for the focus: the user asked about that document, so it is sent even
    when ignored or outside the workspace (a secret file never is); what enters with it still
    passes the rules."""
    fake.reset()
    fake.enqueue(Reply(content="Local settings."), Reply(content="Notes."))
    root = _workspace(tmp_path)
    local = root / "local_settings.py"
    outside = tmp_path / "elsewhere" / "notes.py"
    outside.parent.mkdir()
    outside.write_text(f"{OUTSIDE_MARKER} = 'private notes'\n")
    options = {"baseUrl": fake.base_url, "maxRetries": 0, "exclude": ["local_settings.py"]}
    async with session(
        "neovim", init_options=options, env={"MOONSHOT_API_KEY": KEY}, root=root
    ) as client:
        open_document(client, outside.as_uri(), outside.read_text())
        open_document(client, local.as_uri(), local.read_text())
        about_local = {"message": "What is this?", "textDocument": {"uri": local.as_uri()}}
        await request(client, "kimi/chat", about_local)
        about_notes = {"message": "And this?", "textDocument": {"uri": outside.as_uri()}}
        await request(client, "kimi/chat", about_notes)
    first, second = (json.dumps(r.body) for r in fake.chat_requests)
    assert LOCAL_MARKER in first and OUTSIDE_MARKER not in first
    assert OUTSIDE_MARKER in second and LOCAL_MARKER not in second
