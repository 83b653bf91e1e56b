"""tree-sitter's answers for bench/parsers.py, taken with queries (captures made on the C side).

Each function returns the items of bench/_parsers_truth.py from source bytes, so its cost is
the whole job: parse, query, and turning captured nodes into names. The grammars are the
`bench` extra's (pyproject.toml); `load()` returns None when they are not installed.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _parsers_truth import DefItem, ImportItem, indexable

PY_IMPORTS = """
(import_statement name: (dotted_name) @name) @stmt
(import_statement name: (aliased_import name: (dotted_name) @name)) @stmt
(import_from_statement module_name: (_) @module) @stmt
(import_from_statement name: (dotted_name) @name) @stmt
(import_from_statement name: (aliased_import name: (dotted_name) @name)) @stmt
(import_from_statement (wildcard_import) @name) @stmt
(future_import_statement name: (dotted_name) @name) @future
(future_import_statement name: (aliased_import name: (dotted_name) @name)) @future
"""

PY_DEFINITIONS = """
(function_definition name: (identifier) @name) @def
(class_definition name: (identifier) @name) @class
"""

# Every identifier, and (@skip) those `ast` does not hold as a Name or an Attribute: the
# names a def, class, parameter, keyword argument, import, global or `except as` binds.
PY_IDENTIFIERS = """
(identifier) @id
(function_definition name: (identifier) @skip)
(class_definition name: (identifier) @skip)
(parameters (identifier) @skip)
(lambda_parameters (identifier) @skip)
(default_parameter name: (identifier) @skip)
(typed_default_parameter name: (identifier) @skip)
(typed_parameter (identifier) @skip)
(parameters (list_splat_pattern (identifier) @skip))
(parameters (dictionary_splat_pattern (identifier) @skip))
(lambda_parameters (list_splat_pattern (identifier) @skip))
(lambda_parameters (dictionary_splat_pattern (identifier) @skip))
(typed_parameter (list_splat_pattern (identifier) @skip))
(typed_parameter (dictionary_splat_pattern (identifier) @skip))
(keyword_argument name: (identifier) @skip)
(global_statement (identifier) @skip)
(nonlocal_statement (identifier) @skip)
(import_statement (dotted_name (identifier) @skip))
(import_statement (aliased_import (dotted_name (identifier) @skip)))
(import_from_statement (dotted_name (identifier) @skip))
(import_from_statement (relative_import (dotted_name (identifier) @skip)))
(import_from_statement (aliased_import (dotted_name (identifier) @skip)))
(aliased_import alias: (identifier) @skip)
(except_clause (as_pattern alias: (as_pattern_target (identifier) @skip)))
(future_import_statement (dotted_name (identifier) @skip))
(future_import_statement (aliased_import (dotted_name (identifier) @skip)))
"""

JS_IMPORTS = """
(import_statement source: (string (string_fragment) @spec)) @stmt
(export_statement source: (string (string_fragment) @spec)) @stmt
((call_expression function: (identifier) @fn arguments: (arguments . (string
  (string_fragment) @spec))) @stmt (#eq? @fn "require"))
(call_expression function: (import) arguments: (arguments . (string (string_fragment) @spec)))
  @stmt
"""

_JS_DECLARATIONS = ("function_declaration", "generator_function_declaration", "class_declaration")
_TS_DECLARATIONS = (*_JS_DECLARATIONS, "abstract_class_declaration")
_FUNCTION_VALUE = "[(arrow_function) (function_expression)]"


def _js_definitions(declarations: tuple[str, ...]) -> str:
    """Top-level classes and functions (a `const f = () => ...` too), exported or not."""
    patterns = []
    for wrap_open, wrap_close in (("", ""), ("(export_statement declaration: ", ")")):
        for kind in declarations:
            patterns.append(f"(program {wrap_open}({kind} name: (_) @name){wrap_close})")
        for kind in ("lexical_declaration", "variable_declaration"):
            patterns.append(
                f"(program {wrap_open}({kind} (variable_declarator name: (identifier) @name "
                f"value: {_FUNCTION_VALUE})){wrap_close})"
            )
    return "\n".join(patterns)


@dataclass
class Grammar:
    """One language: its parser and compiled queries (a cursor per query, reused)."""

    parser: Any
    cursors: dict[str, Any]
    version: str


def load() -> dict[str, Grammar] | None:
    """Python, JavaScript and TypeScript grammars with their queries; None when not installed."""
    try:
        ts = importlib.import_module("tree_sitter")
        modules = {
            name: importlib.import_module(f"tree_sitter_{name}")
            for name in ("python", "javascript", "typescript")
        }
    except ImportError:
        return None
    languages = {
        "python": (modules["python"].language(), "python"),
        "javascript": (modules["javascript"].language(), "javascript"),
        "typescript": (modules["typescript"].language_typescript(), "typescript"),
    }
    queries = {
        "python": {
            "imports": PY_IMPORTS,
            "definitions": PY_DEFINITIONS,
            "identifiers": PY_IDENTIFIERS,
            "all_identifiers": "(identifier) @id",
        },
        "javascript": {"imports": JS_IMPORTS, "definitions": _js_definitions(_JS_DECLARATIONS)},
        "typescript": {"imports": JS_IMPORTS, "definitions": _js_definitions(_TS_DECLARATIONS)},
    }
    out = {}
    for name, (pointer, dist) in languages.items():
        language = ts.Language(pointer)
        cursors = {
            part: ts.QueryCursor(ts.Query(language, source))
            for part, source in queries[name].items()
        }
        out[name] = Grammar(ts.Parser(language), cursors, _version(f"tree-sitter-{dist}"))
    return out


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def parse(grammar: Grammar, source: bytes) -> Any:
    return grammar.parser.parse(source).root_node


def py_imports(grammar: Grammar, source: bytes, root: Any = None) -> list[ImportItem]:
    """`import a, b` → one item per module; `from m import a, b` → one item with both names."""
    root = parse(grammar, source) if root is None else root
    plain: list[ImportItem] = []
    froms: dict[int, tuple[int, list[str], list[str]]] = {}  # statement start → its parts
    for _, match in grammar.cursors["imports"].matches(root):
        if "future" in match:  # its own node type, module implied
            stmt = match["future"][0]
            entry = froms.setdefault(stmt.start_byte, (stmt.start_point[0], ["__future__"], []))
            entry[2].append(_squash(source, match["name"][0]))
            continue
        stmt = match["stmt"][0]
        if stmt.type == "import_statement":
            name = match["name"][0]
            plain.append((stmt.start_point[0], _squash(source, name), ()))
            continue
        entry = froms.setdefault(stmt.start_byte, (stmt.start_point[0], [], []))
        if "module" in match:
            entry[1].append(_squash(source, match["module"][0]))
        else:
            entry[2].append(_squash(source, match["name"][0]))
    plain += [(row, module[0], tuple(names)) for row, module, names in froms.values() if module]
    return sorted(plain)


def _squash(source: bytes, node: Any) -> str:
    """A dotted name as written, without the spaces `from .. m` may have."""
    return "".join(source[node.start_byte : node.end_byte].decode().split())


def py_definitions(grammar: Grammar, source: bytes, root: Any = None) -> list[DefItem]:
    """Defs and classes not inside a function: nesting is read from the captured byte ranges."""
    root = parse(grammar, source) if root is None else root
    found = []
    for _, match in grammar.cursors["definitions"].matches(root):
        kind = "def" if "def" in match else "class"
        node, name = match[kind][0], match["name"][0]
        found.append((node.start_byte, node.end_byte, node.start_point[0], name, kind))
    found.sort(key=lambda item: item[0])
    out: list[DefItem] = []
    open_: list[tuple[int, str]] = []  # (end byte, kind) of the definitions around this one
    for start, end, row, name, kind in found:
        while open_ and open_[-1][0] <= start:
            open_.pop()
        if not any(k == "def" for _, k in open_):
            out.append((row, source[name.start_byte : name.end_byte].decode(), kind))
        open_.append((end, kind))
    return sorted(out)


def py_definitions_walk(grammar: Grammar, source: bytes, root: Any = None) -> list[DefItem]:
    """The same answer by walking the tree in Python: what the queries are measured against."""
    root = parse(grammar, source) if root is None else root
    out: list[DefItem] = []
    todo = [(root, False)]  # (node, inside a function)
    while todo:
        node, in_function = todo.pop()
        for child in node.named_children:
            kind = child.type
            if kind in ("function_definition", "class_definition"):
                if not in_function:
                    name = child.child_by_field_name("name")
                    text = source[name.start_byte : name.end_byte].decode()
                    out.append((child.start_point[0], text, "def" if kind[0] == "f" else "class"))
                todo.append((child, in_function or kind == "function_definition"))
            elif child.named_child_count:
                todo.append((child, in_function))
    return sorted(out)


def py_identifiers(
    grammar: Grammar,
    source: bytes,
    root: Any = None,
    *,
    skip: bool = True,
    stop: frozenset[str] = frozenset(),
) -> Counter[str]:
    """Identifier occurrences search.py would keep (only Names and Attributes when `skip`)."""
    root = parse(grammar, source) if root is None else root
    part = "identifiers" if skip else "all_identifiers"
    captures = grammar.cursors[part].captures(root)
    ids = captures.get("id", [])
    if skip:
        dropped = {n.start_byte for n in captures.get("skip", [])}
        ids = [n for n in ids if n.start_byte not in dropped]
    counts = Counter(source[n.start_byte : n.end_byte] for n in ids)
    words = {word.decode(): count for word, count in counts.items()}  # decoded once per name
    return Counter({word: words[word] for word in indexable(words, stop)})


def js_imports(grammar: Grammar, source: bytes, root: Any = None) -> list[tuple[int, str]]:
    """(line, module) per import, export-from, require() and import() with a literal."""
    root = parse(grammar, source) if root is None else root
    out = []
    for _, match in grammar.cursors["imports"].matches(root):
        spec = match["spec"][0]
        out.append((match["stmt"][0].start_point[0], _text(source, spec)))
    return sorted(out)


def js_definitions(grammar: Grammar, source: bytes, root: Any = None) -> list[tuple[int, str]]:
    """(line, name) of top-level classes and functions."""
    root = parse(grammar, source) if root is None else root
    names = grammar.cursors["definitions"].captures(root).get("name", [])
    return sorted((n.start_point[0], _text(source, n)) for n in names)


def _text(source: bytes, node: Any) -> str:
    return source[node.start_byte : node.end_byte].decode(errors="replace")


PyPart = Callable[[Grammar, bytes, Any], Any]
