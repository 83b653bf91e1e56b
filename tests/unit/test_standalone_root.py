"""The command line's workspace root: the git root, unless that repository ignores the file."""

from __future__ import annotations

from pathlib import Path

from kimi_lsp.context.standalone import source_root, workspace_root


def _repo(tmp_path: Path, ignore: str) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text(ignore)
    return tmp_path


def _file(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_tracked_file_is_rooted_at_its_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "build/\n")
    mod = _file(repo / "src" / "pkg" / "mod.py")
    _file(repo / "src" / "pkg" / "__init__.py", "")
    assert workspace_root(mod) == repo


def test_an_ignored_python_file_is_rooted_above_its_outermost_package(tmp_path: Path) -> None:
    # pyenv's clone ignores versions/: the standard library inside it is no part of that repo
    repo = _repo(tmp_path, "/versions\n")
    lib = repo / "versions" / "3.11" / "lib" / "python3.11"
    _file(lib / "asyncio" / "__init__.py", "")
    tasks = _file(lib / "asyncio" / "tasks.py", "from . import futures\n")
    _file(lib / "asyncio" / "futures.py")
    assert workspace_root(tasks) == lib
    assert source_root(tasks) == lib


def test_an_ignored_file_of_another_language_is_rooted_at_its_directory(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "vendor/\n")
    script = _file(repo / "vendor" / "lib" / "index.js", "export const a = 1;\n")
    assert workspace_root(script) == repo / "vendor" / "lib"


def test_a_secret_or_excluded_file_keeps_the_repository_root(tmp_path: Path) -> None:
    # secret files are refused later with their own reason; re-rooting would not change that
    repo = _repo(tmp_path, "")
    env = _file(repo / "app" / ".env", "TOKEN=abc\n")
    assert workspace_root(env) == repo
    other = _file(repo / "gen" / "out.py")
    assert workspace_root(other, exclude=["gen/"]) == repo


def test_without_a_repository_the_files_directory_is_the_root(tmp_path: Path) -> None:
    mod = _file(tmp_path / "loose" / "mod.py")
    assert workspace_root(mod) == tmp_path / "loose"
