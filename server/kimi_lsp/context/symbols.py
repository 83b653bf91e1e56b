"""Outlines of source files: classes, functions and constants with their lines and headers."""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .js_outline import match_js, without_overloads
from .languages import GO, JS_FAMILY, LUA, PYTHON, RUST, mask, normalize, parse_python

MAX_SIGNATURE = 160


@dataclass(frozen=True, slots=True)
class Symbol:
    """A definition: 0-based first and last line (`end_line` None when unknown), its header
    (the definition's first line(s), whitespace collapsed) and nesting depth (0 = top level).

    Kinds: class, interface, struct, enum, trait, impl, type, module, function, method, macro,
    constant, variable, field.
    """

    name: str
    kind: str
    line: int
    end_line: int | None
    signature: str
    depth: int = 0


def outline(text: str, language: str, *, exact: bool = True) -> list[Symbol]:
    """The file's definitions in source order ([] for languages we do not know).

    Python is parsed with `ast` when `exact` and the file parses; otherwise (and for the other
    languages) definitions are matched in the text with comments and strings blanked.
    """
    language = normalize(language)
    if language == PYTHON:
        tree = parse_python(text) if exact else None
        return _python_ast(tree, text) if tree is not None else _python_scan(text)
    if language in JS_FAMILY or language in (GO, RUST):
        return _braces(text, language)
    if language == LUA:
        return _lua(text)
    return []


def top_level(text: str, language: str) -> list[Symbol]:
    """The file's top-level (depth 0) definitions, as `outline(exact=False)` finds them, without
    the work of finding their members where that can be skipped (Python)."""
    language = normalize(language)
    if language == PYTHON:
        return _python_top(text)
    return [s for s in outline(text, language, exact=False) if s.depth == 0]


def definition_text(text: str, symbol: Symbol) -> str:
    """The symbol's source, decorators and attributes included."""
    lines = text.split("\n")
    start = symbol.line
    while start > 0 and lines[start - 1].lstrip().startswith(("@", "#[")):
        start -= 1
    end = symbol.line if symbol.end_line is None else symbol.end_line
    return "\n".join(lines[start : end + 1])


def outline_text(symbols: Iterable[Symbol], max_depth: int | None = None) -> str:
    """One line per symbol, `<1-based line>: <indent><header>`."""
    return "\n".join(
        f"{s.line + 1}: {'  ' * s.depth}{s.signature}"
        for s in symbols
        if max_depth is None or s.depth <= max_depth
    )


def symbol_at(symbols: Iterable[Symbol], line: int) -> Symbol | None:
    """The innermost symbol whose lines include `line`."""
    best: Symbol | None = None
    for s in symbols:
        end = s.line if s.end_line is None else s.end_line
        if s.line <= line <= end and (best is None or s.depth >= best.depth):
            best = s
    return best


def _header(
    lines: Sequence[str],
    start: int,
    stop: int | None = None,
    code: Sequence[str] = (),
    brace: bool = True,
) -> str:
    """A definition's header: its first line, continued while brackets are open (≤ 6 lines).

    Brackets are counted in `code` (the masked lines) when given, else in `lines`; `brace`
    drops the `{` that opens a block.
    """
    parts: list[str] = []
    depth = 0
    for i in range(start, min(start + 6, len(lines), stop or len(lines))):
        parts.append(lines[i].strip())
        line = code[i] if code else lines[i]
        depth += line.count("(") + line.count("[") - line.count(")") - line.count("]")
        if depth <= 0:
            break
    header = " ".join(" ".join(parts).split())
    if len(parts) > 1:  # "f( a, b, )" → "f(a, b)"
        header = _CLOSE.sub(")", _OPEN.sub("(", header))
    header = header.removesuffix("{").rstrip() if brace else header
    return header if len(header) <= MAX_SIGNATURE else header[: MAX_SIGNATURE - 1] + "…"


_OPEN, _CLOSE = re.compile(r"\(\s+"), re.compile(r",?\s+\)")

# -- Python ----------------------------------------------------------------------------------

_UPPER = re.compile(r"_*[A-Z][A-Z0-9_]*")


def _assignment_kind(name: str, annotation: str | None, in_class: bool) -> str | None:
    """Which assignments an outline shows: constants, annotated names, fields, type aliases."""
    if in_class:
        return "field" if annotation is not None or _UPPER.fullmatch(name) else None
    if annotation is not None and "TypeAlias" in annotation:
        return "type"
    if _UPPER.fullmatch(name):
        return "constant"
    return "variable" if annotation is not None else None


def _python_ast(tree: ast.Module, text: str) -> list[Symbol]:
    lines = text.split("\n")
    out: list[Symbol] = []

    def visit(body: list[ast.stmt], depth: int, in_class: bool) -> None:
        for node in body:
            start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                header = _header(lines, start, max(start + 1, node.body[0].lineno - 1))
                is_class = isinstance(node, ast.ClassDef)
                kind = "class" if is_class else "method" if in_class else "function"
                out.append(Symbol(node.name, kind, start, end, header, depth))
                if is_class:
                    visit(node.body, depth + 1, True)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                annotation = None
                if isinstance(node, ast.AnnAssign):  # its text, as far as the kind needs it
                    annotation = lines[start].partition(":")[2].partition("=")[0]
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        shown = _assignment_kind(target.id, annotation, in_class)
                        if shown:
                            header = _header(lines, start, start + 1, brace=False)
                            out.append(Symbol(target.id, shown, start, end, header, depth))
            else:  # if/try/with/for at this level: what they define is still this level's
                for name in ("body", "orelse", "finalbody"):
                    inner = getattr(node, name, None)
                    if isinstance(inner, list):
                        visit(inner, depth, in_class)
                for handler in getattr(node, "handlers", ()):
                    visit(handler.body, depth, in_class)

    visit(tree.body, 0, False)
    return out


# Two patterns: a literal first lets `re` skip ahead quickly (an alternation is 5x slower).
_PY_DEFS = (re.compile(r"def[ \t]+(?P<name>[A-Za-z_]\w*)"), re.compile(r"class[ \t]+(?P<name>\w+)"))
_PY_ASSIGN = re.compile(
    r"\n(?P<indent>[ \t]*)(?P<name>[A-Za-z_]\w*)[ \t]*"
    r"(?:(?P<ann>:[^\n=]*)(?:=(?!=)|(?=\n))|=(?!=))"
)
_PY_CHAINED = re.compile(r"[ \t]*([A-Za-z_]\w*)[ \t]*=(?!=)")


@lru_cache(maxsize=64)
def _dedent(indent: int) -> re.Pattern[str]:
    """A line indented no deeper than `indent`: maybe where a block indented more ends."""
    return re.compile(rf"\n[ \t]{{0,{indent}}}(?=[^\s)\]}}])")


def _python_block_end(code: str, offset: int, indent: int) -> int:
    """Offset just past the last code of the block whose header is at `offset`.

    A dedented line only ends it outside brackets and strings: in masked Python every string
    keeps exactly two quote characters, so an odd count means "inside a string".
    """
    pattern, pos = _dedent(indent), code.find("\n", offset)
    counted, depth, quotes = offset, 0, 0  # running counts: linear however many candidates
    while (m := pattern.search(code, pos)) is not None:
        pos = m.end()
        quotes += code.count('"', counted, pos) + code.count("'", counted, pos)
        depth += code.count("(", counted, pos) + code.count("[", counted, pos)
        depth += code.count("{", counted, pos) - code.count("}", counted, pos)
        depth -= code.count(")", counted, pos) + code.count("]", counted, pos)
        counted = pos
        if depth <= 0 and quotes % 2 == 0:
            break
    end = len(code) if m is None else m.start()
    while end > offset and code[end - 1] in " \t\n":
        end -= 1
    return end


# (offset of `def`/`class` or the name, indent, name, "def"/"class" or annotation, is a def)
_Found = tuple[int, int, str, str | None, bool]
# A `def`/`class` at column 0: always a top-level definition (offset of the keyword kept).
_PY_TOP_DEF = re.compile(r"\n(?:async[ \t]+)?(?P<d>def)[ \t]+[A-Za-z_]\w*|\n(?P<c>class)[ \t]+\w+")


def _python_scan(text: str) -> list[Symbol]:
    """Python definitions from the text alone: for files being edited (and for speed)."""
    masked = mask(text, PYTHON).code
    code = "\n" + masked + "\n"  # every line starts after a "\n"
    return _python_symbols(text, code, _python_candidates(code, 0, len(code)), top_only=False)


def _python_top(text: str) -> list[Symbol]:
    """The depth-0 symbols of `_python_scan`, without looking inside top-level blocks: the
    bodies of column-0 `def`s and `class`es (most of a file) are skipped, not scanned."""
    masked = mask(text, PYTHON).code
    code = "\n" + masked + "\n"
    found: list[_Found] = []
    ends: dict[int, int] = {}
    gap = 0  # where the code outside the column-0 blocks seen so far starts
    for m in _PY_TOP_DEF.finditer(code):
        found.extend(_python_candidates(code, gap, m.start() + 1))
        keyword_ = "def" if m["d"] else "class"
        offset = m.start(keyword_[0])
        name = m.group()[m.end(keyword_[0]) - m.start() :].strip()
        found.append((offset, 0, name, keyword_, True))
        gap = ends[offset] = _python_block_end(code, offset, 0)
        first = _dedent(0).search(code, code.find("\n", offset))
        if first is not None and first.start() < gap:
            # A column-0 line inside the block (brackets or quotes left open): the full
            # scan ends blocks at such lines in its own way; take its answer.
            return [s for s in _python_scan(text) if s.depth == 0]
    found.extend(_python_candidates(code, gap, len(code)))
    return _python_symbols(text, code, found, top_only=True, ends=ends)


def _python_candidates(code: str, start: int, end: int) -> list[_Found]:
    """The `def`/`class` headers and shown assignments in code[start:end], any indentation."""
    found: list[_Found] = []
    for pattern, keyword_ in zip(_PY_DEFS, ("def", "class"), strict=True):
        for m in pattern.finditer(code, start, end):
            line_start = code.rfind("\n", 0, m.start()) + 1
            lead = code[line_start : m.start()]
            if not lead or lead.isspace() or (keyword_ == "def" and lead.split() == ["async"]):
                indent = len(lead) - len(lead.lstrip(" \t"))
                found.append((m.start(), indent, m["name"], keyword_, True))
    for m in _PY_ASSIGN.finditer(code, start, end):
        chained = _PY_CHAINED.match(code, m.end())
        if (m["ann"] is not None or _UPPER.fullmatch(m["name"])) and not keyword.iskeyword(m[2]):
            found.append((m.start("name"), len(m["indent"]), m["name"], m["ann"], False))
        while chained:  # A = B = value
            if _UPPER.fullmatch(chained[1]):
                found.append((chained.start(1), len(m["indent"]), chained[1], None, False))
            chained = _PY_CHAINED.match(code, chained.end())
    return found


def _python_symbols(
    text: str, code: str, found: list[_Found], *, top_only: bool, ends: dict[int, int] | None = None
) -> list[Symbol]:
    """The outline from the candidates: nesting by indentation and block ends; `top_only`
    keeps depth 0 (deeper blocks are still followed, to know where they end)."""
    found.sort()
    lines, code_lines = text.split("\n"), code[1:-1].split("\n")
    out: list[Symbol] = []
    stack: list[tuple[int, int, str | None]] = []  # indent, end offset, "class" or "def"
    line = last = brackets = counted = 0
    for offset, indent, name, detail, is_def in found:
        line += code.count("\n", last, offset)
        last = offset
        if not is_def:  # `def` and `class` never appear inside brackets; assignments may
            for opener, closer in ("()", "[]", "{}"):
                brackets += code.count(opener, counted, offset) - code.count(
                    closer, counted, offset
                )
            counted = offset
            if brackets > 0:
                continue  # a dict entry or keyword argument, not a statement
        while stack and (stack[-1][1] < offset or stack[-1][0] >= indent):
            stack.pop()
        if stack and stack[-1][2] == "def":
            continue  # nested in a function: not part of the outline
        row, in_class = line - 1, bool(stack)
        if not is_def:
            kind = _assignment_kind(name, detail, in_class)
            if kind and not (top_only and stack):
                header = _header(lines, row, row + 1, brace=False)
                out.append(Symbol(name, kind, row, row, header, len(stack)))
            continue
        end = ends.get(offset) if ends else None
        end = _python_block_end(code, offset, indent) if end is None else end
        if not (top_only and stack):
            end_row = max(row, row + code.count("\n", offset, end))
            kind = "class" if detail == "class" else "method" if in_class else "function"
            header = _header(lines, row, None, code_lines)
            out.append(Symbol(name, kind, row, end_row, header, len(stack)))
        stack.append((indent, end, detail))
    return out


# -- brace languages -------------------------------------------------------------------------

_Rule = tuple[re.Pattern[str], str]
_GO_TOP: list[_Rule] = [
    (re.compile(r"func\s+\(\s*(?:\w+\s+)?\*?\s*[\w.]+(?:\[[^\]]*\])?\s*\)\s*(\w+)"), "method"),
    (re.compile(r"func\s+(\w+)"), "function"),
    (re.compile(r"type\s+(\w+)(?:\[[^\]]*\])?\s+struct\b"), "struct"),
    (re.compile(r"type\s+(\w+)(?:\[[^\]]*\])?\s+interface\b"), "interface"),
    (re.compile(r"type\s+(\w+)"), "type"),
    (re.compile(r"const\s+(\w+)"), "constant"),
    (re.compile(r"var\s+(\w+)"), "variable"),
]
_GO_GROUP = re.compile(r"(type|const|var)\s*\(\s*$")
_GO_GROUP_KIND = {"type": "type", "const": "constant", "var": "variable"}
_VIS = r"(?:pub(?:\s*\([^)]*\))?\s+)?"
_RUST_ITEMS: list[_Rule] = [
    (
        re.compile(
            _VIS + r'(?:(?:const|async|unsafe|default|extern(?:\s+"[^"]*")?)\s+)*fn\s+(\w+)'
        ),
        "function",
    ),
    (re.compile(_VIS + r"(?:struct|union)\s+(\w+)"), "struct"),
    (re.compile(_VIS + r"enum\s+(\w+)"), "enum"),
    (re.compile(_VIS + r"(?:unsafe\s+)?(?:auto\s+)?trait\s+(\w+)"), "trait"),
    (re.compile(_VIS + r"type\s+(\w+)"), "type"),
    (re.compile(_VIS + r"(?:const|static)\s+(?:mut\s+)?(\w+)"), "constant"),
    (re.compile(_VIS + r"mod\s+(\w+)"), "module"),
    (re.compile(r"macro_rules!\s*(\w+)"), "macro"),
    (
        re.compile(
            r"(?:unsafe\s+)?impl\b(?:\s*<[^{]{0,200}?>)?\s*([^{;]{1,300}?)\s*(?:\bwhere\b|\{|$)"
        ),
        "impl",
    ),
]
_CONTAINERS = frozenset({"class", "module", "trait", "impl"})
_CONTINUES = tuple("(,[=+-*/&|<>:?")
_JS_LEAD = re.compile(r"\s*(?:[|&.?:]|=>)")  # a line starting so continues the one before


def _braces(text: str, language: str) -> list[Symbol]:
    code = mask(text, language).code.split("\n")
    lines = text.split("\n")
    depth_at = [0]
    for masked_line in code:
        depth_at.append(depth_at[-1] + masked_line.count("{") - masked_line.count("}"))
    out: list[Symbol] = []
    stack: list[tuple[Symbol, int]] = []  # open containers and the brace depth of their bodies
    group: str | None = None  # inside Go's `const (` … `)`
    js = language in JS_FAMILY
    for row, masked in enumerate(code):
        while stack and (stack[-1][0].end_line or 0) < row:
            stack.pop()
        body_depth = stack[-1][1] if stack else 0
        if depth_at[row] != body_depth or not masked.strip():
            continue
        container = stack[-1][0].kind if stack else None
        if js:
            hit = match_js(masked.strip(), container == "class", code, row)
        else:
            hit = _match_line(masked.strip(), language, container, group)
        if language == GO:
            opened = _GO_GROUP.match(masked.strip())
            group = opened.group(1) if opened else None if masked.strip() == ")" else group
        if hit is None:
            continue
        name, kind = hit
        end = _block_end(code, depth_at, row, js=js)
        symbol = Symbol(name, kind, row, end, _header(lines, row), len(stack))
        if kind == "method" and language == GO:
            symbol = Symbol(name, kind, row, end, symbol.signature, 1)
        out.append(symbol)
        if kind in _CONTAINERS and end > row:
            stack.append((symbol, depth_at[row] + 1))
    return without_overloads(out, code) if js else out


def _match_line(
    line: str, language: str, container: str | None, group: str | None
) -> tuple[str, str] | None:
    """Go and Rust; JS/TS lines are js_outline's."""
    if language == GO:
        if group and not line.startswith(")"):
            word = re.match(r"(\w+)\b", line)
            return (word.group(1), _GO_GROUP_KIND[group]) if word else None
        rules = _GO_TOP
    else:
        rules = _RUST_ITEMS
    for pattern, kind in rules:
        m = pattern.match(line)
        if m:
            name = " ".join(m.group(1).split())
            in_impl = container in ("impl", "trait")
            return name, "method" if kind == "function" and in_impl else kind
    return None


def _block_end(code: Sequence[str], depth_at: Sequence[int], row: int, *, js: bool = False) -> int:
    """The last line of the definition starting at `row`: its braces closed, or its line.

    In JS/TS (`js`) a line inside the parameters' parentheses (`(\n  a: A\n) => {`) or one
    the next line continues (`): A\n  | B {`) does not end it, whatever it ends with."""
    base, open_ = depth_at[row], 0
    for k in range(row, min(len(code), row + 400)):
        after = depth_at[k + 1]
        if after > base:
            for j in range(k + 1, len(code)):
                if depth_at[j + 1] <= base:
                    return j
            return len(code) - 1
        stripped = code[k].rstrip()
        if js:
            open_ += stripped.count("(") - stripped.count(")")
            if open_ > 0:
                continue
        if "{" in stripped or ";" in stripped or not stripped.endswith(_CONTINUES):
            if js and ";" not in stripped and k + 1 < len(code) and _JS_LEAD.match(code[k + 1]):
                continue
            return k
    return row


# -- Lua -------------------------------------------------------------------------------------

_LUA_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"local\s+function\s+([\w.]+)"), "function"),
    (re.compile(r"function\s+([\w.]+:\w+)"), "method"),
    (re.compile(r"function\s+([\w.]+)"), "function"),
    (re.compile(r"(?:local\s+)?([\w.]+)\s*=\s*function\b"), "function"),
]
_LUA_BLOCK = re.compile(r"\b(function|if|do|repeat|end|until)\b")


def _lua(text: str) -> list[Symbol]:
    code = mask(text, LUA).code
    lines = text.split("\n")
    depth_at: dict[int, int] = {}  # line → block depth at its start (lines with a keyword)
    closes: dict[int, int] = {}  # line of a `function` → line of its `end`
    stack: list[tuple[str, int]] = []
    line = last = 0
    for m in _LUA_BLOCK.finditer(code):
        line += code.count("\n", last, m.start())
        last = m.start()
        depth_at.setdefault(line, len(stack))
        word = m.group(1)
        if word in ("end", "until"):
            if stack:
                opener, at = stack.pop()
                if opener == "function":
                    closes.setdefault(at, line)
        else:
            stack.append((word, line))
    out: list[Symbol] = []
    for row, masked in enumerate(code.split("\n")):
        if depth_at.get(row, 0) != 0 or "function" not in masked:
            continue
        for pattern, kind in _LUA_RULES:
            hit = pattern.match(masked.strip())
            if hit:
                end = closes.get(row)
                out.append(Symbol(hit.group(1), kind, row, end, _header(lines, row), 0))
                break
    return out
