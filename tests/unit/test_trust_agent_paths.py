"""Issue 16, finding 3: which names are git's directory and which files are editor/CI config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kimi_lsp.protected_paths import config_kind, config_kind_of, git_reason, is_git_name


@pytest.mark.parametrize(
    ("name", "git"),
    [(".git", True), (".GiT", True), (".git. ", True), ("git~1", True), (".gitignore", False)],
)
def test_git_spellings(name: str, git: bool) -> None:
    assert is_git_name(name) is git


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        (".vscode/settings.json", "VS Code settings and tasks"),
        (".VSCode/tasks.json", "VS Code settings and tasks"),
        ("pkg/.idea/workspace.xml", "JetBrains project settings"),
        (".github/workflows/ci.yml", "GitHub workflow"),
        (".GitHub/Workflows/ci.yml", "GitHub workflow"),
        (".gitlab-ci.yml", "GitLab CI configuration"),
        (".nvim.lua", "Neovim project configuration"),
        (".exrc", "Vim project configuration"),
        (".husky/pre-commit", "git hooks"),
        (".githooks/pre-push", "git hooks"),
        (".github/CODEOWNERS", None),
        ("src/vscode.py", None),
    ],
)
def test_editor_and_ci_configuration(rel: str, kind: str | None) -> None:
    assert config_kind(rel) == kind


def test_git_reason_and_config_through_real_paths(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".vscode").mkdir(parents=True)
    (ws / ".git").mkdir()
    bare = ws / "vendor" / "lib.git"
    for name in ("objects", "refs"):
        (bare / name).mkdir(parents=True)
    (bare / "HEAD").write_text("ref: refs/heads/main\n")
    os.symlink(".git", ws / "tools")
    os.symlink(".vscode", ws / "ed")
    root = str(ws)
    assert git_reason(root, str(ws / "tools" / "hooks" / "pre-commit")) is not None
    assert git_reason(root, str(ws / "vendor" / "lib.git" / "config")) is not None
    assert git_reason(root, str(ws / "src" / "app.py")) is None
    assert config_kind_of(root, str(ws / "ed" / "tasks.json"), "ed/tasks.json") is not None
    assert config_kind_of(root, str(ws / "src" / "app.py"), "src/app.py") is None
