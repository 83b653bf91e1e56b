"""The names a cursor window uses: identifiers and attribute chains, with the lines they are on."""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .languages import PYTHON, mask, normalize
from .symbols import Symbol

__all__ = ["WINDOW_LINES", "Uses", "enclosing", "uses_in_window", "window_of"]

WINDOW_LINES = 15  # lines either side of the cursor whose names count as "used here"
MAX_HEADER_LINES = 8
MAX_PARSE_LINES = 400  # a bigger enclosing block is parsed by its inner definition instead
_CONTAINER_KINDS = frozenset({"class", "function", "method", "struct", "impl", "trait"})
_SKIP = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "cls", "this", "super"}
_OTHER_KEYWORDS = frozenset(
    [
        "const",
        "let",
        "var",
        "function",
        "return",
        "new",
        "typeof",
        "instanceof",
        "import",
        "export",
        "from",
        "default",
        "func",
        "package",
        "type",
        "struct",
        "interface",
        "fn",
        "pub",
        "mut",
        "impl",
        "use",
        "mod",
        "crate",
        "match",
        "local",
        "then",
        "end",
        "elseif",
        "nil",
        "true",
        "false",
        "null",
        "undefined",
        "void",
        "static",
        "extends",
        "implements",
        "enum",
        "string",
        "number",
        "boolean",
        "any",
        "unknown",
        "never",
        "int",
        "bool",
        "error",
    ]
)
# `name = Callee(` on a line of its own: a local typed by what constructs it
_CONSTRUCTED = re.compile(r"[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*([A-Za-z_][\w.]*)\(")
# `self.x = Callee(` or `self.x: Type` anywhere in a class: the attribute's class
_SELF_TYPED = re.compile(
    r"\bself\.([A-Za-z_]\w*)[ \t]*"
    r"(?:=[ \t]*(?:\\\n[ \t]*)?([A-Za-z_][\w.]*)\(|:[ \t]*([A-Za-z_][\w.]*))"
)
MAX_SCAN_LINES = 200  # lines above top-level code searched for `x = Callee(...)`
_CHAIN = re.compile(r"(?<![\w$.])[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*")
_ANNOTATED = re.compile(r"([A-Za-z_]\w*)\s*:\s*([A-Za-z_][\w.]*)")


@dataclass(slots=True)
class Uses:
    """What the window uses. `chains` maps a name as written (`("futures", "_PyFuture")`) to
    the 0-based lines it is on; `types` maps a local (`("t",)`, `("self", "x")`) to its
    annotation's chain; `members` are the attribute names used (a class's members used)."""

    chains: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    types: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    # `ctx = get_context()`: the local → the function called (its return annotation types it)
    returns: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    def add(self, chain: tuple[str, ...], line: int) -> None:
        self.members.update(chain[1:])
        if not chain or (len(chain) == 1 and chain[0] in _SKIP):
            return
        lines = self.chains.setdefault(chain, [])
        if line not in lines:
            lines.append(line)


def window_of(text: str, lines: tuple[int, int] | None, cursor: int | None) -> tuple[int, int]:
    """The window of 0-based lines [first, last] a request looks at: the selection's lines, or
    WINDOW_LINES either side of the cursor."""
    total = text.count("\n") + 1
    if lines is not None:
        return max(0, lines[0]), min(total - 1, max(lines[0], lines[1] - 1))
    center = min(max(cursor or 0, 0), total - 1)
    return max(0, center - WINDOW_LINES), min(total - 1, center + WINDOW_LINES)


def enclosing(symbols: Sequence[Symbol], line: int) -> list[Symbol]:
    """The definitions around `line`, outermost first (classes and functions only)."""
    out = [
        s
        for s in symbols
        if s.kind in _CONTAINER_KINDS and s.line <= line <= (s.end_line or s.line)
    ]
    return sorted(out, key=lambda s: (s.depth, s.line))


def uses_in_window(
    text: str, language: str, window: tuple[int, int], symbols: Sequence[Symbol], cursor: int
) -> Uses:
    """The names the window uses plus those in the headers (signature, annotations, bases) of
    the definitions around `cursor`. Python is read with `ast` when the enclosing top-level
    block parses, else (and for other languages) as tokens with comments and strings blanked."""
    around = enclosing(symbols, cursor)
    if normalize(language) == PYTHON:
        parsed = _python_uses(text, window, around, cursor)
        uses = parsed if parsed is not None else _token_uses(text, language, window, around, Uses())
        _typed_by_construction(text, window, around, uses)
        return uses
    return _token_uses(text, language, window, around, Uses())


def _untyped(uses: Uses, size: int, on_self: bool) -> set[tuple[str, ...]]:
    """The prefixes of `size` parts (`("t",)`, `("self", "x")`) of the chains used past them
    whose type is not known yet: attributes of `self` or the other locals."""
    out = set()
    for chain in uses.chains:
        prefix = chain[:size]
        known = prefix in uses.types or prefix in uses.returns
        if len(chain) > size and (prefix[0] == "self") == on_self and not known:
            out.add(prefix)
    return out


def _typed_by_construction(
    text: str, window: tuple[int, int], around: list[Symbol], uses: Uses
) -> None:
    """Types the syntax of the window leaves unknown, by the class that constructs them:
    `self.canvas.delete()` with `self.canvas = Canvas(...)` anywhere in the enclosing class, and
    in top-level code (`if __name__ == "__main__":`) `t.add()` with `t = Table(...)` above it."""
    wanted_self = _untyped(uses, 2, on_self=True)
    classes = [s for s in around if s.kind == "class"]
    if wanted_self and classes:
        cls = classes[-1]
        lines = text.split("\n")[cls.line : (cls.end_line or cls.line) + 1]
        for m in _SELF_TYPED.finditer("\n".join(lines)):
            local = ("self", m.group(1))
            chain = tuple((m.group(2) or m.group(3)).split("."))
            if local in wanted_self and _is_class_name(chain[-1]):
                uses.types.setdefault(local, chain)
    wanted = _untyped(uses, 1, on_self=False)
    if around or not wanted:
        return  # in a definition, its own syntax tree typed what it constructs
    rows = text.split("\n")
    for row in range(window[0] - 1, max(-1, window[0] - 1 - MAX_SCAN_LINES), -1):
        line = rows[row]
        if line.startswith(("def ", "class ", "async def ", "@")):
            break  # not the same top-level block any more
        hit = _CONSTRUCTED.match(line)
        if hit and (hit.group(1),) in wanted and _is_class_name(hit.group(2).split(".")[-1]):
            uses.types.setdefault((hit.group(1),), tuple(hit.group(2).split(".")))
            wanted.discard((hit.group(1),))


def _is_class_name(name: str) -> bool:
    """A class by convention: capitalised, private or not (`Table`, `_PopenSelector`)."""
    return name.lstrip("_")[:1].isupper()


# -- Python, from the syntax tree ------------------------------------------------------------


def _python_uses(
    text: str, window: tuple[int, int], around: list[Symbol], cursor: int
) -> Uses | None:
    lines = text.split("\n")
    # The outermost enclosing definition small enough to parse quickly (a method of a huge
    # class rather than the class); the headers of those outside it are read as tokens.
    small = [s for s in around if (s.end_line or s.line) - s.line < MAX_PARSE_LINES]
    if around and not small:
        return None
    if small:
        block = small[0]
        first, last = block.line, block.end_line or block.line
        while first > 0 and lines[first - 1].lstrip().startswith("@"):
            first -= 1  # decorators belong to the block
    else:
        first, last = window
    tree = _parse_block(lines[first : last + 1])
    if tree is None:
        return None
    uses = Uses()
    outer = [s for s in around if s.line < first]
    if outer:
        _token_uses(text, PYTHON, (first, first - 1), outer, uses)
    # The window's lines outside the parsed block (before or after it) are read as tokens.
    if window[0] < first:
        _token_uses(text, PYTHON, (window[0], first - 1), [], uses)
    if window[1] > last:
        _token_uses(text, PYTHON, (last + 1, window[1]), [], uses)
    low, high = window[0] - first + 1, window[1] - first + 1  # ast lines are 1-based
    for definition in _containing(tree.body, cursor - first + 1):
        _header_uses(definition, uses, first)
    for statement in tree.body:
        _visit(statement, low, high, first, uses)
    return uses


def _parse_block(lines: list[str]) -> ast.Module | None:
    """The block's syntax tree, its common indentation removed (line numbers kept)."""
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    if indent:
        lead = lines[0][:indent]
        lines = [line[indent:] if line.startswith(lead) else line for line in lines]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _containing(body: list[ast.stmt], line: int) -> Iterator[_Def]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if start <= line <= (node.end_lineno or node.lineno):
                yield node
                yield from _containing(node.body, line)


def _header_uses(node: _Def, uses: Uses, offset: int) -> None:
    """Bases, decorators, annotations of the definition; parameters' and fields' types."""
    parts: list[ast.expr] = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        parts += node.bases + [k.value for k in node.keywords]
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                _typed(uses, ("self", item.target.id), item.annotation)
    else:
        args = node.args
        every = args.posonlyargs + args.args + args.kwonlyargs
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        for arg in every:
            if arg.annotation is not None:
                parts.append(arg.annotation)
                _typed(uses, (arg.arg,), arg.annotation)
        parts += [d for d in args.defaults + args.kw_defaults if d is not None]
        if node.returns is not None:
            parts.append(node.returns)
        built: dict[str, tuple[str, ...]] = {}
        for inner in ast.walk(node):
            if isinstance(inner, ast.AnnAssign):  # self.x: Foo = … inside a method
                target = _chain(inner.target)
                if target and target[0] == "self":
                    _typed(uses, target, inner.annotation)
            elif isinstance(inner, ast.Assign) and isinstance(inner.value, ast.Call):
                _constructed(inner.targets, inner.value, built)
            else:
                _bound(inner, built)
        for name, chain in built.items():  # annotations win over `x = Foo(...)`
            if _is_class_name(chain[-1]):
                uses.types.setdefault((name,), chain)
            else:
                uses.returns.setdefault((name,), chain)
    for part in parts:
        _visit(part, 0, 1 << 30, offset, uses)


def _constructed(
    targets: list[ast.expr], call: ast.Call, built: dict[str, tuple[str, ...]]
) -> None:
    """`x = Foo(...)`, `x = make(...)`: the callee of the local `x`'s first assignment (a
    capitalised one is a class by convention, another a function with a return annotation)."""
    chain = _chain(call.func)
    target = targets[0] if len(targets) == 1 else None
    if chain and isinstance(target, ast.Name):
        built.setdefault(target.id, chain)


def _bound(node: ast.AST, built: dict[str, tuple[str, ...]]) -> None:
    """Names bound by `with Foo() as x`, `except Error as e` and `for t in a, b` (a name bound
    earlier, typed as that is)."""
    if isinstance(node, ast.With | ast.AsyncWith):
        for item in node.items:
            if isinstance(item.context_expr, ast.Call) and item.optional_vars is not None:
                _constructed([item.optional_vars], item.context_expr, built)
    elif isinstance(node, ast.ExceptHandler) and node.name and node.type is not None:
        caught = node.type.elts[0] if isinstance(node.type, ast.Tuple) else node.type
        chain = _chain(caught) if caught is not None else None
        if chain:
            built.setdefault(node.name, chain)
    elif isinstance(node, ast.For | ast.AsyncFor) and isinstance(node.target, ast.Name):
        items = node.iter.elts if isinstance(node.iter, ast.Tuple | ast.List) else []
        first = items[0] if items else None
        if isinstance(first, ast.Name) and first.id in built:
            built.setdefault(node.target.id, built[first.id])


def return_chain(signature: str) -> tuple[str, ...] | None:
    """The class a function's header says it returns (`def f() -> Context | None:`)."""
    arrow = signature.rfind("->")
    if arrow < 0:
        return None
    annotation = signature[arrow + 2 :].strip().removesuffix("...").strip().removesuffix(":")
    try:
        node = ast.parse(annotation.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _annotation_chain(node)


def _typed(uses: Uses, local: tuple[str, ...], annotation: ast.expr) -> None:
    chain = _annotation_chain(annotation)
    if chain:
        uses.types[local] = chain


def _annotation_chain(node: ast.expr) -> tuple[str, ...] | None:
    """The class an annotation names: `Task`, `m.Task`, `"Task"`, `Task | None`,
    `Optional[Task]`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        parts = tuple(node.value.strip().split("."))
        return parts if all(p.isidentifier() for p in parts) else None
    if isinstance(node, ast.BinOp):
        left = _annotation_chain(node.left)
        return left if left and left != ("None",) else _annotation_chain(node.right)
    optional = (("Optional",), ("typing", "Optional"))
    if isinstance(node, ast.Subscript) and _chain(node.value) in optional:
        return _annotation_chain(node.slice)
    chain = _chain(node)
    return chain if chain and chain != ("None",) else None


def _chain(node: ast.AST) -> tuple[str, ...] | None:
    parts: list[str] = []
    at: ast.AST = node
    while isinstance(at, ast.Attribute):
        parts.append(at.attr)
        at = at.value
    if isinstance(at, ast.Name):
        parts.append(at.id)
        return tuple(reversed(parts))
    if isinstance(at, ast.Call) and parts:  # super().x, f().x: only the members count
        return ("super", *reversed(parts)) if _chain(at.func) == ("super",) else None
    return None


def _visit(node: ast.AST, low: int, high: int, offset: int, uses: Uses) -> None:
    """Record every name and attribute chain on lines [low, high] (1-based, in `node`'s tree)."""
    end = getattr(node, "end_lineno", None)
    start = getattr(node, "lineno", None)
    if start is not None and end is not None and (end < low or start > high):
        return
    if isinstance(node, ast.Attribute | ast.Name) and start is not None:
        chain = _chain(node)
        if chain is not None:
            uses.add(chain, start - 1 + offset)
            return
    if isinstance(node, ast.Attribute):
        uses.members.add(node.attr)
    for child in ast.iter_child_nodes(node):
        _visit(child, low, high, offset, uses)


# -- any language, from tokens ---------------------------------------------------------------


def _token_uses(
    text: str, language: str, window: tuple[int, int], around: list[Symbol], uses: Uses
) -> Uses:
    code = mask(text, language).code.split("\n")
    rows = set(range(window[0], window[1] + 1))
    for symbol in around:
        header = range(symbol.line, min(symbol.line + MAX_HEADER_LINES, len(code)))
        for row in header:
            rows.add(row)
            for name, annotation in _ANNOTATED.findall(code[row]):
                uses.types[(name,)] = tuple(annotation.split("."))
            if code[row].rstrip().endswith((":", "{")):
                break
    for row in sorted(rows):
        if row >= len(code):
            break
        for m in _CHAIN.finditer(code[row]):
            chain = tuple(p for p in re.split(r"\.|::", m.group()) if p)
            if chain[0] not in _OTHER_KEYWORDS:
                uses.add(chain, row)
    return uses
