"""Cutting a ghost-text answer: where it rejoins the text after the cursor, at its block's end,
at 16 lines; nothing when unsure."""

from __future__ import annotations

from dataclasses import dataclass

MAX_LINES = 16
# What an editor closes for the user (auto-closed brackets and quotes) and what commonly ends a
# line after them: a rest of line made only of these may be kept or rewritten by a suggestion.
CLOSERS = frozenset(")]}>\"'`;:,. \t")
# A line whose code ends with one of these opens a block (or a bracketed list) that the next,
# deeper-indented lines fill.
OPENERS = (":", "{", "(", "[", "=>")
MARKER = "[REDACTED:"  # the model echoing a redaction marker: never shown as code
FENCE = "```"


@dataclass(frozen=True, slots=True)
class Around:
    """The document around the cursor, as the trimming needs it.

    `before`/`rest` are the cursor line's text before and after the cursor; `suffix` is `rest`
    followed by the next lines ("\\n"-joined), at least as long as the answer plus one
    character, or up to the end of the document (`complete`)."""

    before: str
    rest: str
    suffix: str
    complete: bool


@dataclass(frozen=True, slots=True)
class Ghost:
    """What to show: `text` at the cursor, replacing the rest of the line when `replace_rest`."""

    text: str
    replace_rest: bool = False


def trim(answer: str, around: Around, truncated: bool = False) -> Ghost | None:
    """The part of `answer` (the model's continuation at the cursor) to show, or None.

    1. Rejoin: when the answer, from some point on, repeats the text after the cursor (to the
       end of the answer), it is cut there and inserted as it is (the document then reads as
       the model wrote it); the smallest such point wins, within 16 lines.
    2. Otherwise: cut before a fence line, drop a line the output limit cut (`truncated`),
       stop at the end of the block the answer starts in (see `block_end`), at 16 lines, and
       drop trailing blank lines; then keep the rest of the cursor line only when it is made
       of closers (brackets, quotes, punctuation): inserted before it, or the line rewritten
       up to its end when the answer's one line contains those closers in order.
    Nothing when the result is only whitespace, or when it holds a redaction marker."""
    if not answer or MARKER in answer:
        return None
    cut = rejoin_point(answer, around, truncated)
    if cut is not None:
        text = answer[:cut]
        if not text.strip():
            return None
        if line_count(text) <= MAX_LINES:
            return Ghost(text)
        if around.rest.strip():
            return None  # too long to show whole, and cut short it would not reach the rest
        answer, truncated = text, False
    ghost = _unjoined(answer, around, truncated)
    if ghost is not None and around.complete and not around.suffix:
        # At the very end of the document, a line the answer ended keeps its newline.
        kept = ghost.text
        if answer.startswith(kept + "\n") and not answer[len(kept) :].strip():
            return Ghost(kept + "\n", ghost.replace_rest)
    return ghost


def unfenced(answer: str) -> str:
    """A chat-style answer (an endpoint that could not continue the prefix) without the
    fence around its code: its first line when that opens a fence, and from a closing one on."""
    if not answer.lstrip().startswith(FENCE):
        return answer
    body = answer.lstrip().split("\n", 1)[1] if "\n" in answer.lstrip() else ""
    lines = body.split("\n")
    end = next((i for i, line in enumerate(lines) if line.lstrip().startswith(FENCE)), None)
    return "\n".join(lines if end is None else lines[:end])


def line_count(text: str) -> int:
    """Lines `text` puts in the document (a final newline ends a line, it starts none)."""
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def rejoin_point(answer: str, around: Around, truncated: bool = False) -> int | None:
    """The smallest index from which `answer` repeats the text after the cursor, when that
    repeat is telling: it spans a line break, is the whole rest of the line, is made of
    closers only (the `)` an editor auto-closed), or starts one of the answer's lines while
    the cursor is in its own line's indentation (the answer came back to the cursor line's
    code). At the end of the document (only whitespace after the cursor), an answer that
    ends there by itself (not cut by the output limit) ends at its final line break when it
    stays in the block it starts in (no line left of its first). With the cursor in its
    line's indentation, an answer of whole lines (ending in a line break) is kept whole when
    code follows the cursor, or when the lines make one block on a blank line. None when there
    is none."""
    suffix = around.suffix
    if not suffix:
        return None
    at_end = around.complete and not suffix.strip() and not truncated
    first = suffix[0]
    p = answer.find(first)
    while p != -1:
        tail = answer[p:]
        if _agrees(tail, suffix, around.complete):
            line_start = p > 0 and answer[p - 1] == "\n" and not around.before.strip()
            if line_start or _telling(tail, around.rest):
                return p
            if at_end and p > 0 and _in_block(around.before, answer[:p]):
                return p
        p = answer.find(first, p + 1)
    if answer.endswith("\n") and not around.before.strip():
        # Whole lines, ending where the cursor line's code starts (or, on a blank line, where
        # it is: when they make one block, the blank line stays after them).
        if around.rest.strip():
            return len(answer)
        lines = answer[:-1].split("\n")
        if block_end(around.before, lines) == len(lines):
            return len(answer)
    return None


def _in_block(before: str, text: str) -> bool:
    """Whether no line of `text` (continuing a line that starts with `before`) is indented
    less than its first non-blank line: it stays in the block it starts in."""
    lines = text.split("\n")
    lines[0] = before + lines[0]
    widths = [indent_width(line) for line in lines if line.strip()]
    return not widths or min(widths) >= widths[0]


def _agrees(tail: str, suffix: str, complete: bool) -> bool:
    if len(tail) <= len(suffix):
        return suffix.startswith(tail)
    # Longer than what we hold: past the end of the document only whitespace may follow.
    return complete and tail.startswith(suffix) and not tail[len(suffix) :].strip()


def _telling(tail: str, rest: str) -> bool:
    if not tail.strip("\r\n"):
        return False  # a final line break matches any next line: the block rules decide
    if "\n" in tail:
        return True
    if rest and tail == rest:
        return True
    return all(ch in CLOSERS for ch in tail) and rest.startswith(tail)


def _unjoined(answer: str, around: Around, truncated: bool) -> Ghost | None:
    lines = answer.split("\n")
    fence = next((i for i, line in enumerate(lines) if line.lstrip().startswith(FENCE)), None)
    if fence is not None:
        lines = lines[:fence]
    elif truncated and len(lines) > 1:
        lines = lines[:-1]  # the output limit cut its last line short
    if not lines:
        return None
    lines = lines[: block_end(around.before, lines)][:MAX_LINES]
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    text = "\n".join(lines)
    if not text.strip():
        return None
    rest = around.rest
    if not rest.strip():
        return Ghost(text)
    if not all(ch in CLOSERS for ch in rest) or len(lines) > 1:
        return None  # code after the cursor the answer does not account for: unsure
    if _in_order(rest, text):
        return Ghost(text, replace_rest=True)  # `a, b).strip()` over `)`
    return Ghost(text)  # `a, b` before `)`


def _in_order(rest: str, text: str) -> bool:
    """Whether the non-blank characters of `rest` appear in `text` in order."""
    i = 0
    for ch in rest:
        if ch.isspace():
            continue
        i = text.find(ch, i)
        if i == -1:
            return False
        i += 1
    return True


def indent_width(line: str) -> int:
    """Columns of leading whitespace (a tab counts as 4: only comparisons matter here)."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4
        else:
            break
    return width


def _opens(line: str) -> bool:
    code = line.split("#", 1)[0].rstrip() if "#" in line else line.rstrip()
    return code.endswith(OPENERS)


def block_end(before: str, lines: list[str]) -> int:
    """How many of the answer's `lines` (the first continues the cursor line after `before`)
    belong to the block the answer starts in.

    The anchor is the first non-blank line (the cursor line as completed, else the first
    non-blank new line). When it opens a block, the block's deeper lines follow it, blank
    lines included, and it ends before the first line at or left of the anchor's indentation,
    except a closing bracket at exactly that indentation, which is kept as its last line. When
    it does not, the statements that follow at its indentation or deeper are kept up to the
    first blank line or dedent (a dedented closing bracket is kept as the last line)."""
    head = before + lines[0]
    anchor = 0 if head.strip() else next((i for i, s in enumerate(lines) if s.strip()), None)
    if anchor is None:
        return len(lines)
    anchor_line = head if anchor == 0 else lines[anchor]
    width = indent_width(anchor_line)
    opens = _opens(anchor_line)
    for i in range(anchor + 1, len(lines)):
        line = lines[i]
        if not line.strip():
            if opens:
                continue
            return i
        w = indent_width(line)
        if opens and w <= width:
            closes = w == width and line.lstrip()[0] in ")]}"
            return i + 1 if closes else i
        if not opens and w < width:
            # A closing bracket ends the call or list the lines are in: kept, and the end.
            return i + 1 if line.lstrip()[0] in ")]}" else i
    return len(lines)
