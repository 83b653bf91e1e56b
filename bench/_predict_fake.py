"""The fake model of bench/predict.py: answers the true continuation, or the regions renamed."""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.fake_kimi import Reply  # noqa: E402

from _predict_corpus import GhostCase, RenameCase  # noqa: E402

CONTINUATION_CHARS = 2_000  # the true continuation is cut after this many characters
CURSOR = "<|cursor|>"
REGION = re.compile(r"<\|region (\d+)\|>\n(.*?)<\|/region \1\|>", re.DOTALL)
REGION_PREFIX = "<|region 1|>\n"
# Answers stream in a few chunks cut at line ends, 1 ms apart, as a model streams: what the
# server makes of an answer must not depend on how it arrived.
CHUNKS = 4
CHUNK_DELAY_S = 0.001


def streamed(text: str) -> Reply:
    """`text` as a stream of up to CHUNKS chunks, each ending at a line end."""
    lines = text.splitlines(keepends=True)
    size = max(1, -(-len(lines) // CHUNKS))
    chunks = ["".join(lines[i : i + size]) for i in range(0, len(lines), size)]
    return Reply(content=chunks or "", chunk_delay=CHUNK_DELAY_S if len(chunks) > 1 else 0.0)


def assistant_prefix(body: dict[str, Any]) -> str | None:
    """The continued assistant text of a prefix request (any of the fake's prefix forms)."""
    if isinstance(body.get("prefix"), str):
        return str(body["prefix"])
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") == "assistant" and (last.get("partial") or last.get("prefix")):
        content = last.get("content")
        return content if isinstance(content, str) else ""
    return None


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))
    return ""


@dataclass
class Seen:
    """What the fake noticed about one request."""

    kind: str
    prefix_ok: bool = True  # the ghost-text prefix is the document's text up to the cursor
    regions: int = 0
    regions_found: int = 0  # regions located in the document (whole lines of it)
    cursor_marked: bool = False


@dataclass
class Answerer:
    """The fake's default reply; the bench sets the case before each request."""

    ghost: GhostCase | None = None
    rename: RenameCase | None = None
    fixed: str = ""  # answered when no case is set
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_ghost(self, case: GhostCase | None) -> None:
        with self.lock:
            self.ghost, self.rename = case, None

    def set_rename(self, case: RenameCase | None) -> None:
        with self.lock:
            self.ghost, self.rename = None, case

    def set_fixed(self, text: str) -> None:
        with self.lock:
            self.ghost, self.rename, self.fixed = None, None, text

    def take(self) -> list[Seen]:
        with self.lock:
            seen, self.seen = self.seen, []
        return seen

    def __call__(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            ghost, rename, fixed = self.ghost, self.rename, self.fixed
        if ghost is not None:
            reply, seen = answer_ghost(ghost, body)
        elif rename is not None:
            reply, seen = answer_rename(rename, body)
        else:
            reply, seen = Reply(content=fixed), Seen("fixed")
        with self.lock:
            self.seen.append(seen)
        return reply


def answer_ghost(case: GhostCase, body: dict[str, Any]) -> tuple[Reply, Seen]:
    prefix = assistant_prefix(body)
    before = case.text[: case.cut]
    ok = prefix is not None and before.endswith(prefix)
    truth = case.text[case.cut : case.cut + CONTINUATION_CHARS]
    return streamed(truth), Seen("ghost", prefix_ok=ok)


def _locate(lines: list[str], region: list[str], near: int) -> int | None:
    """The first line of `region` in `lines` (the match nearest to line `near`)."""
    if not region:
        return None
    hits = [
        i
        for i in range(len(lines) - len(region) + 1)
        if lines[i] == region[0] and lines[i : i + len(region)] == region
    ]
    return min(hits, key=lambda i: abs(i - near)) if hits else None


def answer_rename(case: RenameCase, body: dict[str, Any]) -> tuple[Reply, Seen]:
    """Every region of the last user message rewritten with the rename applied."""
    current = case.after_user_edit.split("\n")
    truth = case.truth.split("\n")
    user = last_user_text(body)
    seen = Seen("rename", cursor_marked=CURSOR in user)
    parts = []
    for match in REGION.finditer(user):
        number, text = match.group(1), match.group(2).replace(CURSOR, "")
        lines = text.split("\n")
        trailing = text.endswith("\n")
        if trailing:
            lines.pop()
        seen.regions += 1
        start = _locate(current, lines, case.first_line - 1)
        if start is not None:
            seen.regions_found += 1
            lines = truth[start : start + len(lines)]
        rewritten = "\n".join(lines) + ("\n" if trailing else "")
        parts.append(f"<|region {number}|>\n{rewritten}<|/region {number}|>\n")
    answer = "".join(parts)
    if assistant_prefix(body) == REGION_PREFIX and answer.startswith(REGION_PREFIX):
        answer = answer[len(REGION_PREFIX) :]
    return streamed(answer), seen
