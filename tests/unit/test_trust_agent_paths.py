"""Issue 16, finding 3: which names are git's directory and which files are editor/CI config."""

from __future__ import annotations

import pytest

from kimi_lsp.protected_paths import config_kind, is_git_name


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
