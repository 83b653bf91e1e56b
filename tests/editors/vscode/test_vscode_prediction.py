"""Edit prediction (issue 18) in real VS Code: ghost text and next-edit suggestions.

One code-server session (like test_vscode.py's, with VS Code's inline suggestions on) runs
activation.test.js (the API key) and prediction.test.js in the extension host, with the real
server and the fake Kimi API. The fake answers every prediction request from the request itself,
as a model that knows the intended text would: ghost text with the true continuation of
GHOST_TARGET after the prefix it was given (the server cuts it to the rest of the line), next
edits with every editable region rewritten with `factor` renamed to `ratio`. So the answers do
not depend on how many requests the typing causes, nor in which order they arrive.

The suite asserts what a user sees and gets (the document text after Tab, the drawn suggestions,
the counts in kimi/status); the tests here check its results and what the fake received. The
screenshots ghost-text-vscode.png and next-edit-vscode.png (docs/images) come from this run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.editors.vscode.session import Session, SessionError, Tools, run_session
from tests.editors.vscode.test_vscode import artifacts_dir, make_key, server_command
from tests.fake_kimi import FakeKimi, Reply

SUITES = ["activation.test.js", "prediction.test.js"]

GHOST_TARGET = (
    "def average(numbers):\n"
    "    total = 0\n"
    "    for n in numbers:\n"
    "        total += n\n"
    "    return total / len(numbers)\n"
)
# The file as opened: the last line's statement not written yet (the suite types "re").
GHOST_INITIAL = GHOST_TARGET.replace("return total / len(numbers)", "")
SCALE = (
    "def scale(values, factor):\n"
    "    if factor == 0:\n"
    "        return []\n"
    "    return [v * factor for v in values]\n"
)
RENAMED = SCALE.replace("factor", "ratio")

REGION = re.compile(r"<\|region (\d+)\|>\n(.*?)<\|/region \1\|>", re.S)


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def rename(text: str) -> str:
    return re.sub(r"\bfactor\b", "ratio", text)


def next_edit_answer(user_text: str, prefix: str) -> str:
    """Every region rewritten (the rename applied), between its markers, minus the prefix."""
    regions = REGION.findall(user_text)
    answer = "".join(
        f"<|region {k}|>\n{rename(body.replace('<|cursor|>', ''))}<|/region {k}|>\n"
        for k, body in regions
    )
    return answer[len(prefix) :] if prefix and answer.startswith(prefix) else answer


def ghost_answer(prefix: str) -> str:
    """The true continuation of GHOST_TARGET after the prefix (found by its tail), else nothing."""
    tail = prefix[-40:]
    at = GHOST_TARGET.find(tail) if tail else -1
    return GHOST_TARGET[at + len(tail) :] if at >= 0 else ""


def prediction_reply(body: dict[str, Any]) -> Reply:
    messages = body["messages"]
    last = messages[-1] if messages else {}
    prefix = _text(last) if last.get("role") == "assistant" else ""
    users = [m for m in messages if m.get("role") == "user"]
    user_text = _text(users[-1]) if users else ""
    if REGION.search(user_text):
        return Reply(content=next_edit_answer(user_text, prefix))
    if prefix:
        return Reply(content=ghost_answer(prefix))
    return Reply(content="(the fake API was not scripted for this request)")


@pytest.fixture(scope="module")
def key() -> str:
    return make_key()


@pytest.fixture(scope="module")
def fake(key: str) -> Iterator[FakeKimi]:
    server = FakeKimi(api_keys=(key,)).start_in_thread()
    server.set_default(prediction_reply)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, fake: FakeKimi, key: str) -> Session:
    try:
        tools = Tools.install()
    except SessionError as exc:
        pytest.fail(str(exc), pytrace=False)
    root = tmp_path_factory.mktemp("vscode-prediction")
    workspace = root / "workspace"
    workspace.mkdir()
    files = {
        "ghost.py": GHOST_INITIAL,
        "scale.py": SCALE,
        "scale_again.py": SCALE,
        "scale_more.py": SCALE,
    }
    for rel, text in files.items():
        (workspace / rel).write_text(text, encoding="utf-8")
    run = Session(
        root=root, workspace=workspace, artifacts=artifacts_dir("vscode-prediction"), key=key
    )
    command = server_command()
    settings = {
        "kimi.baseUrl": fake.base_url,
        "kimi.server.command": command[0],
        "kimi.server.args": command[1:],
        "kimi.trace.server": "verbose",
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.autoUpdate": False,
        "extensions.autoCheckUpdates": False,
        "extensions.ignoreRecommendations": True,
        "update.mode": "none",
        "git.enabled": False,
        # Ghost text is VS Code's inline suggestion: on, as it is by default.
        "editor.inlineSuggest.enabled": True,
        # No word-based completion menu over the ghost text (Tab would pick from it instead).
        "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
        "editor.suggestOnTriggerCharacters": False,
        # Legible in the README's screenshots (ghost-text-vscode.png, next-edit-vscode.png).
        "editor.fontSize": 20,
        "editor.minimap.enabled": False,
    }
    suite_config = {
        "fakeRoot": fake.base_url.removesuffix("/v1"),
        "key": key,
        "ghostTarget": GHOST_TARGET,
        "ghostInitial": GHOST_INITIAL,
        "scale": SCALE,
        "renamed": RENAMED,
        "testTimeoutMs": 90000,
    }
    suites = (
        os.environ["KIMI_E2E_SUITES"].split(",") if os.environ.get("KIMI_E2E_SUITES") else SUITES
    )
    print(f"\nVS Code prediction session in {root}; screenshots in {run.artifacts}")
    try:
        run_session(tools, run, suites, settings, suite_config, timeout=300)
    except SessionError as exc:
        pytest.fail(str(exc), pytrace=False)
    print(f"VS Code prediction session: {run.seconds:.1f} s")
    return run


@pytest.mark.parametrize("suite", SUITES)
def test_suite_passes_in_the_extension_host(session: Session, suite: str) -> None:
    tests = session.suite_results(suite)
    assert tests, f"{suite} ran no test (did it load?)\n{session.log_tails()}"
    failed = [t for t in tests if t["state"] != "passed"]
    report = "\n\n".join(f"✗ {t['title']} ({t['state']})\n{t['error']}" for t in failed)
    assert not failed, f"{len(failed)} of {len(tests)} failed in {suite}:\n\n{report}\n\n" + (
        session.log_tails()
    )


def test_prediction_requests_reached_the_fake(session: Session, fake: FakeKimi) -> None:
    """Both kinds of prediction were asked of the model (the suite saw their results), each
    with the session's key, and none after prediction was turned off (the suite counted)."""
    assert session.suite_results("prediction.test.js"), "the suite did not run"
    bodies = [r.body for r in fake.chat_requests]
    regions = [b for b in bodies if any(REGION.search(_text(m)) for m in b["messages"])]
    ghosts = [b for b in bodies if b not in regions and b["messages"][-1]["role"] == "assistant"]
    assert ghosts and regions, f"{len(ghosts)} ghost-text and {len(regions)} next-edit requests"
    assert {r.headers.get("authorization") for r in fake.chat_requests} == {f"Bearer {session.key}"}
    off = session.facts.get("requestsWhileOff")
    assert off is not None, "the suite did not report the requests made while off"
    assert off == 0


def test_screenshots_were_taken(session: Session) -> None:
    for name in ("ghost-text-vscode", "next-edit-vscode"):
        png = session.artifacts / f"{name}.png"
        assert png.is_file(), f"no screenshot {png}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_nothing_left_running(session: Session) -> None:
    assert session.leftovers == [], "processes survived the session:\n" + "\n".join(
        session.leftovers
    )
