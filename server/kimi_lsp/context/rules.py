"""Project rules: AGENTS.md from the workspace root down to the current file, and .kimi/rules.md."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .builder import Packer  # builder imports this module; only the type is needed

AGENTS_FILE = "AGENTS.md"  # the instructions users keep for coding agents, per directory
KIMI_RULES_FILE = ".kimi/rules.md"  # kimi-lsp's own, at the workspace root
MAX_RULES_TOKENS = 2_000  # all rule files together, at most
RULES_SHARE = 0.125  # and at most this share of the budget (a 4K prediction keeps most of it)
MIN_SECTION_TOKENS = 64  # below this a rules block is not worth its header


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One rule file as read for a request: its path from its root, its URI and text."""

    rel: str
    uri: str
    text: str


def rule_paths(directory: str) -> list[str]:
    """The rule files for a file in `directory` (relative to its root, "" for the root), as
    paths from the root in the order they are packed, which decides who keeps its place under
    the cap: kimi-lsp's own file, then the nearest AGENTS.md up to the root's. (The prompt
    shows them by path, the root's first, as it sorts every stable section.)"""
    parts = [part for part in directory.split("/") if part]
    nested = ["/".join(parts[:depth]) + "/" + AGENTS_FILE for depth in range(len(parts), 0, -1)]
    return [KIMI_RULES_FILE, *nested, AGENTS_FILE]


class RuleIndex(Protocol):
    """The part of the workspace index the rules use."""

    @property
    def roots(self) -> list[Path]: ...
    def root_of(self, path: Path) -> Path | None: ...
    def check(self, path: Path) -> str | None: ...  # why it may not be used (None: it may)


def read_rules(
    index: RuleIndex, current: Path | None, read: Callable[[Path], tuple[str, str] | None]
) -> list[RuleFile]:
    """The rule files for a request about `current` (a file's path; None: no file), in the
    order of `rule_paths`. A file outside the workspace, or no file, gets each root's rules.

    A rule file the index refuses is not read (missing, ignored by .gitignore, .kimiignore or
    the exclude setting, secret, too large, binary). `read` gives an allowed file's (name in
    the manifest, text) as the request sees it (the editor's unsaved text first), or None."""
    root = index.root_of(current) if current is not None else None
    if root is not None and current is not None:
        places = [(root, _directory(root, current))]
    else:
        places = [(base, "") for base in index.roots]
    files: list[RuleFile] = []
    for base, directory in places:
        for rel in rule_paths(directory):
            path = base / rel
            if index.check(path) is not None:
                continue
            found = read(path)
            if found is not None:
                files.append(RuleFile(found[0], path.as_uri(), found[1]))
    return files


def _directory(root: Path, current: Path) -> str:
    """`current`'s directory relative to `root` ("" when it is the root or not under it)."""
    for candidate in (current, current.resolve()):
        try:
            directory = candidate.parent.relative_to(root).as_posix()
        except ValueError:
            continue
        return "" if directory == "." else directory
    return ""


def rules_cap(budget: int) -> int:
    """The most tokens all rule files together take in a request of `budget` tokens."""
    return min(MAX_RULES_TOKENS, int(budget * RULES_SHARE))


def add_rules(packer: Packer, files: Sequence[RuleFile], budget: int) -> None:
    """Pack the rule files, in order, within the rules' cap: a file that does not fit whole is
    truncated (its title says how much is shown); once the cap is spent the rest are left out,
    listed in the manifest's `excluded`. Redaction and counting are the packer's."""
    allowance = rules_cap(budget)
    for rule in files:
        if not rule.text.strip():
            continue
        if allowance < MIN_SECTION_TOKENS:
            reason = f"rules: over the {rules_cap(budget):,}-token cap for project rules"
            packer.skipped.append((rule.uri, reason))
            continue
        section = packer.add(
            "rules",
            f"Project rules: {rule.rel}",
            rule.text,
            f"project rules from {rule.rel}",
            language="markdown",
            uri=rule.uri,
            lines=(0, rule.text.count("\n") + 1),
            cap=allowance,
        )
        if section is not None:
            allowance -= section.tokens
