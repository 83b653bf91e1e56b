"""The VS Code extension (editors/vscode) in real VS Code, with the real server and fake API.

One code-server session (VS Code 1.100 from npm, driven by Debian's headless chromium) runs
every mocha suite of editors/vscode/test/e2e/suite inside the real extension host: the packaged
.vsix, vscode-languageclient and the kimi-lsp server from this venv, talking to the fake Kimi API
(served from this process, scripted by the suites through its control endpoints). Each pytest
test below then checks one suite's mocha results, or what the fake and the logs saw.

The screenshots the suites ask for are saved in $KIMI_LSP_ARTIFACTS/vscode (default
tests/editors/vscode/artifacts/); the path is printed.

Setup (apt chromium, code-server, playwright-core, mocha, the .vsix): tests/editors/vscode/
setup.sh, which tests/run.sh calls and this module calls again (quick when cached).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.agent.fanout import PLAN_PROMPT
from tests.editors.vscode.pictures import (
    CHANNEL_THRESHOLD,
    TOLERANCE,
    UPDATE_ENV,
    box_of,
    commonest_colour,
    compare_with_reference,
)
from tests.editors.vscode.session import HERE, Session, SessionError, Tools, run_session
from tests.fake_kimi import FakeKimi, Reply, ToolCall

SUITES = [
    "harness.test.js",
    "activation.test.js",
    "codeActions.test.js",
    "inlineEdit.test.js",
    "chat.test.js",
    "refactor.test.js",
    "secrets.test.js",
    "fallback.test.js",  # before definitions.test.js: see the comment at its top
    "definitions.test.js",
]
SESSION_TIMEOUT = 300  # seconds for every suite together (about a minute when all is well)

SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
# inlineEdit.test.js types inside (and just after) a partially accepted preview of lines 1-6.
PARTIAL_SOURCE = (
    "def add(a, b):\n    return a - b  # subtracts: a bug to fix\n\n\n"
    "def mul(a, b):\n    return a * b\n\n\nTOTAL = add(1, 2)\n"
)
REFACTOR_FILES = {
    "pkg/__init__.py": "",
    "pkg/config.py": "class Config:\n    debug = False\n",
    "pkg/app.py": "from pkg.config import Config\n\n\ndef make() -> Config:\n    return Config()\n",
}
# TypeScript, resolved by VS Code's built-in TypeScript support: main.ts uses what util.ts defines.
TS_FILES = {
    "ts/util.ts": (
        "export function computeTotal(prices: number[]): number {\n"
        "  return prices.reduce((sum, price) => sum + price, 0);\n"
        "}\n"
        "\n"
        "export interface Basket {\n"
        "  items: number[];\n"
        "}\n"
    ),
    "ts/main.ts": (
        'import { computeTotal, type Basket } from "./util";\n'
        "\n"
        "export function checkout(basket: Basket): string {\n"
        "  const total = computeTotal(basket.items);\n"
        "  return `total: ${total}`;\n"
        "}\n"
    ),
}
DOTENV_SECRET = "sk-dotenv-" + "Q" * 40


def make_key() -> str:
    """A real-looking Moonshot key, new for every run (so finding it anywhere is meaningful)."""
    alphabet = string.ascii_letters + string.digits
    return "sk-" + "".join(secrets.choice(alphabet) for _ in range(48))


# -- the fake's answers to the refactor agent (the suites script everything else) -----------

REFACTOR_EDITS: dict[str, dict[str, Any]] = {
    "pkg/config.py": {"old": "class Config:", "new": "class Settings:"},
    "pkg/app.py": {"old": "Config", "new": "Settings", "replace_all": True},
}
REFACTOR_PLAN = {
    "plan": "Rename Config to Settings.",
    "files": [{"path": rel, "change": "rename"} for rel in REFACTOR_EDITS],
}


def default_reply(body: dict[str, Any]) -> Reply:
    """What the fake answers when a suite queued nothing: the refactor planner and workers,
    else a reply that says it was not scripted (so a test that forgot to script fails)."""
    messages = body["messages"]
    if messages and messages[0].get("content") == PLAN_PROMPT:
        if not any(m["role"] == "tool" for m in messages):
            return Reply(reasoning="look", tool_calls=[ToolCall("search", {"pattern": "Config"})])
        return Reply(reasoning="plan", content=json.dumps(REFACTOR_PLAN))
    found = re.search(r"^# Your file: (\S+)$", str(messages[1].get("content", "")), re.M)
    rel = found.group(1) if found and len(messages) > 1 else ""
    if rel in REFACTOR_EDITS:
        return Reply(
            reasoning=f"edit {rel}",
            tool_calls=[
                ToolCall("replace_in_file", {"path": rel, **REFACTOR_EDITS[rel]}),
                ToolCall("finish", {"summary": f"renamed in {rel}"}),
            ],
        )
    return Reply(content="(the fake API was not scripted for this request)")


# -- fixtures -------------------------------------------------------------------------------


def server_command() -> list[str]:
    """The kimi-lsp of the running interpreter's environment (the code under test)."""
    beside = Path(sys.executable).parent / "kimi-lsp"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("kimi-lsp")
    return [found] if found else [sys.executable, "-m", "kimi_lsp"]


def artifacts_dir(name: str = "vscode") -> Path:
    """$KIMI_LSP_ARTIFACTS/<name>, else tests/editors/vscode/artifacts (or artifacts/<name> for
    another session than the main one), emptied."""
    root = os.environ.get("KIMI_LSP_ARTIFACTS")
    if root:
        folder = Path(root) / name
    else:
        folder = HERE / "artifacts" if name == "vscode" else HERE / "artifacts" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def make_workspace(root: Path) -> Path:
    workspace = root / "workspace"
    files = {
        "calc.py": SOURCE,
        "partial.py": PARTIAL_SOURCE,
        "notes.md": "# Notes\n\nNothing secret here.\n",
        ".env": f"OPENAI_API_KEY={DOTENV_SECRET}\n",
        ".gitignore": "__pycache__/\n",
        **REFACTOR_FILES,
        **TS_FILES,
    }
    for rel, text in files.items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(workspace)], check=True, timeout=30)
    return workspace


@pytest.fixture(scope="module")
def key() -> str:
    return make_key()


@pytest.fixture(scope="module")
def fake(key: str) -> Iterator[FakeKimi]:
    """Accepts only the session's key: a request carrying anything else gets a 401."""
    server = FakeKimi(api_keys=(key,)).start_in_thread()
    server.set_default(default_reply)
    try:
        yield server
    finally:
        server.stop()


REFUSED_KEY = make_key()


def refused_url(fallback: FakeKimi) -> str:
    """The fallback fake under the name "localhost": another host for the question per host."""
    return fallback.base_url.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def fallback_key() -> str:
    return make_key()


@pytest.fixture(scope="module")
def fallback_fake(fallback_key: str) -> Iterator[FakeKimi]:
    """The fallback endpoint (kimi.fallback, set by fallback.test.js): only its own key."""
    server = FakeKimi(api_keys=(fallback_key,)).start_in_thread()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def session(
    tmp_path_factory: pytest.TempPathFactory,
    fake: FakeKimi,
    key: str,
    fallback_fake: FakeKimi,
    fallback_key: str,
) -> Session:
    """Runs every suite once; a failure of the session itself (not of a test) fails every test
    with code-server's, the driver's and the extension host's logs."""
    try:
        tools = Tools.install()
    except SessionError as exc:
        pytest.fail(str(exc), pytrace=False)
    root = tmp_path_factory.mktemp("vscode")
    run = Session(root=root, workspace=make_workspace(root), artifacts=artifacts_dir(), key=key)
    suites = (
        os.environ.get("KIMI_E2E_SUITES", "").split(",")
        if os.environ.get("KIMI_E2E_SUITES")
        else SUITES
    )
    settings = {
        "kimi.baseUrl": fake.base_url,
        "kimi.server.command": server_command()[0],
        "kimi.server.args": server_command()[1:],
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
        "editor.inlineSuggest.enabled": False,
        # Edit prediction has its own session (test_vscode_prediction.py); here its next-edit
        # requests after an edit would take replies the suites queued for what they test.
        "kimi.prediction.enabled": False,
        "editor.codeLens": True,
        # The screenshots are compared with references: a blinking caret would come and go.
        "editor.cursorBlinking": "solid",
        # The machine running the tests is shared and slow: the lookups get more than 150 ms here
        # (the time they took is printed by test_editor_definitions_reached_the_server).
        "kimi.editorDefinitions.timeoutMs": 1500,
        # fallback.test.js stores this variable's key and overloads the primary (no other suite
        # makes the primary fail, so the fallback serves nothing before).
        "kimi.fallback": [
            {
                "model": "kimi-k2.5",
                "baseUrl": fallback_fake.base_url,
                "apiKeyEnv": "KIMI_E2E_FALLBACK_KEY",
            },
            # The same fake under another host name: the suite refuses to send this key there.
            {
                "model": "kimi-k2.5",
                "baseUrl": refused_url(fallback_fake),
                "apiKeyEnv": "KIMI_E2E_REFUSED_KEY",
            },
        ],
    }
    suite_config = {
        "fakeRoot": fake.base_url.removesuffix("/v1"),
        "key": run.key,
        "source": SOURCE,
        "partialSource": PARTIAL_SOURCE,
        "refactorFiles": REFACTOR_FILES,
        "tsFiles": TS_FILES,
        "testTimeoutMs": 60000,
        "fallbackRoot": fallback_fake.base_url.removesuffix("/v1"),
        "fallbackKey": fallback_key,
        "refusedRoot": refused_url(fallback_fake).removesuffix("/v1"),
        "refusedKey": REFUSED_KEY,
    }
    print(f"\nVS Code session in {root}; screenshots in {run.artifacts}")
    try:
        run_session(tools, run, suites, settings, suite_config, timeout=SESSION_TIMEOUT)
    except SessionError as exc:
        pytest.fail(str(exc), pytrace=False)
    print(f"VS Code session: {run.seconds:.1f} s; screenshots in {run.artifacts}")
    return run


# -- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_suite_passes_in_the_extension_host(session: Session, suite: str) -> None:
    if os.environ.get("KIMI_E2E_SUITES") and suite not in os.environ["KIMI_E2E_SUITES"]:
        pytest.fail(f"{suite} was left out by KIMI_E2E_SUITES")
    tests = session.suite_results(suite)
    assert tests, f"{suite} ran no test (did it load?)\n{session.log_tails()}"
    failed = [t for t in tests if t["state"] != "passed"]
    report = "\n\n".join(f"✗ {t['title']} ({t['state']})\n{t['error']}" for t in failed)
    assert not failed, f"{len(failed)} of {len(tests)} failed in {suite}:\n\n{report}\n\n" + (
        session.log_tails()
    )


def test_nothing_left_running(session: Session) -> None:
    assert session.leftovers == [], "processes survived the session:\n" + "\n".join(
        session.leftovers
    )


def test_screenshots_were_taken(session: Session) -> None:
    for name in ("chat-streamed", "inline-diff-preview", "refactor-preview"):
        png = session.artifacts / f"{name}.png"
        assert png.is_file(), f"no screenshot {png}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def _preview_view(session: Session) -> dict[str, Any]:
    view = session.facts.get("inlinePreviewView")
    assert view, "inlineEdit.test.js reported no rendered preview"
    return dict(view)


def _row_box(view: dict[str, Any], k: int) -> tuple[int, int, int, int]:
    lines, row = view["linesBox"], view["rows"][k]
    return box_of(
        {"x": lines["x"], "y": row["top"], "width": lines["width"], "height": row["height"]}
    )


def test_inline_preview_pixels(session: Session) -> None:
    """In the screenshot itself, at the places the DOM gave: the replaced lines (2 and 6) are on
    a red background, their ghost text on a green one, the other lines on the editor's own."""
    view = _preview_view(session)
    shot = session.artifacts / "inline-diff-preview.png"
    plain = commonest_colour(shot, _row_box(view, 0))
    assert abs(plain[0] - plain[1]) < 12 and abs(plain[1] - plain[2]) < 12, plain  # a grey
    for k in (2, 3, 4):
        assert commonest_colour(shot, _row_box(view, k)) == plain, f"row {k}"
    # Tints, whatever the theme's background: red over it raises red against green and blue;
    # the ghost text's green (the diff's olive green, drawn over the red row) raises green
    # against red and blue compared with the row around it.
    for k in (1, 5):
        row = view["rows"][k]
        red = commonest_colour(shot, box_of(row["backgrounds"][0]["box"]))
        assert red[0] - red[1] > plain[0] - plain[1] + 25, (k, red, plain)
        assert red[0] - red[2] > plain[0] - plain[2] + 25, (k, red, plain)
        (ghost,) = [s for s in row["spans"] if s["text"].startswith("→")]
        green = commonest_colour(shot, box_of(ghost["box"]))
        assert green[1] - green[0] > red[1] - red[0] + 8, (k, green, red)
        assert green[1] - green[2] > red[1] - red[2] + 10, (k, green, red)


@pytest.mark.parametrize("name", ["inline-diff-preview", "chat-streamed", "refactor-preview"])
def test_screenshot_matches_its_reference(session: Session, name: str) -> None:
    """The editor (inline preview), the chat view or the Refactor Preview panel, cut out of the
    screenshot, against the committed reference (references/NAME.png): at most 1 % of the pixels
    may differ by more than 32 in a channel. KIMI_LSP_UPDATE_REFERENCES=1 writes new references
    (look at them first)."""
    if name == "inline-diff-preview":
        region, masks = _preview_view(session)["box"], []
    elif name == "refactor-preview":
        region, masks = session.facts.get("refactorPreviewBox"), []
    else:
        chat = session.facts.get("chatView") or {}
        region, masks = chat.get("box"), chat.get("masks", [])
    assert region, f"the suite reported no region for {name}"
    result = compare_with_reference(
        session.artifacts / f"{name}.png",
        name,
        box_of(region),
        masks=tuple(box_of(m) for m in masks),
        out=session.artifacts,
    )
    print(f"\n{name}: {result.differing:.4%} of {result.size} differ; diff {result.diff_image}")
    assert result.matches, (
        f"{name} differs from references/{name}.png: {result.differing:.2%} of the pixels are "
        f"off by more than {CHANNEL_THRESHOLD} (tolerance {TOLERANCE:.0%}), size {result.size} "
        f"vs {result.reference_size}; see {result.diff_image} (white = differs) and "
        f"{name}.crop.png in {session.artifacts}; {UPDATE_ENV}=1 accepts a wanted change"
    )


def test_the_key_reaches_the_api_only(session: Session, fake: FakeKimi) -> None:
    """The key set through kimi-lsp.setApiKey (SecretStorage) is what the server sends, and
    it is written nowhere: settings, output channel, LSP trace, VS Code's logs, the workspace."""
    chats = fake.chat_requests
    assert chats, "the fake API received no chat request"
    headers = {r.headers.get("authorization") for r in chats}
    assert headers == {f"Bearer {session.key}"}
    assert session.facts.get("logText"), "the suite did not report the output channel's text"
    assert session.key not in session.facts["logText"]
    searched = [session.user_data, session.workspace, session.root / "home", session.logs]
    hits = []
    for folder in searched:
        for path in folder.rglob("*"):
            if path.is_file() and session.key.encode() in path.read_bytes():
                hits.append(str(path.relative_to(session.root)))
    assert hits == [], f"the API key was written to {hits}"
    # The files searched include the LSP trace: it went to the output channel's log.
    traced = [
        p
        for p in session.user_data.rglob("*.log")
        if "kimi/status" in p.read_text(errors="replace")
    ]
    assert traced, "no output-channel log with the LSP trace (kimi.trace.server) was searched"


def test_secret_files_never_reach_the_api(session: Session, fake: FakeKimi) -> None:
    bodies = [r.raw_body.decode("utf-8", "replace") for r in fake.chat_requests]
    assert bodies and not [b for b in bodies if DOTENV_SECRET in b]


def test_stop_closed_the_upstream_stream(session: Session, fake: FakeKimi) -> None:
    """What the fake saw of api.chat.stop(): the slow answer's stream closed by the client,
    long before its end, and the next question answered in full."""
    asked = [
        r
        for r in fake.chat_requests
        if "Write a long answer." in json.dumps(r.body["messages"][-1])
    ]
    assert [r.outcome for r in asked] == ["client_disconnected"]
    assert asked[0].events_sent < 250
    assert fake.stats.streams_client_closed >= 1
    after = [r for r in fake.chat_requests if r.seq > asked[0].seq]
    assert after and after[0].outcome == "completed"


def test_refactor_preview_report(session: Session) -> None:
    """VS Code lists the refactor's changes (needsConfirmation) unchecked: printed for people,
    and the preview listed both files."""
    rows = session.facts.get("refactorPreviewRows", [])
    print(f"\nrefactor preview rows: {rows}")
    print(f"checked when shown: {session.facts.get('refactorPreviewCheckedAtFirst')}")
    assert any("config.py" in r for r in rows) and any("app.py" in r for r in rows)


def test_editor_definitions_reached_the_server(session: Session) -> None:
    """What the server made of the TypeScript definitions the extension sent with kimi/context
    (the suite asserted what was sent), and how long the lookups took (the extension's trace)."""
    print("\neditor definitions lookups:")
    for line in session.facts.get("editorDefinitionsTrace", []):
        print(f"  {line}")
    sections = session.facts.get("contextManifestDefinitions")
    print(f"manifest definition sections: {sections}")
    print(f"manifest excluded: {session.facts.get('contextManifestExcluded')}")
    assert session.facts.get("editorDefinitionsTrace"), "the suite reported no lookup"
    assert sections is not None, "the suite reported no kimi/context manifest"
    # The server packed both spans the editor located in ts/util.ts, each named with its reason.
    located = sorted(
        (s["range"]["start"]["line"], s["reason"])
        for s in sections
        if s["uri"].endswith("/ts/util.ts") and "editor" in s["reason"]
    )
    assert [line for line, _ in located] == [0, 4], sections
    assert "computeTotal" in located[0][1] and "Basket" in located[1][1], located


def test_the_fallback_key_reaches_its_endpoint_only(
    session: Session, fake: FakeKimi, fallback_fake: FakeKimi, fallback_key: str
) -> None:
    """The key stored with 'Kimi: Set API Key for an Endpoint…' went to the fallback endpoint
    (and only its key went there), never to the primary; the key whose host the suite refused
    went nowhere; neither is written anywhere."""
    served = fallback_fake.chat_requests
    assert served, "the fallback endpoint received no chat request"
    assert {r.headers.get("authorization") for r in served} == {f"Bearer {fallback_key}"}
    assert not [r for r in fake.requests if fallback_key in str(r.headers)]
    # The key whose host was refused reached no endpoint.
    assert not [r for r in fake.requests + fallback_fake.requests if REFUSED_KEY in str(r.headers)]
    hits = []
    for folder in (session.user_data, session.workspace, session.root / "home", session.logs):
        for path in folder.rglob("*"):
            data = path.read_bytes() if path.is_file() else b""
            if fallback_key.encode() in data or REFUSED_KEY.encode() in data:
                hits.append(str(path.relative_to(session.root)))
    assert hits == [], f"the endpoint key was written to {hits}"
    print(f"\nstatus bar with the fallback: {session.facts.get('fallbackStatusBar')!r}")
    print(f"status bar after the primary: {session.facts.get('primaryStatusBar')!r}")
