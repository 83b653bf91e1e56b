"""Paths that can run commands: git's own data (never touched), editor and CI configuration."""

from __future__ import annotations

import os
import unicodedata

# Code points HFS+ leaves out when it compares names (the list git's is_hfs_dotgit uses):
# there ".g\u200cit" names the same directory as ".git".
_HFS_IGNORED = frozenset(
    "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
)
# Directories whose files an editor, a shell or a hook manager may run; GitHub runs both
# workflows and the actions they use from the repository.
CONFIG_DIRS = {
    ".vscode": "VS Code settings and tasks",
    ".idea": "JetBrains project settings",
    ".devcontainer": "dev container configuration",
    ".githooks": "git hooks",
    ".husky": "git hooks",
}
CONFIG_FILES = {
    ".nvim.lua": "Neovim project configuration",
    ".nvimrc": "Neovim project configuration",
    ".exrc": "Vim project configuration",
    ".gitlab-ci.yml": "GitLab CI configuration",
    ".gitlab-ci.yaml": "GitLab CI configuration",
    ".envrc": "direnv script",
    ".pre-commit-config.yaml": "git hook configuration",
}
_GITHUB_RUNS = ("workflows", "actions")


def plain_name(name: str) -> str:
    """A name as a case-insensitive filesystem compares it: case folded, Unicode composed,
    HFS+'s ignored code points dropped, and NTFS's trailing dots and spaces and alternate
    data stream (`.git::$INDEX_ALLOCATION` is `.git`) removed."""
    name = name.split(":", 1)[0]
    name = "".join(c for c in name if c not in _HFS_IGNORED)
    return unicodedata.normalize("NFC", name).casefold().rstrip(". ")


def is_git_name(name: str) -> bool:
    """Whether a path component names git's directory (or a worktree's `.git` file) on some
    filesystem: `.git` in any case or spelling above, or its NTFS short name `GIT~1`."""
    plain = plain_name(name)
    return plain in (".git", "git~1")


def is_git_dir(directory: str) -> bool:
    """Whether a directory is a git directory by its contents, whatever its name (a bare
    repository, a submodule's or worktree's gitdir): HEAD, objects/ and refs/, as git checks."""
    return (
        os.path.isfile(os.path.join(directory, "HEAD"))
        and os.path.isdir(os.path.join(directory, "objects"))
        and os.path.isdir(os.path.join(directory, "refs"))
    )


def git_reason(root: str, path: str) -> str | None:
    """Why `path` (absolute, lexically under the real directory `root`) is in git's data, or
    None. Checked on the path as written and on its real path (a symlinked file or parent
    directory such as `tools -> .git` leads there), and every directory between the root and
    the real path is checked for being a git directory by its contents."""
    real = os.path.realpath(path)
    for candidate in (os.path.abspath(path), real):
        rel = _rel(root, candidate)
        if rel is None:
            continue
        if any(is_git_name(part) for part in rel.split("/")):
            return "it is inside a .git directory"
    rel = _rel(root, real)
    if rel:
        directory = root
        for part in rel.split("/"):
            directory = os.path.join(directory, part)
            if os.path.isdir(directory) and is_git_dir(directory):
                return "it is inside a git directory"
    return None


def config_kind(rel: str) -> str | None:
    """What editor or CI configuration a workspace-relative path is ("VS Code settings and
    tasks", ...), or None. Matched by plain name, in any directory."""
    parts = [plain_name(part) for part in rel.split("/")]
    for index, part in enumerate(parts[:-1]):
        if part in CONFIG_DIRS:
            return CONFIG_DIRS[part]
        if part == ".github" and parts[index + 1] in _GITHUB_RUNS and index + 2 < len(parts):
            return "GitHub workflow"
        if part == "hooks" and index > 0 and is_git_name(parts[index - 1]):
            return "git hooks"
    return CONFIG_FILES.get(parts[-1]) if parts else None


def config_kind_of(root: str, path: str, rel: str) -> str | None:
    """`config_kind` of the path as written and of its real path (a symlink named
    `notes.txt` may lead to `.vscode/tasks.json`)."""
    kind = config_kind(rel)
    if kind is None:
        real_rel = _rel(root, os.path.realpath(path))
        kind = config_kind(real_rel) if real_rel else None
    return kind


def _rel(root: str, p: str) -> str | None:
    if p == root:
        return ""
    if not p.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return p[len(root.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
