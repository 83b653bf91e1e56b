"""Definition slices from resolved names: the definition's text, why it was chosen, its rank."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .definitions import WHOLE_LINES, Found, ModuleInfo
from .languages import PYTHON, mask, normalize
from .slices import Slice
from .symbols import Symbol

__all__ = ["Use", "condensed", "make_slices", "members_only", "rank_of", "slice_text"]

MEMBER_LINES = 40  # a used member of a big class this long or shorter goes whole
DOC_LINES = 8  # a class slice too big for its room keeps this much of its docstring
MAX_SLICES = 24
MODULE_RANK_PENALTY = 40.0  # a module used as a namespace ranks after what it defines
_SHOWN_LINES = 3  # lines listed in a reason
_ELIDED = re.compile(r"\.\.\.  # line \d+$")  # a member header written by slice_text


@dataclass(slots=True)
class Use:
    """Everything the window uses of one definition."""

    found: Found
    names: list[str] = field(default_factory=list)  # as written, last part: `_PyFuture`
    lines: set[int] = field(default_factory=set)
    members: set[str] = field(default_factory=set)


def rank_of(lines: Sequence[int], cursor: int) -> float:
    """Lower goes first: the nearest use's distance, shortened by how often it is used."""
    nearest = min(abs(line - cursor) for line in lines)
    return nearest / (1.0 + math.log(len(lines)))


def reason_of(use: Use) -> str:
    names = ", ".join(f"`{n}`" for n in sorted(set(use.names)))
    shown = sorted(use.lines)
    where = ", ".join(str(line + 1) for line in shown[:_SHOWN_LINES])
    more = f" (+{len(shown) - _SHOWN_LINES} more)" if len(shown) > _SHOWN_LINES else ""
    plural = "lines" if len(shown) > 1 else "line"
    return f"defines {names}, used at {plural} {where}{more}"


def group_uses(
    resolved: Sequence[tuple[Found, tuple[str, ...], list[int]]], members: set[str]
) -> list[Use]:
    """One Use per definition, with the names, lines and members that reach it."""
    grouped: dict[tuple[str, int], Use] = {}
    for found, written, lines in resolved:
        key = (found.rel, found.symbol.line if found.symbol else -1)
        use = grouped.get(key)
        if use is None:
            use = grouped[key] = Use(Found(found.rel, found.symbol))
        use.names.append(".".join(written[-2:]) if found.members else written[-1])
        use.lines.update(lines)
        use.members.update(found.members)
    for use in grouped.values():
        use.members |= members  # attribute names seen anywhere in the window may be these
    return list(grouped.values())


def make_slices(
    uses: Sequence[Use],
    cursor: int,
    read: Callable[[str], tuple[str, str, ModuleInfo] | None],
    uri: Callable[[str], str],
) -> list[Slice]:
    """The slices for `uses`, best first; `read(rel)` gives (text, language, info)."""
    out: list[Slice] = []
    for use in uses:
        loaded = read(use.found.rel)
        if loaded is None:
            continue
        text, language, info = loaded
        symbol = use.found.symbol
        rank = rank_of(sorted(use.lines), cursor)
        if symbol is None:  # a module as a namespace: its outline, after the definitions
            body, span = _module_outline(info, text), (0, text.count("\n") + 1)
            rank += MODULE_RANK_PENALTY
        else:
            block = info.members(symbol)  # that block's outline only, not the whole file's
            body, span = slice_text(text, language, symbol, block, use.members)
        if body.strip():
            where = use.found.rel
            out.append(Slice(uri(where), where, body, language, span, reason_of(use), rank))
    out.sort(key=lambda s: (s.rank, s.rel or "", s.lines))
    return out[:MAX_SLICES]


def members_only(text: str) -> str | None:
    """A class slice without the headers of its unused members (the used ones stay whole) and
    with its docstring cut to its first DOC_LINES lines; None when neither applies."""
    lines = text.split("\n")
    kept = _short_docstring([line for line in lines if not _ELIDED.search(line)])
    return "\n".join(kept) if len(kept) < len(lines) else None


def _short_docstring(lines: list[str]) -> list[str]:
    """`lines` with the docstring right after the header (a Python one) cut to DOC_LINES."""
    first = 0
    while first < len(lines) - 1 and lines[first].lstrip().startswith("@"):
        first += 1
    opening = first + 1
    while opening < len(lines) and not lines[opening - 1].rstrip().endswith(":"):
        opening += 1  # a header over several lines
    head = lines[opening].lstrip() if opening < len(lines) else ""
    quote = head.lstrip("rRbBuU")[:3]
    if quote not in ('"""', "'''") or head.count(quote) > 1:
        return lines
    close = next((i for i in range(opening + 1, len(lines)) if quote in lines[i]), None)
    if close is None or close - opening < DOC_LINES + 2:
        return lines
    indent = lines[opening][: len(lines[opening]) - len(head)]
    cut = f"{indent}[{close - opening - DOC_LINES} more lines of the docstring left out]"
    return [*lines[: opening + DOC_LINES], cut, *lines[close:]]


def condensed(text: str, language: str) -> str | None:
    """A slice's head only (decorators, signature, Python docstring) with its body elided, for
    a small budget; None when the head is the whole slice or it does not start a definition."""
    lines = text.split("\n")
    first = 0
    while first < len(lines) - 1 and lines[first].lstrip().startswith(("@", "#[")):
        first += 1
    if len(lines) - first < 3:
        return None
    head_end = _head_end(text, language, first, len(lines) - 1)
    if head_end >= len(lines) - 2:
        return None
    own = lines[first]
    indent = own[: len(own) - len(own.lstrip())]
    return "\n".join([*lines[: head_end + 1], f"{indent}    ...  # body left out"])


def _module_outline(info: ModuleInfo, text: str) -> str:
    lines = text.split("\n")
    return "\n".join(lines[s.line] for s in info.top_symbols)


def slice_text(
    text: str, language: str, symbol: Symbol, symbols: Sequence[Symbol], members: set[str]
) -> tuple[str, tuple[int, int]]:
    """The definition's source and its 0-based lines (end exclusive). A long one is cut to its
    head (signature and docstring); a long class to its head, the headers of its members and
    the whole of the members used."""
    lines = text.split("\n")
    start = symbol.line
    while start > 0 and lines[start - 1].lstrip().startswith(("@", "#[")):
        start -= 1
    end = min(len(lines) - 1, symbol.line if symbol.end_line is None else symbol.end_line)
    span = (start, end + 1)
    if end - start + 1 <= WHOLE_LINES:
        return "\n".join(lines[start : end + 1]), span
    head_end = _head_end(text, language, symbol.line, end)
    inner = [s for s in symbols if s.depth == symbol.depth + 1 and symbol.line < s.line <= end]
    if not inner:
        return "\n".join(lines[start : head_end + 1]), span
    parts = lines[start : max(head_end, _before_first(inner, lines)) + 1]
    for member in inner:
        last = member.end_line if member.end_line is not None else member.line
        if member.name in members and last - member.line < MEMBER_LINES:
            first = member.line
            while first > 0 and lines[first - 1].lstrip().startswith(("@", "#[")):
                first -= 1
            parts.extend(lines[first : last + 1])
        elif member.kind in ("method", "function"):
            own = lines[member.line]
            indent = own[: len(own) - len(own.lstrip())]
            parts.append(f"{indent}{member.signature} ...  # line {member.line + 1}")
        else:
            parts.append(lines[member.line])
    return "\n".join(parts), span


def _before_first(inner: Sequence[Symbol], lines: Sequence[str]) -> int:
    """The class's own lines before its first member (decorators of that member excluded)."""
    first = inner[0].line - 1
    while first > 0 and lines[first].lstrip().startswith(("@", "#[")):
        first -= 1
    return first if inner[0].kind in ("method", "function") else inner[0].line - 1


def _head_end(text: str, language: str, line: int, end: int) -> int:
    """The last line of a definition's head: its signature and, in Python, its docstring."""
    code = mask(text, language).code.split("\n")
    row, depth = line, 0
    while row < end:
        depth += code[row].count("(") + code[row].count("[") - code[row].count(")")
        depth -= code[row].count("]")
        stripped = code[row].rstrip()
        if depth <= 0 and stripped.endswith((":", "{")):
            break
        row += 1
    if normalize(language) != PYTHON:
        return row
    nxt = row + 1
    while nxt < end and not code[nxt].strip():
        nxt += 1
    opening = code[nxt].strip() if nxt <= end else ""
    if opening[:1] in ('"', "'") or opening[:2].lower() in ('r"', "r'"):
        raw = text.split("\n")
        quote = '"""' if '"""' in raw[nxt] else "'''"
        close = nxt
        if raw[nxt].count(quote) < 2:
            close = nxt + 1
            while close < end and quote not in raw[close]:
                close += 1
        return min(close, end)
    return row
