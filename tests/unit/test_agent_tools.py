"""The agent's overlay, confinement and tools on a temporary workspace (no model involved)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from kimi_lsp.agent.overlay import Overlay
from kimi_lsp.agent.schemas import SPECS
from kimi_lsp.agent.tools import MAX_READ_CHARS, ToolBox, glob_matcher
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.tokens.counter import TokenCounter

API_KEY = "sk-test-fake-0123456789"
OUTSIDE_TEXT = "root:x:0:0:outside-secret-line"


def make_workspace(tmp_path: Path) -> tuple[ContextEngine, Path]:
    """A workspace with code, docs, a secret, an ignored dir, a binary and a symlink out."""
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(OUTSIDE_TEXT + "\n")
    files = {
        "src/config.py": "class Config:\n    debug = False\n",
        "src/app.py": "from config import Config\n\ncfg = Config()\nother = Config()\n",
        "docs/guide.md": "Create a `Config` first.\n",
        ".env": "DB_PASSWORD=env-secret-value-42\n",
        ".gitignore": "build/\n",
        "build/out.py": "ignored = True\n",
        "keyed.py": f"KEY = '{API_KEY}'\nOTHER = 1\n",
    }
    for rel, text in files.items():
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (ws / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    os.symlink(outside / "passwd", ws / "link_out")
    os.symlink(outside, ws / "dir_out")
    engine = ContextEngine(TokenCounter())
    engine.configure([ws], [], 1_000_000)
    engine.build_index()
    return engine, ws


def make_toolbox(engine: ContextEngine, **kw: object) -> ToolBox:
    def base(rel: str) -> str | None:
        path = engine.path_of(rel)
        return None if path is None else engine.index.read_text(path)

    return ToolBox(engine, Overlay(base), API_KEY, **kw)  # type: ignore[arg-type]


@pytest.fixture
def box(tmp_path: Path) -> ToolBox:
    return make_toolbox(make_workspace(tmp_path)[0])


def call(box: ToolBox, name: str, **args: object) -> str:
    return box.dispatch(name, json.dumps(args))


def test_overlay_tracks_originals_creations_and_reads() -> None:
    disk = {"a.py": "one\n"}
    overlay = Overlay(disk.get)
    assert overlay.read("a.py") == "one\n" and not overlay.was_read("a.py")
    overlay.write("a.py", "two\n")
    overlay.write("a.py", "three\n")
    overlay.create("new.py", "fresh\n")
    with pytest.raises(FileExistsError):
        overlay.create("a.py", "x")
    with pytest.raises(FileExistsError):
        overlay.create("new.py", "x")
    with pytest.raises(FileNotFoundError):
        overlay.write("missing.py", "x")
    assert overlay.changed() == {"a.py": ("one\n", "three\n"), "new.py": (None, "fresh\n")}
    assert disk == {"a.py": "one\n"}  # never written through
    assert overlay.was_read("new.py") and overlay.created() == ["new.py"]
    overlay.write("a.py", "one\n")  # back to the original: no change left
    assert "a.py" not in overlay.changed()


def test_schemas_follow_the_strict_subset() -> None:
    box = ToolBox.__new__(ToolBox)
    box.names = tuple(SPECS)
    tools = ToolBox.schemas(box)
    assert 0 < len(tools) <= 128
    for tool in tools:
        function = tool["function"]
        assert re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9-_]{2,63}", function["name"])
        params = function["parameters"]
        assert params["type"] == "object"
        for prop in params["properties"].values():
            assert "type" in prop and "format" not in prop and "title" not in prop
        assert set(params["required"]) <= set(params["properties"])


def test_read_file_numbers_lines_and_marks_read(box: ToolBox) -> None:
    answer = call(box, "read_file", path="src/app.py", start_line=3, end_line=4)
    assert answer.splitlines() == [
        "src/app.py (lines 3-4 of 4)",
        "    3| cfg = Config()",
        "    4| other = Config()",
    ]
    assert box.overlay.was_read("src/app.py")
    assert call(box, "read_file", path="./src/../src/app.py").startswith("Error: '..'")


def test_read_file_is_capped_with_a_note(tmp_path: Path) -> None:
    engine, ws = make_workspace(tmp_path)
    (ws / "big.py").write_text("".join(f"line_{i} = {'x' * 80}\n" for i in range(2000)))
    box = make_toolbox(engine)
    answer = call(box, "read_file", path="big.py")
    assert len(answer) < MAX_READ_CHARS + 500
    note = re.search(r"call read_file with start_line=(\d+)\]$", answer)
    assert note is not None
    rest = call(box, "read_file", path="big.py", start_line=int(note.group(1)))
    assert rest.splitlines()[1].lstrip().startswith(f"{note.group(1)}| line_")


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../../etc/passwd", "'..'"),
        ("/etc/passwd", "absolute"),
        ("~/.ssh/id_rsa", "absolute"),
        ("link_out", "outside the workspace"),
        ("dir_out/passwd", "outside the workspace"),
        (".env", "secret"),
        ("build/out.py", "cannot be used"),
        ("blob.bin", "binary"),
        ("nope.py", "no such file"),
        ("src", "directory"),
    ],
)
def test_hostile_and_invalid_paths_are_refused(box: ToolBox, path: str, why: str) -> None:
    answer = call(box, "read_file", path=path)
    assert answer.startswith("Error:") and why in answer
    assert OUTSIDE_TEXT not in answer and "env-secret-value" not in answer
    assert call(box, "replace_in_file", path=path, old="a", new="b").startswith("Error:")
    created = call(box, "create_file", path=path, content="pwned")
    assert created.startswith("Created" if path == "nope.py" else "Error:")
    assert set(box.overlay.changed()) <= {"nope.py"}


def test_search_is_literal_or_regex_redacted_and_globbed(box: ToolBox) -> None:
    hits = call(box, "search", pattern="Config()").splitlines()
    assert hits == ["src/app.py:3: cfg = Config()", "src/app.py:4: other = Config()"]
    regex = call(box, "search", pattern=r"class \w+:", regex=True)
    assert regex == "src/config.py:1: class Config:"
    assert call(box, "search", pattern="Config", glob="*.md") == (
        "docs/guide.md:1: Create a `Config` first."
    )
    assert call(box, "search", pattern="(", regex=True).startswith("Error: invalid regular")
    assert "more matches" in call(box, "search", pattern="Config", limit=1)
    keyed = call(box, "search", pattern="KEY")
    assert API_KEY not in keyed and "[REDACTED:" in keyed
    assert "env-secret-value" not in call(box, "search", pattern="PASSWORD")
    assert call(box, "search", pattern="ignored = True").startswith("No matches")
    assert API_KEY not in call(box, "read_file", path="keyed.py")


def test_list_files_globs_and_hides_what_may_not_be_read(box: ToolBox) -> None:
    listed = call(box, "list_files").splitlines()
    assert "src/app.py" in listed and "docs/guide.md" in listed
    assert not {".env", "build/out.py", "link_out"} & set(listed)
    assert call(box, "list_files", glob="src/**").splitlines() == ["src/app.py", "src/config.py"]
    assert glob_matcher("**/*.{py,md}")("docs/guide.md")
    assert not glob_matcher("src/*.py")("src/deep/x.py")


def test_replace_needs_a_read_and_a_unique_match(box: ToolBox) -> None:
    edit = {"path": "src/app.py", "old": "Config()", "new": "Settings()"}
    assert "read src/app.py with read_file before editing" in call(box, "replace_in_file", **edit)
    call(box, "read_file", path="src/app.py")
    assert "occurs 2 times" in call(box, "replace_in_file", **edit)
    assert "not found" in call(box, "replace_in_file", path="src/app.py", old="Nope", new="x")
    answer = call(box, "replace_in_file", replace_all=True, **edit)
    assert answer.startswith("Edited src/app.py: replaced 2 occurrence(s); changed line(s) 3-4;")
    old, new = box.overlay.changed()["src/app.py"]
    assert old is not None and "Config()" in old and new.count("Settings()") == 2
    # The model now reads the overlay's text, not the disk's.
    assert "Settings()" in call(box, "read_file", path="src/app.py")


def test_create_file_and_edit_scope(tmp_path: Path) -> None:
    engine, ws = make_workspace(tmp_path)
    box = make_toolbox(engine, edit_scope={"src/new.py"})
    assert "outside this task" in call(box, "create_file", path="src/other.py", content="x")
    assert call(box, "create_file", path="src/new.py", content="a = 1\n").startswith("Created")
    assert "already exists" in call(box, "create_file", path="src/new.py", content="b")
    assert "src/new.py" in call(box, "list_files", glob="src/*.py")
    call(box, "read_file", path="src/app.py")
    edit = {"path": "src/app.py", "old": "cfg", "new": "c"}
    assert "outside this task" in call(box, "replace_in_file", **edit)
    assert box.overlay.changed() == {"src/new.py": (None, "a = 1\n")}
    assert not (ws / "src/new.py").exists()
    free = make_toolbox(engine)
    assert "secret" in call(free, "create_file", path="config/.env", content="x")
    assert "cannot be created" in call(free, "create_file", path="build/x.py", content="x")


def test_dispatch_answers_bad_calls_with_errors(box: ToolBox) -> None:
    assert box.dispatch("read_file", '{"path": "src/app.py"').startswith("Error: the arguments")
    assert box.dispatch("read_file", "[1]").startswith("Error: the arguments of read_file must")
    assert box.dispatch("read_file", "{}") == "Error: read_file needs the argument 'path' (string)"
    assert box.dispatch("run_shell", '{"cmd": "ls"}').startswith("Error: unknown tool 'run_shell'")
    assert "no argument 'bogus'" in box.dispatch("list_files", '{"bogus": 1}')
    assert "must be a integer" in box.dispatch("read_file", '{"path": "a", "start_line": "x"}')
    # Lenient about numbers given as strings.
    assert box.dispatch("read_file", '{"path": "src/app.py", "start_line": "2"}').startswith(
        "src/app.py (lines 2-4"
    )


def test_read_only_toolbox_offers_no_edits(tmp_path: Path) -> None:
    box = make_toolbox(make_workspace(tmp_path)[0], read_only=True)
    names = [tool["function"]["name"] for tool in box.schemas()]
    assert names == ["list_files", "read_file", "search"]
    assert call(box, "create_file", path="x.py", content="").startswith("Error: unknown tool")
