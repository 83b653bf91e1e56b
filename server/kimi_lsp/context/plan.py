"""The result of context building: sections with their tokens and reasons, and the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..purpose import Purpose

# Sections that change rarely go first in the prompt so the API's prefix cache can reuse them.
# Within the stable part, what changes least comes first: the project rules, the repo map and
# the import graph's neighbours; open documents and search results (which follow the cursor)
# come later, and a truncated section (its cut moves with the budget) goes last.
STABLE_KINDS = (
    "rules",
    "repo_map",
    "import",
    "importer",
    "nearby",
    "definition",
    "recent",
    "related",
)
VOLATILE_KINDS = ("outline", "current_file", "file_window", "diagnostics", "selection")


@dataclass(frozen=True, slots=True)
class Section:
    """One block of the prompt. `text` is exactly what is sent (header and body, redacted)."""

    kind: str
    text: str
    tokens: int
    reason: str
    uri: str | None = None
    lines: tuple[int, int] | None = None  # 0-based, end exclusive
    truncated: bool = False
    redactions: int = 0

    def manifest(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": self.kind,
            "tokens": self.tokens,
            "reason": self.reason,
            "truncated": self.truncated,
        }
        if self.uri is not None:
            item["uri"] = self.uri
        if self.lines is not None:
            item["range"] = {
                "start": {"line": self.lines[0], "character": 0},
                "end": {"line": self.lines[1], "character": 0},
            }
        if self.redactions:
            item["redactions"] = self.redactions
        return item


@dataclass(slots=True)
class ContextPlan:
    """What a request of `purpose` sends: fixed parts (system prompt, instruction) plus sections."""

    purpose: Purpose
    budget: int
    fixed_tokens: int
    sections: list[Section]
    excluded: list[tuple[str, str]] = field(default_factory=list)
    tokenizer: dict[str, Any] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.fixed_tokens + sum(s.tokens for s in self.sections)

    def stable(self) -> list[Section]:
        order = {kind: i for i, kind in enumerate(STABLE_KINDS)}
        chosen = [s for s in self.sections if s.kind in order]
        return sorted(
            chosen, key=lambda s: (s.truncated, order[s.kind], s.uri or "", s.lines or (0, 0))
        )

    def volatile(self) -> list[Section]:
        order = {kind: i for i, kind in enumerate(VOLATILE_KINDS)}
        chosen = [s for s in self.sections if s.kind in order]
        return sorted(chosen, key=lambda s: (order[s.kind], s.lines or (0, 0)))

    def manifest(self) -> dict[str, Any]:
        """protocol.md's kimi/context result, sections in the order they are sent."""
        return {
            "purpose": self.purpose,
            "budget": self.budget,
            "totalTokens": self.total_tokens,
            "tokenizer": self.tokenizer.get("name", "unknown"),
            "exact": bool(self.tokenizer.get("exact", False)),
            "sections": [s.manifest() for s in self.stable() + self.volatile()],
            "excluded": [{"uri": uri, "reason": reason} for uri, reason in self.excluded],
        }
