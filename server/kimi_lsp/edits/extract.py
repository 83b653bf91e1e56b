"""The replacement code in a model reply, conformed to the range it replaces (protocol.md).

`extract_code` rules, in order:

1. The reply continues the assistant `prefix` (say "```python\\n" plus the range's leading
   indentation), so the text to read is ``prefix + reply``.  A reply that repeats the prefix
   verbatim (or is still a partial repeat of it), that opens a fence of its own with an info
   string ("```python": the model restarted), or that repeats the prefix's trailing
   indentation is not doubled.  A bare "```" first closes the prefix's block (empty code).
2. With at least one fenced block (a line of three or more backticks or tildes, CommonMark
   style; longer fences may contain shorter ones) the code is the content of ONE block and
   any prose around it is dropped.  The block chosen is the first one whose info string names
   `language` or nothing; if every block names another language, the first block.  The first
   block, not the longest: models put the answer first and usage examples or shell commands
   after it.  A closing fence may be indented at most three columns more than its opening
   fence, so a fence inside an indented docstring does not end the block.  An unclosed block
   runs to the end of the reply (a cut or still-streaming reply), minus a final unterminated
   line of fence characters (a closing fence still arriving).
3. Without any fence the whole text is the code, unaltered: guessing which lines are prose
   would risk losing code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kimi_lsp.positions import split_lines

__all__ = ["conform_to_range", "extract_code"]

_OPEN = re.compile(r"([ \t]*)(`{3,}|~{3,})[ \t]*(.*?)[ \t]*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class _Block:
    info: str
    content: str


def _lead(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _first_line(text: str) -> str:
    return split_lines(text)[0].rstrip("\r\n")


def _opens(text: str, *, with_info: bool = False) -> bool:
    match = _OPEN.fullmatch(_first_line(text))
    return match is not None and (bool(match.group(3)) or not with_info)


def _join_prefix(prefix: str, reply: str) -> str:
    if not prefix or reply.startswith(prefix):
        return reply
    tail = prefix.rsplit("\n", 1)[-1]
    indent = "" if tail.strip(" \t") else tail
    first = _first_line(reply).strip(" \t")
    if first and not first.strip("`~") and _opens(prefix):
        # A fence straight away closes the prefix's block: the model proposes nothing.
        return prefix[: len(prefix) - len(indent)] + reply
    if prefix.startswith(reply):  # the reply so far repeats (part of) the prefix
        return prefix
    if _opens(prefix) and _opens(reply.lstrip(" \t\r\n"), with_info=True):
        return reply  # the model opened its own fence: it restarted rather than continued
    after = reply[len(indent) : len(indent) + 1]
    if indent and reply.startswith(indent) and after not in (" ", "\t"):
        return prefix + reply[len(indent) :]  # the model repeated the indentation
    return prefix + reply


def _closes(line: str, char: str, length: int, indent: int) -> bool:
    stripped = line.rstrip("\r\n").rstrip(" \t")
    body = stripped.lstrip(" \t")
    return (
        len(stripped) - len(body) <= indent + 3 and len(body) >= length and body == char * len(body)
    )


def _blocks(text: str) -> list[_Block]:
    lines = split_lines(text)
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        opening = _OPEN.fullmatch(lines[i].rstrip("\r\n"))
        i += 1
        if opening is None:
            continue
        indent, fence, info = opening.groups()
        if fence[0] == "`" and "`" in info:  # "```x```" is inline code, not a fence
            continue
        content: list[str] = []
        while i < len(lines) and not _closes(lines[i], fence[0], len(fence), len(indent)):
            content.append(lines[i])
            i += 1
        if i == len(lines) and content and not content[-1].endswith(("\n", "\r")):
            last = content[-1].strip(" \t")
            if last and last == fence[0] * len(last):
                content.pop()  # a closing fence still streaming in
        i += 1
        blocks.append(_Block(info.split()[0] if info.split() else "", _dedent(content, indent)))
    return blocks


def _dedent(lines: list[str], indent: str) -> str:
    """Content lines lose up to the opening fence's indentation (CommonMark)."""
    if not indent:
        return "".join(lines)
    out = []
    for line in lines:
        out.append(line[min(len(_lead(line)), len(indent)) :])
    return "".join(out)


def _names(info: str, language: str) -> bool:
    info, language = info.lower(), language.lower()
    return not info or not language or info.startswith(language) or language.startswith(info)


def extract_code(reply: str, *, prefix: str = "", language: str = "") -> str:
    """The code of a model `reply` that continued the assistant `prefix` (see the module doc)."""
    text = _join_prefix(prefix, reply)
    blocks = _blocks(text)
    if not blocks:
        return text
    for block in blocks:
        if _names(block.info, language):
            return block.content
    return blocks[0].content


def _break_at_end(text: str) -> str:
    if text.endswith("\r\n"):
        return "\r\n"
    return text[-1:] if text.endswith(("\n", "\r")) else ""


def _indent_width(line: str) -> int:
    return len(_lead(line))


def _reindent(code: str, original: str) -> str:
    """Restore the original first line's indentation W when the code's first line has none.

    W is the indentation of `original`'s first non-blank line; the code's first non-blank line
    must have none.  Two readings are possible: the model dedented the whole block (indent
    every non-blank line by W), or it dropped W from the first line only (indent just that
    line; possible only when every later non-blank line already starts with W).  The second is
    chosen only when it puts the later lines' smallest indentation strictly closer to the one
    they have in `original` (without later lines there, the first reading wins).
    """
    original_lines = [line for line in _LINE_BREAK.split(original) if line.strip()]
    if not original_lines:
        return code
    w = _lead(original_lines[0])
    lines = split_lines(code)
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not w or not nonblank or _indent_width(lines[nonblank[0]]) > 0:
        return code
    first, rest = nonblank[0], nonblank[1:]
    only_first = False
    if rest and all(lines[i].startswith(w) for i in rest) and len(original_lines) > 1:
        target = min(_indent_width(line) for line in original_lines[1:])
        have = min(_indent_width(lines[i]) for i in rest)
        only_first = abs(have - target) < abs(have + len(w) - target)
    for i in [first] if only_first else nonblank:
        lines[i] = w + lines[i]
    return "".join(lines)


def conform_to_range(code: str, original: str, *, eol: str | None = None) -> str:
    """Fit `code` to replace exactly `original` (the range's current text), per protocol.md.

    - Line endings: when `original` breaks lines with "\\r\\n" only (or has no break and `eol`
      is "\\r\\n"), the code's bare "\\n" become "\\r\\n", so a CRLF file stays CRLF.
    - Indentation: see `_reindent`.
    - Final break: a range that does not end with a line break does not gain one (one final
      break of the code is dropped); a range that does keeps the code's, or gains the range's
      own when the code has none.  Empty code (delete the range) stays empty.
    """
    breaks = set(_LINE_BREAK.findall(original))
    crlf = breaks == {"\r\n"} if breaks else eol == "\r\n"
    if crlf:
        code = re.sub(r"(?<!\r)\n", "\r\n", code)
    code = _reindent(code, original)
    range_break = _break_at_end(original)
    code_break = _break_at_end(code)
    if not range_break:
        return code[: len(code) - len(code_break)]
    if code and not code_break:
        return code + range_break
    return code
