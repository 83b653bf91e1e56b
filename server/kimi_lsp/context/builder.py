"""Ranking and packing: sections in priority order, each counted, never over the budget."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..config import PROMPT_SAFETY_MARGIN
from ..purpose import Purpose
from ..tokens.counter import MESSAGE_OVERHEAD, REQUEST_OVERHEAD
from .plan import ContextPlan, Section
from .prompt import PROJECT_HEADER, REQUEST_HEADER
from .repomap import RepoMap
from .rules import RuleFile, add_rules
from .slices import Slice, without_overlaps
from .slicing import condensed, members_only
from .supporting import Supporting

# Tokens added per section for the seams between blocks: BPE merges at a seam can only
# change the count by a token or two, so this keeps the sum an upper bound of the whole.
SEAM_TOKENS = 2
SUPPORTING_FILE_SHARE = 0.25  # no single supporting file takes more of the budget than this
DEFINITION_SHARE = 0.5  # one definition slice takes at most this share of what is left
CURRENT_WINDOW_SHARE = 0.6  # a current file too big to send whole gets a window this large
MIN_WINDOW_SHARE = 0.2  # ...but no less than this when it gives way to waiting definitions
RESERVED_DEFINITIONS = 3  # the window leaves room for this many definitions (condensed)
TRUNCATE_STEP = 25  # truncated sections keep a multiple of this many lines
REPO_MAP_SHARE = 10  # the repository map takes what is left, up to 1/10 of the budget
REPO_MAP_TITLE = "Repository map"
# Estimates (4 characters a token) run this much above the count for code: left as slack.
ESTIMATE_SLACK = 0.1


class Counter(Protocol):
    def count(self, text: str) -> int: ...


class Sources(Protocol):
    """What the builder may look at; implemented over the workspace index and open documents."""

    def text(self, rel: str) -> str | None: ...  # None: excluded, binary, unreadable
    def uri(self, rel: str) -> str: ...
    def language(self, rel: str) -> str: ...
    def imports(self, rel: str, text: str, language: str) -> list[str]: ...
    def importers(self, rel: str) -> list[str]: ...
    def related(self, query: str, limit: int, exclude: set[str]) -> list[tuple[str, float]]: ...
    def nearby(self, rel: str | None) -> list[str]: ...
    def outline(self, rel: str, text: str, language: str) -> str: ...
    def repo_map(self, max_chars: int, request: ContextRequest) -> RepoMap: ...
    def excluded(self) -> list[tuple[str, str]]: ...
    def definitions(self, request: ContextRequest) -> list[Slice]: ...
    def rules(self, request: ContextRequest) -> list[RuleFile]: ...


@dataclass(frozen=True, slots=True)
class OpenDocument:
    uri: str
    rel: str | None
    text: str
    language: str


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """A snapshot of what the user is doing, taken on the event loop."""

    purpose: Purpose
    instruction: str
    system_prompt: str
    current: OpenDocument | None = None
    selection: tuple[int, int] | None = None  # offsets into current.text
    cursor_line: int | None = None
    diagnostics: tuple[str, ...] = ()
    recent: tuple[OpenDocument, ...] = ()
    reserved_tokens: int = 0  # e.g. chat history, counted by the caller
    secret_reason: str | None = None  # the current document is a secret file
    # Definitions the editor's other language servers located, read and checked by the
    # caller: packed first (`Sources.definitions` adds the ones resolved here).
    definitions: tuple[Slice, ...] = ()


def budget_for(context_window: int, max_output_tokens: int) -> int:
    """protocol.md: contextWindow − maxOutputTokens − the safety margin."""
    return max(0, context_window - max_output_tokens - PROMPT_SAFETY_MARGIN)


_BACKTICKS = re.compile(r"`{3,}")


def fence_for(text: str) -> str:
    """A fence longer than any run of backticks inside `text`."""
    if "```" not in text:
        return "```"
    longest = max(len(run) for run in _BACKTICKS.findall(text))
    return "`" * (longest + 1)


def render_block(title: str, body: str, language: str = "") -> str:
    fence = fence_for(body)
    newline = "" if body.endswith("\n") or not body else "\n"
    return f"## {title}\n{fence}{language}\n{body}{newline}{fence}"


def line_span(text: str, start: int, end: int) -> tuple[int, int]:
    """0-based line range (end exclusive) covering offsets [start, end)."""
    first = text.count("\n", 0, start)
    last = text.count("\n", 0, max(start, end - 1)) + 1
    return first, last


def fixed_overhead(counter: Counter, system_prompt: str, instruction: str, reserved: int) -> int:
    return (
        REQUEST_OVERHEAD
        + 2 * MESSAGE_OVERHEAD
        + counter.count(system_prompt + PROJECT_HEADER)
        + counter.count(REQUEST_HEADER + "\n\n" + instruction)
        + reserved
        + 2 * SEAM_TOKENS
    )


@dataclass(slots=True)
class Packer:
    counter: Counter
    redact: Callable[[str], tuple[str, int]]
    remaining: int
    sections: list[Section] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    known: dict[str, int] = field(default_factory=dict)  # counts already known
    started: dict[str, Callable[[], int]] = field(default_factory=dict)  # counts under way
    rendered: dict[tuple[str, str], tuple[str, int, str]] = field(default_factory=dict)

    def render(self, title: str, body: str, language: str) -> tuple[str, int, str]:
        """(redacted body, redactions, block text), memoised for start-then-add."""
        key = (title, body)
        hit = self.rendered.get(key)
        if hit is None:
            clean, redactions = self.redact(body)
            hit = (clean, redactions, render_block(title, clean, language))
            self.rendered[key] = hit
        return hit

    def _count(self, text: str) -> int:
        known = self.known.get(text)
        if known is None:
            waiting = self.started.pop(text, None)
            known = waiting() if waiting is not None else self.counter.count(text)
            self.known[text] = known
        return known

    def start(self, text: str) -> None:
        """Begin counting a block the packer will look at soon: on the counter's threads when
        it can (tiktoken releases the GIL, so rendering goes on meanwhile), else right now."""
        if text in self.known or text in self.started:
            return
        start = getattr(self.counter, "start", None)
        if start is not None:
            self.started[text] = start(text)
        else:
            self.known[text] = self.counter.count(text)

    def fits_estimate(self, text: str) -> bool:
        # A token is at most ~8 bytes of ordinary text: a cheap lower bound of the count.
        return len(text) // 8 <= self.remaining

    def fits(self, title: str, body: str, language: str, cap: int) -> bool:
        """Would the block go whole within `cap` and what is left?"""
        text = self.render(title, body, language)[2]
        limit = min(cap, self.remaining)
        return self.fits_estimate(text) and self._count(text) + SEAM_TOKENS <= limit

    def add(
        self,
        kind: str,
        title: str,
        body: str,
        reason: str,
        *,
        language: str = "",
        uri: str | None = None,
        lines: tuple[int, int] | None = None,
        cap: int | None = None,
        truncatable: bool = True,
    ) -> Section | None:
        """Add a block if it fits (within `cap` too); else truncate it by lines, or skip it."""
        body, redactions, text = self.render(title, body, language)
        limit = self.remaining if cap is None else min(cap, self.remaining)
        if self.fits_estimate(text):
            tokens = self._count(text) + SEAM_TOKENS
            if tokens <= limit:
                return self._keep(
                    Section(kind, text, tokens, reason, uri, lines, False, redactions)
                )
        if not truncatable or limit < 64:
            if uri:
                self.skipped.append((uri, f"{kind}: does not fit the remaining budget"))
            return None
        return self._truncated(kind, title, body, reason, language, uri, lines, limit, redactions)

    def _truncated(
        self,
        kind: str,
        title: str,
        body: str,
        reason: str,
        language: str,
        uri: str | None,
        lines: tuple[int, int] | None,
        limit: int,
        redactions: int,
    ) -> Section | None:
        body_lines = body.splitlines(keepends=True)
        keep = len(body_lines)
        text, tokens = "", limit + 1
        for _ in range(6):  # shrink proportionally; converges in two or three counts
            keep = max(0, min(keep, int(keep * limit / max(tokens, 1) * 0.97)))
            # Whole blocks of lines: a cut that moves by a line with every keystroke would
            # break the prompt-cache prefix after this section.
            keep -= keep % TRUNCATE_STEP if keep > TRUNCATE_STEP else 0
            if keep == 0:
                break
            shown = "".join(body_lines[:keep])
            note = f" (first {keep} of {len(body_lines)} lines)"
            text = render_block(title + note, shown, language)
            tokens = self._count(text) + SEAM_TOKENS
            if tokens <= limit:
                # An outline's lines are not the file's: it carries no range, cut or not.
                kept = (lines[0], lines[0] + keep) if lines else None
                return self._keep(Section(kind, text, tokens, reason, uri, kept, True, redactions))
        if uri:
            self.skipped.append((uri, f"{kind}: does not fit the remaining budget"))
        return None

    def _keep(self, section: Section) -> Section:
        self.sections.append(section)
        self.remaining -= section.tokens
        if section.uri:
            self.used.add(section.uri)
        return section


def build_plan(
    request: ContextRequest,
    sources: Sources,
    counter: Counter,
    redact: Callable[[str], tuple[str, int]],
    budget: int,
    tokenizer: dict[str, object] | None = None,
) -> ContextPlan:
    """Pack sections in priority order; lower priorities are truncated or dropped first."""
    packer = Packer(counter, redact, 0)
    current = request.current
    shown = current is not None and not request.secret_reason
    if current is not None and shown:
        # Count the whole current file first (the counting threads idle until then), while
        # everything else is read and rendered.
        packer.start(packer.render(_current_title(current), current.text, current.language)[2])
    fixed = fixed_overhead(
        counter, request.system_prompt, request.instruction, request.reserved_tokens
    )
    if fixed > budget:
        raise OverflowError(
            f"The instruction and conversation need {fixed} tokens, more than the {budget} "
            "the context window leaves: shorten the instruction or start a new conversation."
        )
    packer.remaining = budget - fixed
    if current is not None and request.selection is not None and not request.secret_reason:
        _selection(packer, request, current)  # a secret file's selection is never sent
    add_rules(packer, sources.rules(request), budget)  # AGENTS.md and .kimi/rules.md, capped
    supporting = Supporting(packer, request, sources, budget)
    room = packer.remaining - (len(current.text) // 4 if current and shown else 0)
    supporting.prefetch(room)  # the imports' counts start now when they all fit anyway
    # What the cursor uses, resolved first: it also orders the imports (used modules first).
    resolved = [] if request.secret_reason else sources.definitions(request)
    waiting = _waiting(request, resolved)
    supporting.order(resolved)
    supporting.fill(room)
    early_map = _likely_map(packer, sources, request, budget, room, supporting.estimate)
    outside = sources.excluded()  # now, while the counts started so far are still running
    if current is not None:
        if request.secret_reason:
            packer.skipped.append((current.uri, request.secret_reason))
        else:
            _current_file(packer, request, current, sources, budget, _reserve(waiting))
    _definitions(packer, waiting)
    if request.diagnostics:
        packer.add("diagnostics", "Diagnostics", "\n".join(request.diagnostics), "in range")
    supporting.fill(packer.remaining)  # the current file may have taken less than guessed
    supporting.pack(int(budget * SUPPORTING_FILE_SHARE))
    supporting.left_out()
    _repo_map(packer, sources, request, budget, early_map)
    excluded = sorted(set(outside + packer.skipped))
    return ContextPlan(
        request.purpose, budget, fixed, packer.sections, excluded, dict(tokenizer or {})
    )


def _likely_map(
    packer: Packer, sources: Sources, request: ContextRequest, budget: int, room: int, taken: int
) -> tuple[int, RepoMap] | None:
    """The repository map at its full share, its count started now, when what the supporting
    files take (`taken` estimated of `room`) leaves it that much: it is then usually the map
    that goes in last, and counted by then (not at the end, while nothing else is left to do).
    A wrong guess costs a map and a count of 1/10 of the budget."""
    share = budget // REPO_MAP_SHARE
    if share * 3 <= 200 or room - taken * (1 - ESTIMATE_SLACK) < share:
        return None
    chars = share * 3
    repo = sources.repo_map(chars, request)  # ranked around the request's files
    if repo.text:
        packer.start(packer.render(REPO_MAP_TITLE, repo.text, "")[2])
    return chars, repo


def _repo_map(
    packer: Packer,
    sources: Sources,
    request: ContextRequest,
    budget: int,
    early: tuple[int, RepoMap] | None,
) -> None:
    """The repository map in what is left (at most its share of the budget)."""
    chars = min(packer.remaining, budget // REPO_MAP_SHARE) * 3
    if chars <= 200:
        return
    repo = early[1] if early and early[0] == chars else sources.repo_map(chars, request)
    if repo.text:
        packer.add("repo_map", REPO_MAP_TITLE, repo.text, repo.reason)


def _selection(packer: Packer, request: ContextRequest, current: OpenDocument) -> None:
    assert request.selection is not None
    start, end = sorted(request.selection)
    if start == end:
        return
    lines = line_span(current.text, start, end)
    title = f"Selection: lines {lines[0] + 1}-{lines[1]} of {current.rel or current.uri}"
    added = packer.add(
        "selection",
        title,
        current.text[start:end],
        "the selection",
        language=current.language,
        uri=current.uri,
        lines=lines,
        truncatable=False,
    )
    if added is None:
        raise OverflowError(
            "The selection alone is larger than the context window allows: select less code."
        )


def _current_file(
    packer: Packer,
    request: ContextRequest,
    current: OpenDocument,
    sources: Sources,
    budget: int,
    reserve: int,
) -> None:
    name = current.rel or current.uri
    total_lines = current.text.count("\n") + 1
    whole = packer.add(
        "current_file",
        _current_title(current),
        current.text,
        "the file being edited",
        language=current.language,
        uri=current.uri,
        lines=(0, total_lines),
        truncatable=False,
    )
    if whole is not None:
        return
    # Too big: a window around the cursor or selection, plus an outline of the rest.
    lines = current.text.splitlines(keepends=True)
    if request.selection is not None:
        center = line_span(current.text, *sorted(request.selection))[0]
    else:
        center = request.cursor_line or 0
    share = min(packer.remaining, budget)
    window_budget = int(share * CURRENT_WINDOW_SHARE)
    if window_budget + reserve > packer.remaining:
        # A small budget: the definitions the cursor uses matter more than distant lines.
        window_budget = max(int(share * MIN_WINDOW_SHARE), packer.remaining - reserve)
    average = max(1, len(current.text) // max(1, len(lines)))
    half = max(20, int(window_budget * 3.5 / average / 2))
    first = max(0, center - half)
    last = min(len(lines), center + half)
    packer.add(
        "file_window",
        f"Current file: {name} (lines {first + 1}-{last} of {len(lines)})",
        "".join(lines[first:last]),
        "the part of the current file around the cursor",
        language=current.language,
        uri=current.uri,
        lines=(first, last),
        cap=window_budget,
    )
    outline = sources.outline(current.rel or "", current.text, current.language)
    if outline:
        packer.add("outline", f"Outline of {name}", outline, "the rest of the current file")


def _waiting(request: ContextRequest, resolved: list[Slice]) -> list[Slice]:
    """The definition slices to pack, in order: the editor's first, then ours."""
    if request.secret_reason:
        return []  # nothing is derived from what a secret file uses
    editor = without_overlaps(list(request.definitions))
    ours = [s for s in without_overlaps(resolved) if not any(s.overlaps(e) for e in editor)]
    return editor + ours


def _reserve(waiting: list[Slice]) -> int:
    """A rough token count of the first definitions, condensed where they can be."""
    total = 0
    for item in waiting[:RESERVED_DEFINITIONS]:
        short = condensed(item.text, item.language) or item.text
        total += (len(short) + len(item.title) + 40) // 3 + SEAM_TOKENS
    return total


def _definitions(packer: Packer, waiting: list[Slice]) -> None:
    """The definitions the cursor uses, as slices; past the first, one that does not fit whole
    goes condensed (signature and docstring) so the next ones keep their room."""
    for index, item in enumerate(waiting):
        if packer.remaining < 64:
            break
        cap = int(packer.remaining * DEFINITION_SHARE)
        if not packer.fits(item.title, item.text, item.language, cap):
            members = members_only(item.text)  # a class: its used members, whole
            if members is not None and _add(packer, item, members, item.lines, cap):
                continue
            short = condensed(item.text, item.language) if index else None
            if short is not None:
                kept = short.count("\n")  # the head's lines; the last line is the elision
                if _add(packer, item, short, (item.lines[0], item.lines[0] + kept), cap):
                    continue
        packer.add(
            "definition",
            item.title,
            item.text,
            item.reason,
            language=item.language,
            uri=item.uri,
            lines=item.lines,
            cap=cap,
        )


def _add(packer: Packer, item: Slice, body: str, lines: tuple[int, int], cap: int) -> bool:
    """Add a shortened slice whole if it fits, leaving no 'skipped' note when it does not."""
    if not packer.fits(item.title, body, item.language, cap):
        return False
    return (
        packer.add(
            "definition",
            item.title,
            body,
            item.reason,
            language=item.language,
            uri=item.uri,
            lines=lines,
            cap=cap,
            truncatable=False,
        )
        is not None
    )


def _current_title(current: OpenDocument) -> str:
    return f"Current file: {current.rel or current.uri}"
