"""Which line of masked JS/TS starts a definition: the patterns, arrow functions read across
lines (type parameters, nested or multi-line parameters)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .symbols import Symbol

__all__ = ["match_js", "without_overloads"]

_Rule = tuple[re.Pattern[str], str]
_MODS = (
    r"(?:(?:export|default|declare|abstract|async|public|private|protected|static|readonly)\s+)*"
)
# `const f: T = async? `, the type maybe a function type (`(a: A) => B`); then `function`,
# `x =>`, or (group "arrow") a `(` or `<` that `_is_arrow` checks across the lines that follow.
_TYPED_VALUE = r"(?::(?:[^=]|=>)*)?=\s*(?:async\s*)?"
_VALUE = _MODS + r"(?:const|let|var)\s+([\w$]+)\s*" + _TYPED_VALUE
_ARROW = r"(?P<arrow>(?=[(<]))"
_TOP: list[_Rule] = [
    (re.compile(_MODS + r"class\s+([\w$]+)"), "class"),
    (re.compile(_MODS + r"function\s*\*?\s*([\w$]+)"), "function"),
    (re.compile(_MODS + r"interface\s+([\w$]+)"), "interface"),
    (re.compile(_MODS + r"type\s+([\w$]+)\s*(?:<[^=]*>)?\s*="), "type"),
    (re.compile(_MODS + r"(?:const\s+)?enum\s+([\w$]+)"), "enum"),
    (re.compile(_MODS + r"(?:namespace|module)\s+([\w$.]+)\s*\{"), "module"),
    (re.compile(_VALUE + r"(?:function\b|[\w$]+\s*=>|" + _ARROW + ")"), "function"),
    (re.compile(r"export\s+(?:declare\s+)?(?:const|let|var)\s+([\w$]+)"), "variable"),
    (re.compile(r"(?:const|let|var)\s+([A-Z][A-Z0-9_]+)\s*[:=]"), "constant"),
]
_MEMBER: list[_Rule] = [
    (re.compile(_MODS + r"(?:get\s+|set\s+)?\*?\s*(#?[\w$]+)\s*(?:<[^>]*>)?\s*\("), "method"),
    (
        re.compile(
            _MODS + r"(#?[\w$]+)\s*[?!]?\s*" + _TYPED_VALUE + r"(?:[\w$]+\s*=>|" + _ARROW + ")"
        ),
        "method",
    ),
]
_NOT_METHODS = frozenset(
    ["if", "for", "while", "switch", "catch", "return", "function", "with", "do", "else", "new"]
)


def match_js(line: str, in_class: bool, code: Sequence[str], row: int) -> tuple[str, str] | None:
    """(name, kind) of the definition `line` (masked, stripped) starts, if any: a member when
    `in_class`. `code[row + 1:]`, the masked lines after it, are read when an arrow function's
    parameters run on."""
    for pattern, kind in _MEMBER if in_class else _TOP:
        m = pattern.match(line)
        if m is None or (in_class and m.group(1) in _NOT_METHODS):
            continue
        # A `(` or `<` that starts no arrow function is a value: maybe a variable, next rules.
        if m.lastgroup != "arrow" or _is_arrow(line, m.end(), code, row):
            return m.group(1), kind
    return None


def without_overloads(symbols: list[Symbol], code: Sequence[str]) -> list[Symbol]:
    """The outline without TS overload signatures (`function f(a: A): R;` before the
    `function f(a) {…}` that implements them): a name then leads to the body, not to a
    signature. Signatures no body follows (`declare function`, a .d.ts) stay."""
    kept: list[Symbol] = []
    after: Symbol | None = None  # the next symbol kept
    for s in reversed(symbols):
        if (
            after is not None
            and s.name == after.name  # rare: the cheap test first
            and (s.depth, s.kind) == (after.depth, after.kind)
            and s.kind in ("function", "method")
            and not _has_body(s, code)
            and _has_body(after, code)
        ):
            continue
        kept.append(s)
        after = s
    return kept[::-1]


def _has_body(symbol: Symbol, code: Sequence[str]) -> bool:
    """A body ends with its `}`; a signature with `;` or a type, even one with braces in it
    (`f(): { a: A };`)."""
    end = symbol.line if symbol.end_line is None else symbol.end_line
    return code[end].rstrip().endswith("}")


_MAX_LINES = 40  # an arrow's type and value parameters: read this many lines at most
_ANGLE = re.compile(r"=>|[<>]")
_PAREN = re.compile(r"[()]")


def _is_arrow(line: str, at: int, code: Sequence[str], row: int) -> bool:
    """Whether `line[at:]` (masked code) starts an arrow function: `(…) =>`, `(…): T =>` or
    `<T, …>(…) =>`, parentheses nested (`(a, {b = f()}) =>`). `code[row + 1:]`, the masked
    lines after the line, are read only when the parameters run on. An IIFE `(() => …)()`
    or a value in parentheses is no function."""
    found = _arrow_params(line[at:])
    if found is None:
        found = _arrow_params("\n".join([line[at:], *code[row + 1 : row + _MAX_LINES]]))
    return bool(found)


def _arrow_params(text: str) -> bool | None:
    """Whether `text` starts with an arrow function's parameters; None when it ends first."""
    at = 0
    if text.startswith("<"):  # type parameters; the `>` of a function type's `=>` is no close
        at = _space_end(text, _balanced_end(text, 0, _ANGLE, "<", ">"))
        if at == len(text):
            return None
        if text[at] != "(":
            return False
    at = _space_end(text, _balanced_end(text, at, _PAREN, "(", ")"))
    return None if at == len(text) else text.startswith(("=>", ":"), at)


def _balanced_end(text: str, at: int, tokens: re.Pattern[str], opener: str, closer: str) -> int:
    """Just past the `closer` that balances the `opener` at text[at]; len(text) if none does."""
    depth = 0
    for m in tokens.finditer(text, at):
        token = m.group()
        depth += (token == opener) - (token == closer)
        if depth == 0:
            return m.end()
    return len(text)


def _space_end(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at
