"""What the agent's path rules tell the model, exactly, and the edges of git's and config paths.

Written against the mutants that survived the first mutation run (docs/mutation.md): every
refusal's sentence is what the model reads to correct itself, so it is asserted word for word.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kimi_lsp.agent.confine import Confinement, Refused, normalize
from kimi_lsp.agent.overlay import Overlay
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.protected_paths import config_kind, config_kind_of, git_reason, is_git_dir
from kimi_lsp.tokens.counter import TokenCounter

FILES = {
    "src/app.py": "x = 1\n",
    ".env": "A=b\n",
    ".gitignore": "build/\n",
    "build/out.py": "y = 2\n",
    ".npmrc": "registry=https://registry.example\n",
}


@pytest.fixture
def engine(tmp_path: Path) -> ContextEngine:
    ws = tmp_path / "ws"
    for rel, text in FILES.items():
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (ws / "blob.bin").write_bytes(b"\x00\x01binary")
    built = ContextEngine(TokenCounter())
    built.configure([ws], [], 1_000_000)
    built.build_index()
    return built


def disk(engine: ContextEngine) -> Overlay:
    def base(rel: str) -> str | None:
        path = engine.path_of(rel)
        return None if path is None else engine.index.read_text(path)

    return Overlay(base)


def refusal(call: object, *args: object) -> str:
    with pytest.raises(Refused) as caught:
        call(*args)  # type: ignore[operator]
    return str(caught.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("  ", "the path is empty"),
        ("a\x00b", "use a plain workspace-relative path with forward slashes"),
        ("src\\app.py", "use a plain workspace-relative path with forward slashes"),
        ("/etc/passwd", "absolute paths are not allowed: use a path relative to the workspace "
         "root (e.g. src/app.py)"),
        ("src/../../x", "'..' is not allowed: every path stays inside the workspace"),
        ("././/", "that is the workspace root, not a file"),
    ],
)  # fmt: skip
def test_normalize_says_what_is_wrong(raw: str, message: str) -> None:
    assert refusal(normalize, raw) == message


def test_normalize_drops_empty_and_dot_parts() -> None:
    assert normalize("./src//./app.py") == "src/app.py"


def test_a_path_outside_every_root_is_refused_by_name() -> None:
    class NoRoot:
        index = None

        def path_of(self, rel: str) -> Path | None:
            return None

    message = refusal(Confinement(NoRoot()).resolve, "a.py")  # type: ignore[arg-type]
    assert message == "a.py is not under a workspace root"


@pytest.mark.parametrize(
    ("rel", "message"),
    [
        (".env", ".env is a secret file (.env) and is never read"),
        ("build/out.py", "build/out.py cannot be used: ignored by .gitignore"),
        ("build", "build cannot be used: ignored by .gitignore"),
        ("src", "src is a directory: use list_files with glob 'src/**'"),
        ("blob.bin", "blob.bin cannot be used: binary file"),
        ("nope.py", "no such file: nope.py (use list_files or search to find files)"),
    ],
)
def test_read_refusals(engine: ContextEngine, rel: str, message: str) -> None:
    assert refusal(Confinement(engine).readable, rel, disk(engine)) == message


def test_an_npmrc_without_credentials_is_read(engine: ContextEngine) -> None:
    # Its name alone decides nothing: the index looks at its first bytes.
    assert Confinement(engine).readable(".npmrc", disk(engine)) == (".npmrc", FILES[".npmrc"])


def test_a_file_created_in_the_overlay_is_readable(engine: ContextEngine) -> None:
    overlay = disk(engine)
    overlay.create("new.py", "n = 1\n")
    assert Confinement(engine).readable("new.py", overlay) == ("new.py", "n = 1\n")


def test_a_file_the_overlay_cannot_read_is_unreadable(engine: ContextEngine) -> None:
    message = refusal(Confinement(engine).readable, "src/app.py", Overlay(lambda rel: None))
    assert message == "src/app.py cannot be used: unreadable"


def test_edit_scope(engine: ContextEngine) -> None:
    overlay = disk(engine)
    overlay.mark_read("src/app.py")
    scoped = Confinement(engine, edit_scope=["src/app.py"])
    assert scoped.editable("src/app.py", overlay) == ("src/app.py", FILES["src/app.py"])
    assert refusal(scoped.creatable, "zz.py", overlay) == (
        "zz.py is outside this task: you may edit only src/app.py (read others freely)"
    )
    assert refusal(Confinement(engine, edit_scope=[]).creatable, "a.py", overlay) == (
        "a.py is outside this task: you may edit only no file (read others freely)"
    )
    assert refusal(Confinement(engine).editable, "src/app.py", disk(engine)) == (
        "read src/app.py with read_file before editing it"
    )


@pytest.mark.parametrize(
    ("rel", "message"),
    [
        ("src/app.py/x.py", "src/app.py/x.py cannot be created: a parent is a file"),
        ("new/.env", "new/.env would be a secret file (.env); secret files are never written"),
        ("src/app.py", "src/app.py already exists: read it and use replace_in_file"),
    ],
)
def test_create_refusals(engine: ContextEngine, rel: str, message: str) -> None:
    assert refusal(Confinement(engine).creatable, rel, disk(engine)) == message


def test_git_dir_needs_head_objects_and_refs(tmp_path: Path) -> None:
    for present in (("HEAD",), ("HEAD", "objects"), ("HEAD", "refs"), ("objects", "refs")):
        directory = tmp_path / "-".join(present)
        directory.mkdir()
        for name in present:
            if name == "HEAD":
                (directory / name).write_text("ref: refs/heads/main\n")
            else:
                (directory / name).mkdir()
        assert not is_git_dir(str(directory)), present
        assert git_reason(str(tmp_path), str(directory / "config")) is None
    full = tmp_path / "full"
    for name in ("objects", "refs"):
        (full / name).mkdir(parents=True)
    (full / "HEAD").write_text("ref: refs/heads/main\n")
    assert is_git_dir(str(full))


def test_git_reasons_name_which_git_data(tmp_path: Path) -> None:
    bare = tmp_path / "vendor" / "lib"
    for name in ("objects", "refs"):
        (bare / name).mkdir(parents=True)
    (bare / "HEAD").write_text("ref: refs/heads/main\n")
    root = str(tmp_path)
    assert git_reason(root, str(tmp_path / ".git" / "config")) == "it is inside a .git directory"
    assert git_reason(root, str(bare / "config")) == "it is inside a git directory"
    # A root given with a trailing separator is the same root.
    assert git_reason(root + os.sep, str(tmp_path / ".git" / "config")) is not None


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        (".git/hooks/pre-commit", "git hooks"),
        ("sub/.GIT/hooks/post-merge", "git hooks"),
        ("hooks/x", None),  # a `hooks` directory that is not git's
        ("hooks/.git", None),
        ("x/.git", None),
        (".github/workflows", None),  # the directory itself, not a workflow in it
        (".github/actions", None),
    ],
)
def test_git_hooks_and_workflow_edges(rel: str, kind: str | None) -> None:
    assert config_kind(rel) == kind


def test_config_kind_of_a_path_whose_real_path_is_plain(tmp_path: Path) -> None:
    # Named like config, real path plain: still config (its name is what the editor reads).
    (tmp_path / "notes").mkdir()
    os.symlink("notes", tmp_path / ".vscode")
    path = str(tmp_path / ".vscode" / "tasks.json")
    assert config_kind_of(str(tmp_path), path, ".vscode/tasks.json") == "VS Code settings and tasks"


def test_config_kind_of_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "ws" / "out")
    root, path = str(tmp_path / "ws"), str(tmp_path / "ws" / "out" / "a.txt")
    assert config_kind_of(root, path, "out/a.txt") is None


def test_edit_scope_lists_every_allowed_file(engine: ContextEngine) -> None:
    scoped = Confinement(engine, edit_scope=["src/b.py", "src/a.py"])
    assert refusal(scoped.creatable, "zz.py", disk(engine)) == (
        "zz.py is outside this task: you may edit only src/a.py, src/b.py (read others freely)"
    )
