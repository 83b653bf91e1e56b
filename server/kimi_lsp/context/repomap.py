"""A compact map of the workspace: its directory tree and each file's top-level symbols."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from .symbols import Symbol

INDENT = "  "
NAMES_PER_FILE = 8  # a ranked map that leaves files out shows this many names per file
# What the names of a file not outlined yet are counted for in a ranked map (at least): more
# than most files' take (up to NAMES_PER_FILE names of a stdlib file: 81 characters on average,
# 145 at the 90th percentile, 232 at most), so such a map lists fewer files than the map with
# names would (at 10x the stdlib's window-budget map, 120 lists 13% fewer, 100 2% more).
PENDING_NAMES_CHARS = 160
_KEYWORD_KINDS = {
    "class": "class",
    "interface": "interface",
    "struct": "struct",
    "enum": "enum",
    "trait": "trait",
    "impl": "impl",
    "type": "type",
    "module": "mod",
}


def render_symbol(symbol: Symbol) -> str:
    """`class Foo`, `load()`, `hello!`, `MAX_SIZE`: a name and what it is, briefly."""
    if symbol.kind in _KEYWORD_KINDS:
        return f"{_KEYWORD_KINDS[symbol.kind]} {symbol.name}"
    if symbol.kind in ("function", "method"):
        return f"{symbol.name}()"
    if symbol.kind == "macro":
        return f"{symbol.name}!"
    return symbol.name


def top_names(symbols: Sequence[Symbol]) -> list[str]:
    """The rendered top-level symbols of a file, public ones first (they go first)."""
    public = [s for s in symbols if s.depth == 0 and not s.name.startswith("_")]
    private = [s for s in symbols if s.depth == 0 and s.name.startswith("_")]
    return [render_symbol(s) for s in public + private]


@dataclass(frozen=True, slots=True)
class RepoMap:
    """The map as sent, and why it holds what it holds (the manifest's reason)."""

    text: str
    reason: str


@dataclass
class _Dir:
    path: str
    depth: int
    files: list[str] = field(default_factory=list)
    dirs: dict[str, _Dir] = field(default_factory=dict)
    count: int = 0  # files in this directory and below
    sources: int = 0  # of which have symbols


def _tree(files: Sequence[str]) -> _Dir:
    """The directory tree of `files` (sorted, distinct)."""
    root = _Dir("", 0)
    by_path = {"": root}  # "a/b/" -> its node
    for rel in files:
        path = rel[: rel.rfind("/") + 1]
        node = by_path.get(path)
        if node is None:
            node = root
            for part in path.split("/")[:-1]:
                child = node.dirs.get(part)
                if child is None:
                    child = node.dirs[part] = _Dir(f"{node.path}{part}/", node.depth + 1)
                node = child
            by_path[path] = node
        node.files.append(rel)
    stack = [root]  # counts: parents after their children
    order: list[_Dir] = []
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.dirs.values())
    for node in reversed(order):
        node.count = len(node.files) + sum(child.count for child in node.dirs.values())
    return root


class _Map:
    """Renders the tree with a cap on symbols per file and some directories collapsed."""

    def __init__(self, files: Sequence[str], outlines: Mapping[str, Sequence[Symbol]]) -> None:
        unique = list(dict.fromkeys(sorted(files)))  # sorted(set(files)), faster when sorted
        self.root = _tree(unique)
        self.names: dict[str, Sequence[str]] = {}
        self.symbols: dict[str, Sequence[Symbol]] = {}  # of the files that have some
        self.sources: dict[str, bool] = {}
        self.widths: dict[str, list[int]] = {}  # the lengths of the first n names, n = 0, 1, ...
        for rel in unique:
            symbols = outlines.get(rel)
            if not symbols:
                self.names[rel] = ()
                self.sources[rel] = False
                continue
            self.symbols[rel] = symbols
            names = top_names(symbols)
            self.names[rel] = names
            self.sources[rel] = bool(names)
            if names:
                self.widths[rel] = [0, *accumulate(len(name) for name in names)]

    def details(self, rel: str) -> list[str]:
        """The headers of a file's top-level definitions and of those right inside them."""
        symbols = self.symbols.get(rel, ())
        return [INDENT * s.depth + s.signature for s in symbols if s.depth <= 1]

    def details_fit(self, max_chars: int) -> bool:
        """Whether all the files' details add up to at most `max_chars` characters."""
        total = 0
        for symbols in self.symbols.values():
            total += sum(len(INDENT) * s.depth + len(s.signature) for s in symbols if s.depth <= 1)
            if total > max_chars:
                return False
        return total <= max_chars

    def file_line(self, rel: str, depth: int, cap: int) -> str:
        name = INDENT * depth + rel[rel.rfind("/") + 1 :]
        names = self.names[rel]
        if cap <= 0 or not names:
            return name
        shown = "; ".join(names[:cap])
        more = f"; … +{len(names) - cap}" if len(names) > cap else ""
        return f"{name}: {shown}{more}"

    def lines(self, cap: int, collapsed: set[str], signatures: bool = False) -> list[str]:
        out: list[str] = []

        def walk(node: _Dir) -> None:
            if signatures:
                indent = INDENT * node.depth
                pad = indent + INDENT
                for rel in node.files:
                    out.append(indent + rel[rel.rfind("/") + 1 :])
                    if rel in self.symbols:
                        out.extend(pad + detail for detail in self.details(rel))
            else:
                out.extend(self.file_line(rel, node.depth, cap) for rel in node.files)
            for name in sorted(node.dirs):
                child = node.dirs[name]
                if child.path in collapsed:
                    out.append(self.collapsed_line(child))
                else:
                    out.append(f"{INDENT * node.depth}{name}/")
                    walk(child)

        walk(self.root)
        return out

    @staticmethod
    def collapsed_line(node: _Dir) -> str:
        name = node.path.rstrip("/").rsplit("/", 1)[-1]
        noun = "file" if node.count == 1 else "files"
        return f"{INDENT * (node.depth - 1)}{name}/ ({node.count} {noun})"

    def line_length(self, rel: str, depth: int, cap: int) -> int:
        """len(file_line(rel, depth, cap)), without rendering it."""
        length = len(INDENT) * depth + len(rel) - rel.rfind("/") - 1
        names = self.names[rel]
        if cap <= 0 or not names:
            return length
        shown = min(cap, len(names))
        length += 2 + self.widths[rel][shown] + 2 * (shown - 1)  # ": " and names with "; "
        if len(names) > cap:
            length += len("; … +") + len(str(len(names) - cap))
        return length

    def size(self, cap: int) -> int:
        """Characters of `lines(cap, set())` joined, without rendering them."""
        total = 0
        stack = [self.root]
        while stack:
            node = stack.pop()
            total += sum(self.line_length(rel, node.depth, cap) + 1 for rel in node.files)
            for name, child in node.dirs.items():
                total += len(INDENT) * node.depth + len(name) + 2
                stack.append(child)
        return total - 1 if total else 0

    def subtree_sizes(self) -> dict[str, tuple[int, _Dir]]:
        """Each directory's rendered size, its own line included, with no symbols shown."""
        sizes: dict[str, tuple[int, _Dir]] = {}

        def visit(node: _Dir, header: int) -> int:
            size = header + sum(self.line_length(r, node.depth, 0) + 1 for r in node.files)
            for name, child in node.dirs.items():
                size += visit(child, len(INDENT) * node.depth + len(name) + 2)
            sizes[node.path] = (size, node)
            return size

        visit(self.root, 0)
        return sizes


def repo_map(files: Sequence[str], outlines: Mapping[str, Sequence[Symbol]], max_chars: int) -> str:
    """The workspace's tree with top-level symbols, made to fit `max_chars` deterministically.

    Most detail first: every file with its definitions' headers; else names of top-level
    symbols, public ones first, as many per file as fit (the same cap for every file); else no
    symbols and directories collapsed to `dir/ (N files)` (hidden ones first, then the deepest,
    then those with the least code); else the first lines.
    The same input always gives the same bytes (it goes early in the prompt, for the cache).
    """
    if max_chars <= 0 or not files:
        return ""
    view = _Map(files, outlines)
    if view.details_fit(max_chars):
        detailed = "\n".join(view.lines(0, set(), signatures=True))
        if len(detailed) <= max_chars:
            return detailed
    most = max((len(names) for names in view.names.values()), default=0)
    if view.size(0) <= max_chars:
        low, high = 0, most  # the largest cap that fits: size grows with the cap
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if view.size(middle) <= max_chars else (low, middle - 1)
        return "\n".join(view.lines(low, set()))
    return _collapse(view, max_chars)


def _collapse(view: _Map, max_chars: int) -> str:
    sizes = view.subtree_sizes()
    current = {path: size for path, (size, _) in sizes.items()}
    total = current[""] - 1
    collapsed: set[str] = set()
    for rel, has_symbols in view.sources.items():
        if has_symbols:
            path = rel[: rel.rfind("/") + 1]
            while path:
                sizes[path][1].sources += 1
                path = path[: path.rstrip("/").rfind("/") + 1]
    order = sorted((d for _, d in sizes.values() if d.path), key=_collapse_order)
    for node in order:
        if total <= max_chars:
            break
        line = len(view.collapsed_line(node)) + 1
        saving = current[node.path] - line
        if saving <= 0:
            continue
        collapsed.add(node.path)
        total -= saving
        parent = node.path
        while parent:  # ancestors shrink by the same amount
            parent = parent[: parent.rstrip("/").rfind("/") + 1]
            current[parent] -= saving
        current[node.path] = line
    lines = view.lines(0, collapsed)
    return _first_lines(lines, max_chars)


def _collapse_order(node: _Dir) -> tuple[bool, int, int, int, str]:
    """Hidden directories first, then the deepest; of those, the ones with the least code."""
    hidden = node.path.startswith(".") or "/." in node.path
    return not hidden, -node.depth, node.sources, -node.count, node.path


def _first_lines(lines: list[str], max_chars: int) -> str:
    text = "\n".join(lines)
    if len(text) <= max_chars:
        return text
    kept: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        marker = f"… {len(lines) - i} more lines"
        if used + len(line) + 1 + len(marker) > max_chars:
            fits = used + len(marker) <= max_chars
            return "\n".join([*kept, marker] if fits else kept)
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def ranked_map(
    ranked: Sequence[str],
    symbols_of: Callable[[str], Sequence[Symbol] | None],
    max_chars: int,
) -> tuple[str, int]:
    """The map of the files in `ranked` (best first, distinct) and how many of them it shows.

    When every file fits with up to NAMES_PER_FILE names, this is `repo_map` of them all.
    Else it shows the longest run of best-ranked files that fits with their names (still as a
    tree in path order, so it reads like the workspace) and ends with how many it left out.
    `symbols_of` is asked only for the files looked at: those shown and the next ones until
    the map would be full without the count (usually one). It answers None for a file not
    outlined yet: shown by its path, it is counted as if it had names (`_pending_chars`), so
    the map lists no more files than it would with their names (a run of paths says less
    than the same room of names, and costs more tokens).
    """
    if max_chars <= 0 or not ranked:
        return "", 0
    outlines: dict[str, Sequence[Symbol]] = {}
    public: dict[str, Sequence[Symbol]] = {}  # what a map that leaves files out shows
    dirs: set[str] = set()
    used = -1  # no newline before the first line
    fit: int | None = None  # how many files fit with the count of the others after them
    named = [0, 0]  # characters of names, files: of the files with names so far
    for count, rel in enumerate(ranked):
        symbols = symbols_of(rel)
        outlines[rel] = symbols or ()
        public[rel] = _public(outlines[rel])
        names = top_names(public[rel])
        used += _added_size(rel, names, dirs)
        if symbols is None:
            used += _pending_chars(*named)
        elif names:
            named[0] += _names_width(names)
            named[1] += 1
        dirs.update(_parents(rel))
        left = len(ranked) - count - 1
        if fit is None and used + (len(_left_out_line(left)) + 1 if left else 0) > max_chars:
            fit = count  # but all of them may still fit without the count: read on
        if used > max_chars:
            break
    else:
        return repo_map(ranked, outlines, max_chars), len(ranked)
    if not fit:
        return "", 0  # not even the best file fits: a bare count says nothing
    return _top_files(ranked[:fit], public, len(ranked) - fit, max_chars), fit


def _pending_chars(named_chars: int, named_files: int) -> int:
    """What the names of a file not outlined yet are counted for: PENDING_NAMES_CHARS, or half
    as much again as the files with names so far took on average when that is more (a
    workspace of longer names than the stdlib's)."""
    average = named_chars // named_files if named_files else 0
    return max(PENDING_NAMES_CHARS, 3 * average // 2)


def _public(symbols: Sequence[Symbol]) -> Sequence[Symbol]:
    """The top-level symbols without a leading underscore (all of them if none is public):
    with little room, `_helper()` says less about a file than its API does."""
    top = [s for s in symbols if s.depth == 0]
    shown = [s for s in top if not s.name.startswith("_")]
    return shown or top


def _top_files(
    files: Sequence[str], outlines: Mapping[str, Sequence[Symbol]], left: int, max_chars: int
) -> str:
    lines = _Map(files, outlines).lines(NAMES_PER_FILE, set()) if files else []
    return _first_lines([*lines, _left_out_line(left)], max_chars)


def _left_out_line(left: int) -> str:
    return f"… {left} more file{'s' if left != 1 else ''}, ranked lower"


def _parents(rel: str) -> list[str]:
    """`a/b/c.py` -> ["a/", "a/b/"]."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _added_size(rel: str, names: Sequence[str], dirs: set[str]) -> int:
    """Characters (newlines included) that `rel`'s line and its new directory lines add."""
    parents = _parents(rel)
    size = 0
    for depth, path in enumerate(parents):
        if path not in dirs:  # `  name/` and its newline
            size += len(INDENT) * depth + len(path[:-1].rsplit("/", 1)[-1]) + 2
    line = len(INDENT) * len(parents) + len(rel) - rel.rfind("/") - 1
    return size + 1 + line + _names_width(names)


def _names_width(names: Sequence[str]) -> int:
    """Characters a file's names add to its line in a map that leaves files out."""
    shown = names[:NAMES_PER_FILE]
    if not shown:
        return 0
    width = 2 + sum(len(name) for name in shown) + 2 * (len(shown) - 1)
    if len(names) > NAMES_PER_FILE:
        width += len("; … +") + len(str(len(names) - NAMES_PER_FILE))
    return width
