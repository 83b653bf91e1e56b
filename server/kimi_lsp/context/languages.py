"""Language ids from paths and LSP ids, and source text with comments and strings blanked out."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

PYTHON = "python"
JAVASCRIPT = "javascript"
JAVASCRIPTREACT = "javascriptreact"
TYPESCRIPT = "typescript"
TYPESCRIPTREACT = "typescriptreact"
GO = "go"
RUST = "rust"
LUA = "lua"
OTHER = "other"

JS_FAMILY = frozenset({JAVASCRIPT, JAVASCRIPTREACT, TYPESCRIPT, TYPESCRIPTREACT})
LANGUAGES = frozenset({PYTHON, *JS_FAMILY, GO, RUST, LUA, OTHER})

_EXTENSIONS = {
    ".py": PYTHON,
    ".pyi": PYTHON,
    ".pyw": PYTHON,
    ".js": JAVASCRIPT,
    ".mjs": JAVASCRIPT,
    ".cjs": JAVASCRIPT,
    ".jsx": JAVASCRIPTREACT,
    ".ts": TYPESCRIPT,
    ".mts": TYPESCRIPT,
    ".cts": TYPESCRIPT,
    ".tsx": TYPESCRIPTREACT,
    ".go": GO,
    ".rs": RUST,
    ".lua": LUA,
}

# LSP languageIds (and a few aliases editors send) that are not already one of ours.
_LSP_ALIASES = {"py": PYTHON, "js": JAVASCRIPT, "ts": TYPESCRIPT, "golang": GO, "rs": RUST}


def language_of(path: str) -> str:
    """The language of a file from its name: one of LANGUAGES ("other" when unknown)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    if dot <= 0:
        return OTHER
    return _EXTENSIONS.get(name[dot:].lower(), OTHER)


def language_of_lsp(language_id: str, path: str = "") -> str:
    """Our language for an LSP `languageId`, falling back to the path's extension."""
    lowered = language_id.lower()
    if lowered in LANGUAGES and lowered != OTHER:
        return lowered
    if lowered in _LSP_ALIASES:
        return _LSP_ALIASES[lowered]
    return language_of(path) if path else OTHER


def normalize(language: str) -> str:
    """Accept either one of ours or an LSP id: callers may pass what the editor sent."""
    return language if language in LANGUAGES else language_of_lsp(language)


@dataclass(frozen=True, slots=True)
class Masked:
    """`code` is the text with comments and string contents blanked (same length and lines).

    Strings keep their first and last character (the quotes) so patterns can find them;
    `strings` maps the offset of each string literal's first character to its content (not
    collected for Python, whose imports are not strings).
    """

    code: str
    strings: dict[int, str] = field(default_factory=dict)

    def lines_at(self, offsets: Iterable[int]) -> dict[int, int]:
        """0-based line of each offset, counting the text once."""
        lines: dict[int, int] = {}
        line = last = 0
        for offset in sorted(set(offsets)):
            line += self.code.count("\n", last, offset)
            lines[offset] = line
            last = offset
        return lines


# One capturing group: `split` alternates code and comment-or-string (C speed, no strings kept).
# Possessive repeats (as imports._PY_TOKEN): the same tokens on every .py file of this Python,
# split in a third of the time.
_PY_SPLIT = re.compile(
    r"""(\#[^\n]*|'''(?:[^'\\]++|\\.|'(?!''))*+(?:'''|\Z)|\"\"\"(?:[^"\\]++|\\.|"(?!""))*+(?:\"\"\"|\Z)
    |'(?:[^'\\\n]++|\\.)*+(?:'|(?=\n)|\Z)|"(?:[^"\\\n]++|\\.)*+(?:"|(?=\n)|\Z))""",
    re.S | re.X,
)
_JS_TOKENS = re.compile(
    r"""(?P<c>//[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<s>'(?:\\.|[^'\\\n])*(?:'|(?=\n)|\Z)|"(?:\\.|[^"\\\n])*(?:"|(?=\n)|\Z)
       |`(?:\\.|[^`\\])*(?:`|\Z))
    |(?P<r>/(?![*/])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/[A-Za-z]*)""",
    re.S | re.X,
)
_GO_TOKENS = re.compile(
    r"""(?P<c>//[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<s>"(?:\\.|[^"\\\n])*(?:"|(?=\n)|\Z)|`[^`]*(?:`|\Z)|'(?:\\.|[^'\\\n])*(?:'|(?=\n)|\Z))""",
    re.S | re.X,
)
_RUST_TOKENS = re.compile(
    r"""(?P<c>//[^\n]*|/\*)
    |(?P<s>(?<![A-Za-z0-9_])b?r(?P<h>\#*)".*?(?:"(?P=h)|\Z)|b?"(?:\\.|[^"\\])*(?:"|\Z)
       |b?'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|.)|[^\\'\n])')""",
    re.S | re.X,
)
_RUST_BLOCK_COMMENT = re.compile(r"/\*|\*/")
_LUA_TOKENS = re.compile(
    r"""(?P<c>--\[(?P<e1>=*)\[.*?(?:\](?P=e1)\]|\Z)|--[^\n]*)
    |(?P<s>\[(?P<e2>=*)\[.*?(?:\](?P=e2)\]|\Z)
       |'(?:\\.|[^'\\\n])*(?:'|(?=\n)|\Z)|"(?:\\.|[^"\\\n])*(?:"|(?=\n)|\Z))""",
    re.S | re.X,
)
_TOKENS = {GO: _GO_TOKENS, RUST: _RUST_TOKENS, LUA: _LUA_TOKENS}
# After these, a `/` starts a regular expression literal rather than a division.
_REGEX_AFTER_CHARS = frozenset("(,=:[!&|?{};+-*%<>~^")
_REGEX_AFTER_WORDS = re.compile(
    r"(?:^|[^\w$.])(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)\s*$"
)
_LUA_LONG_OPEN = re.compile(r"\[=*\[")


def _blank(token: str) -> str:
    if "\n" not in token:
        return " " * len(token)
    # Line by line: a regex substitution per character cost twice the split of the file
    return "\n".join([" " * len(line) for line in token.split("\n")])


def _blank_inside(token: str) -> str:
    """A comment becomes blank; a string keeps its first and last character (its quotes)."""
    if token[0] == "#" or len(token) < 2:
        return _blank(token)
    return token[0] + _blank(token[1:-1]) + token[-1]


def _string_value(token: str) -> str:
    """The content of a string literal token, without quotes (escapes are left as written)."""
    body = token.lstrip("bBrRuUfF")
    long_open = _LUA_LONG_OPEN.match(body)
    if long_open:
        n = len(long_open.group())
        return body[n : -n if body.endswith("]" + body[1 : n - 1] + "]") else None]
    for quote in ('"""', "'''", '"', "'", "`"):
        if body.startswith(quote):
            end = -len(quote) if len(body) >= 2 * len(quote) and body.endswith(quote) else None
            return body[len(quote) : end]
    return body


def _regex_allowed(before: str) -> bool:
    stripped = before.rstrip()
    if not stripped or stripped[-1] in _REGEX_AFTER_CHARS:
        return True
    return _REGEX_AFTER_WORDS.search(stripped[-12:]) is not None


@lru_cache(maxsize=4)
def mask(text: str, language: str) -> Masked:
    """Blank comments and string contents so patterns only ever see code.

    Cached for the last few texts: imports and outline of one file mask it once.
    """
    language = normalize(language)
    if language == PYTHON:
        parts = _PY_SPLIT.split(text)
        parts[1::2] = [_blank_inside(token) for token in parts[1::2]]
        return Masked("".join(parts))
    pattern = _JS_TOKENS if language in JS_FAMILY else _TOKENS.get(language)
    if pattern is None:
        return Masked(text)
    out: list[str] = []
    strings: dict[int, str] = {}
    pos = done = 0
    size = len(text)
    while pos < size:
        m = pattern.search(text, pos)
        if m is None:
            break
        start, end = m.span()
        kind = "c" if m.group("c") is not None else "s" if m.group("s") is not None else "r"
        if kind == "r" and not _regex_allowed(_code_before(text, done, start, out)):
            pos = start + 1  # a division sign, not a regular expression
            continue
        if language == RUST and kind == "c" and text.startswith("/*", start):
            end = _rust_block_comment_end(text, start)
        out.append(text[done:start])
        token = text[start:end]
        if kind == "c":
            out.append(_blank(token))
        else:
            if kind == "s":
                strings[start] = _string_value(token)
            out.append(_blank_inside(token))
        pos = done = end
    out.append(text[done:])
    return Masked("".join(out), strings)


def _code_before(text: str, done: int, start: int, out: list[str]) -> str:
    """A few characters of (masked) code before `start`, ending at its last non-space."""
    i = start - 1
    while i >= done and text[i].isspace():
        i -= 1
    if i - 12 >= done:
        return text[i - 12 : i + 1]
    return _tail(out, 24) + text[done : i + 1]


def _tail(pieces: list[str], n: int) -> str:
    """The last n characters of the joined pieces, without joining them all."""
    tail = ""
    for piece in reversed(pieces):
        tail = piece[-(n - len(tail)) :] + tail
        if len(tail) >= n:
            break
    return tail


def _rust_block_comment_end(text: str, start: int) -> int:
    """Rust block comments nest."""
    depth = 0
    for m in _RUST_BLOCK_COMMENT.finditer(text, start):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    return len(text)


@lru_cache(maxsize=2)  # trees are big: keeping many alive slows the garbage collector
def parse_python(text: str) -> ast.Module | None:
    """The module's syntax tree, or None when it does not parse (shared by imports and symbols).

    Cached on the text so outline and imports of the same document parse it once; callers must
    not mutate the tree.
    """
    try:
        return ast.parse(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
