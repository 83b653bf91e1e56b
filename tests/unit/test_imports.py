"""Unit tests for import parsing per language, resolution to workspace files and the graph."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.context.import_graph import ImportGraph
from kimi_lsp.context.imports import ImportRef, imports_of
from kimi_lsp.context.resolve import FileSet, resolve_imports


def specs(text: str, language: str, **kw: bool) -> list[str]:
    return [ref.spec for ref in imports_of(text, language, **kw)]


# -- Python ----------------------------------------------------------------------------------

PYTHON = '''"""Docstring: import not_this"""
import os, a.b as c
from .x import (y,
    z as w)
from .. import q
from ..pkg.mod import thing
from . import *
s = "import nope; from nope import x"
# import commented
if TYPE_CHECKING:
    from typing_extensions import Self

def f():
    import lazy
    return r"""
from neither import this
"""
'''


@pytest.mark.parametrize("exact", [True, False])
def test_python_imports_with_names_levels_and_lines(exact: bool) -> None:
    refs = imports_of(PYTHON, "python", exact=exact)
    assert refs == [
        ImportRef("os", 1),
        ImportRef("a.b", 1),
        ImportRef(".x", 2, ("y", "z")),
        ImportRef("..", 4, ("q",)),
        ImportRef("..pkg.mod", 5, ("thing",)),
        ImportRef(".", 6, ("*",)),
        ImportRef("typing_extensions", 10, ("Self",)),
        ImportRef("lazy", 13),
    ]


def test_python_syntax_error_falls_back_to_scanning_code_only() -> None:
    broken = (
        "import os\n"
        "from .x import (y,\n"
        "   z as w\n"  # the parenthesis never closes
        's = """\nimport nope\n"""\n'
        "from . import q  # import nope2\n"
        "from pkg import a, \\\n    b\n"
        "def broken(:\n"
    )
    assert [(r.spec, r.line, r.names) for r in imports_of(broken, "python")] == [
        ("os", 0, ()),
        (".x", 1, ("y", "z")),
        (".", 6, ("q",)),
        ("pkg", 7, ("a", "b")),
    ]


def test_python_byte_order_mark_still_parses() -> None:
    assert specs("\ufeffimport os\n", "python") == ["os"]


STATEMENTS = [
    "import os",
    "import a.b.c as d",
    "from . import x",
    "from ..pkg import (a,\n    b as c,\n)",
    "from m import n, \\\n    o",
    "x = 'import fake'",
    's = """\nimport inside_string\n"""',
    "# from comment import x",
    "def f():\n    import lazy",
    "try:\n    import fast\nexcept ImportError:\n    fast = None",
    "raise ValueError('x') from None",
    "y = [i for i in range(3)]",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(STATEMENTS), max_size=12))
def test_python_scanner_agrees_with_ast(parts: list[str]) -> None:
    source = "\n".join(parts) + "\n"
    assert imports_of(source, "python", exact=False) == imports_of(source, "python", exact=True)


# -- JavaScript / TypeScript -----------------------------------------------------------------

JS = """import React, { useState, type X as Y } from "react";
import * as ns from './ns';
import './side.css';
export { a, b } from "../ab";
export * from "./star";
const m = require('./req');
// import bad from "bad";
/* require("bad2") */
const t = `import("bad3") ${x}`;
const re = /["']import x from 'bad4'/g;
const ratio = a / b / c; const s = "import y from 'bad5'";
const lazy = await import("./lazy");
import {
  one,
  two,
} from "./multi";
"""


@pytest.mark.parametrize("language", ["javascript", "typescriptreact", "typescript"])
def test_js_imports_skip_comments_strings_templates_and_regexes(language: str) -> None:
    refs = imports_of(JS, language)
    assert [(r.spec, r.line) for r in refs] == [
        ("react", 0),
        ("./ns", 1),
        ("./side.css", 2),
        ("../ab", 3),
        ("./star", 4),
        ("./req", 5),
        ("./lazy", 11),
        ("./multi", 12),
    ]
    assert refs[0].names == ("default", "useState", "X")
    assert refs[1].names == ("*",)
    assert refs[3].names == ("a", "b")
    assert refs[7].names == ("one", "two")


def test_js_require_after_a_spread_or_an_object_key_is_an_import() -> None:
    # fs-extra's lib/index.js: the spread's dots are no member access, nor is a key's colon.
    text = (
        "module.exports = {\n"
        "  ...require('./fs'),\n"
        '  ...require("./copy"),\n'
        "};\n"
        "const all = {...require('./empty'), fs:require('fs')};\n"
        "a.require('member'); a?.require('optional'); this.#require('private');\n"
    )
    assert [(r.spec, r.line) for r in imports_of(text, "javascript")] == [
        ("./fs", 1),
        ("./copy", 2),
        ("./empty", 4),
        ("fs", 4),
    ]


def test_minified_js_imports_and_exports_without_spaces() -> None:
    text = (
        'import{tracingChannel as G,channel as P}from"node:diagnostics_channel";'
        'import*as xi from"node:fs";import Pe from"node:stream";'
        'export{a as b}from"./ab";export*from"./star";export*as ns from"./ns";'
        'var importer=1;imports from"nope";'
    )
    refs = imports_of(text, "javascript")
    assert [(r.spec, r.names) for r in refs] == [
        ("node:diagnostics_channel", ("tracingChannel", "channel")),
        ("node:fs", ("*",)),
        ("node:stream", ("default",)),
        ("./ab", ("a",)),
        ("./star", ("*",)),
        ("./ns", ("*",)),
    ]


# -- Go, Rust, Lua ---------------------------------------------------------------------------

GO = """package main

import "fmt"
import (
\t"os"
\tstr "strings"
\t_ "embed"
\t. "example.com/m/dot"
\t// "commented/out"
\traw `example.com/m/raw`
)

var s = "import \\"nope\\""
"""


def test_go_imports_single_and_blocks_with_aliases() -> None:
    refs = imports_of(GO, "go")
    assert [(r.spec, r.line, r.names) for r in refs] == [
        ("fmt", 2, ()),
        ("os", 4, ()),
        ("strings", 5, ("str",)),
        ("embed", 6, ("_",)),
        ("example.com/m/dot", 7, (".",)),
        ("example.com/m/raw", 9, ("raw",)),
    ]


RUST = """mod config;
pub(crate) mod util;
mod inline { fn x() {} }
use crate::a::b::{C, d::{E as F, self}, *};
use super::sibling;
pub use self::child::Thing;
use std::collections::HashMap;
// use crate::commented;
/* mod commented; /* nested */ use crate::still_comment; */
fn f<'a>(x: &'a str) -> char { let s = "use crate::nope;"; 'x' }
"""


def test_rust_mod_declarations_and_use_trees() -> None:
    refs = imports_of(RUST, "rust")
    assert [(r.kind, r.spec, r.names) for r in refs] == [
        ("mod", "config", ("config",)),
        ("mod", "util", ("util",)),
        ("import", "crate::a::b::C", ("C",)),
        ("import", "crate::a::b::d::E", ("F",)),
        ("import", "crate::a::b::d", ("d",)),
        ("import", "crate::a::b", ("*",)),
        ("import", "super::sibling", ("sibling",)),
        ("import", "self::child::Thing", ("Thing",)),
        ("import", "std::collections::HashMap", ("HashMap",)),
    ]


LUA = """local a = require("a.b")
local b = require "c.d"
local c = require 'e'
local d = require [[f.g]]
-- local e = require("commented")
--[[ require("long comment") ]]
local ok, h = pcall(require, "h")
dofile("scripts/x.lua")
local s = "require('in a string')"
local t = obj.require("method call")
"""


def test_lua_require_forms_and_dofile() -> None:
    refs = imports_of(LUA, "lua")
    assert [(r.spec, r.line, r.kind) for r in refs] == [
        ("a.b", 0, "import"),
        ("c.d", 1, "import"),
        ("e", 2, "import"),
        ("f.g", 3, "import"),
        ("h", 6, "import"),
        ("scripts/x.lua", 7, "file"),
    ]


def test_pathological_inputs_are_scanned() -> None:
    # Each of these took minutes with a backtracking pattern; how long the scans take against
    # ordinary text of the same size is measured in bench/unit_speed.py.
    inputs = {
        "rust": 'fn f() { let s = r#"' + " " * 100_000 + '"#; }\nbecause ' + "x " * 50_000,
        "javascript": "x = " + "a / b / " * 20_000 + "c;\nimport " + "a " * 50_000,
        "python": "from x import (" + "a, " * 50_000,
        "go": "import (" + '\n "a"' * 20_000,
        "lua": "local x = [[" + "a" * 100_000 + "\n" + "require 'x'\n" * 1_000,
    }
    found = {language: imports_of(text, language) for language, text in inputs.items()}
    # Only Python's unclosed `from x import (` still names a module; the rest are strings,
    # unclosed blocks or malformed statements.
    assert {language: [r.spec for r in refs] for language, refs in found.items()} == {
        "rust": [],
        "javascript": [],
        "python": ["x"],
        "go": [],
        "lua": [],
    }


def test_unknown_languages_have_no_imports() -> None:
    assert imports_of("import x from 'y'", "markdown") == []


# -- resolution ------------------------------------------------------------------------------

PY_FILES = [
    "pkg/__init__.py",
    "pkg/a.py",
    "pkg/sub/__init__.py",
    "pkg/sub/b.py",
    "pkg/sub/c/__init__.py",
    "src/lib/__init__.py",
    "src/lib/core.py",
    "server/kimi_lsp/__init__.py",
    "server/kimi_lsp/config.py",
    "tests/__init__.py",
    "tests/unit/__init__.py",
    "tests/unit/test_x.py",
    "tools/run.py",
    "tools/helper.py",
    "os.py",
]


def resolve(frm: str, source: str, language: str, files: list[str], **kw: str) -> list[str]:
    return resolve_imports(frm, imports_of(source, language), language, files, **kw)


@pytest.mark.parametrize(
    ("frm", "source", "expected"),
    [
        ("pkg/sub/b.py", "from . import c", ["pkg/sub/c/__init__.py"]),
        ("pkg/sub/b.py", "from .. import a", ["pkg/a.py"]),
        ("pkg/sub/b.py", "from ..a import x", ["pkg/a.py"]),
        ("pkg/sub/b.py", "from ... import x", []),  # above the workspace: nothing
        ("pkg/sub/b.py", "import pkg.sub", ["pkg/sub/__init__.py"]),
        (
            "pkg/sub/b.py",
            "from pkg.sub import c, missing",
            ["pkg/sub/__init__.py", "pkg/sub/c/__init__.py"],
        ),
        ("pkg/sub/b.py", "from pkg.sub import c", ["pkg/sub/c/__init__.py"]),
        ("pkg/sub/b.py", "import lib.core", ["src/lib/core.py"]),
        ("pkg/sub/b.py", "import os.path", ["os.py"]),
        ("pkg/sub/b.py", "import json", []),
        ("tests/unit/test_x.py", "from kimi_lsp.config import S", ["server/kimi_lsp/config.py"]),
        ("tools/run.py", "import helper", ["tools/helper.py"]),
        ("pkg/a.py", "from pkg import a", []),  # the importing file itself is never listed
    ],
)
def test_python_resolution(frm: str, source: str, expected: list[str]) -> None:
    assert resolve(frm, source, "python", PY_FILES) == expected


JS_FILES = [
    "web/src/app.ts",
    "web/src/util.ts",
    "web/src/comp/index.tsx",
    "web/src/legacy.js",
    "web/src/types.d.ts",
    "web/src/esm.ts",
    "web/src/data.json",
    "web/lib/shared.mjs",
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("./util", ["web/src/util.ts"]),
        ("./comp", ["web/src/comp/index.tsx"]),
        ("./legacy", ["web/src/legacy.js"]),
        ("./types", ["web/src/types.d.ts"]),
        ("./esm.js", ["web/src/esm.ts"]),  # TypeScript's ESM convention
        ("./data.json", ["web/src/data.json"]),
        ("../lib/shared", ["web/lib/shared.mjs"]),
        ("react", []),
        ("../../../outside", []),
        ("./missing", []),
    ],
)
def test_js_resolution(spec: str, expected: list[str]) -> None:
    assert resolve("web/src/app.ts", f'import x from "{spec}";', "typescript", JS_FILES) == expected


def test_go_resolution_needs_the_module_path() -> None:
    files = ["go.mod", "main.go", "pkg/a/a.go", "pkg/a/b.go", "pkg/a/a_test.go", "pkg/a/sub/c.go"]
    source = 'import (\n "fmt"\n x "example.com/m/pkg/a"\n)'
    assert resolve("main.go", source, "go", files, go_module="example.com/m") == [
        "pkg/a/a.go",
        "pkg/a/b.go",
    ]
    assert resolve("main.go", source, "go", files) == []


RS_FILES = [
    "src/lib.rs",
    "src/config.rs",
    "src/net/mod.rs",
    "src/net/http.rs",
    "src/net/http/client.rs",
    "src/util.rs",
    "crates/other-crate/src/lib.rs",
    "crates/other-crate/src/x.rs",
]


@pytest.mark.parametrize(
    ("frm", "source", "expected"),
    [
        ("src/lib.rs", "mod config;\nmod net;", ["src/config.rs", "src/net/mod.rs"]),
        ("src/lib.rs", "use config::Settings;", ["src/config.rs"]),  # 2018 relative path
        ("src/lib.rs", "use crate::net::http::Client;", ["src/net/http.rs"]),
        ("src/lib.rs", "use other_crate::x::Y;", ["crates/other-crate/src/x.rs"]),
        ("src/lib.rs", "use std::fmt;", []),
        ("src/net/http.rs", "mod client;", ["src/net/http/client.rs"]),
        ("src/net/http.rs", "use super::Thing;", ["src/net/mod.rs"]),
        ("src/net/http.rs", "use crate::util::f;", ["src/util.rs"]),
        ("src/net/http.rs", "use self::client::C;", ["src/net/http/client.rs"]),
        (
            "src/net/mod.rs",
            "mod http;\nuse super::config::S;",
            ["src/net/http.rs", "src/config.rs"],
        ),
        ("src/util.rs", "use crate::Root;", ["src/lib.rs"]),
    ],
)
def test_rust_resolution(frm: str, source: str, expected: list[str]) -> None:
    assert resolve(frm, source, "rust", RS_FILES) == expected


def test_lua_resolution_including_neovim_layout() -> None:
    files = ["init.lua", "lua/plug/init.lua", "lua/plug/util.lua", "a/b.lua", "scripts/x.lua"]
    source = (
        'require("plug.util")\nrequire "a.b"\nrequire("plug")\n'
        'dofile("scripts/x.lua")\nrequire("vim.lsp")'
    )
    assert resolve("lua/plug/init.lua", source, "lua", files) == [
        "lua/plug/util.lua",
        "a/b.lua",
        "scripts/x.lua",
    ]
    assert resolve("init.lua", 'require("plug")', "lua", files) == ["lua/plug/init.lua"]


def test_a_prebuilt_file_set_gives_the_same_answer() -> None:
    refs = imports_of("from . import c\nimport lib.core", "python")
    fs = FileSet(PY_FILES)
    assert resolve_imports("pkg/sub/b.py", refs, "python", fs) == resolve_imports(
        "pkg/sub/b.py", refs, "python", set(PY_FILES)
    )
    assert "pkg/a.py" in fs and "nope.py" not in fs
    assert fs.in_dir("pkg/sub") == ["pkg/sub/__init__.py", "pkg/sub/b.py"]


def test_a_package_opened_as_the_root_imports_itself_by_its_name() -> None:
    files = ["__init__.py", "cells.py", "console.py", "data/__init__.py", "data/table.py"]
    fs = FileSet(files, root_name="rich")

    def go(frm: str, source: str, where: FileSet | set[str] = fs) -> list[str]:
        return resolve_imports(frm, imports_of(source, "python"), "python", where)

    assert go("data/table.py", "from rich.cells import CellTable") == ["cells.py"]
    assert go("console.py", "import rich.data.table") == ["data/table.py"]
    assert go("console.py", "from rich import cells, print") == ["__init__.py", "cells.py"]
    assert go("console.py", "from rich import cells") == ["cells.py"]
    assert go("console.py", "from rich.cells import CellTable", set(files)) == []  # no name
    plain = FileSet([f for f in files if f != "__init__.py"], root_name="rich")
    assert go("console.py", "from rich.cells import CellTable", plain) == []  # not a package


# -- the graph -------------------------------------------------------------------------------


def test_graph_imports_and_importers_follow_updates_and_removals() -> None:
    graph = ImportGraph()
    graph.update("app/main.py", "python", "from app import util\nimport app.models\n")
    assert graph.imports("app/main.py") == []  # its targets are not known yet
    graph.update("app/__init__.py", "python", "")
    assert graph.imports("app/main.py") == ["app/__init__.py"]  # `util` may be defined there
    graph.update("app/util.py", "python", "from .models import Model\n")
    graph.update("app/models.py", "python", "import json\n")
    assert graph.imports("app/main.py") == ["app/util.py", "app/models.py"]
    assert graph.importers("app/models.py") == ["app/main.py", "app/util.py"]
    graph.update("app/util.py", "python", "x = 1\n")  # no longer imports models
    assert graph.importers("app/models.py") == ["app/main.py"]
    graph.remove("app/main.py")
    assert graph.importers("app/models.py") == []
    assert graph.importers("app/util.py") == []
    assert "app/main.py" not in graph and len(graph) == 3


def test_graph_mixes_languages_and_is_order_independent() -> None:
    files = {
        "web/a.ts": ("typescript", 'import b from "./b";\nimport c from "./c";'),
        "web/b.ts": ("typescript", 'export * from "./c";'),
        "web/c.ts": ("typescript", ""),
        "main.go": ("go", 'import "example.com/m/lib"'),
        "lib/lib.go": ("go", "package lib"),
        "README.md": ("other", "import nothing"),
    }
    forward, backward = ImportGraph("example.com/m"), ImportGraph("example.com/m")
    for rel, (language, text) in files.items():
        forward.update(rel, language, text)
    for rel, (language, text) in reversed(list(files.items())):
        backward.update(rel, language, text)
    for graph in (forward, backward):
        assert graph.importers("web/c.ts") == ["web/a.ts", "web/b.ts"]
        assert graph.imports("main.go") == ["lib/lib.go"]
    forward.go_module = None
    assert forward.imports("main.go") == []


def test_graph_resolves_self_imports_once_it_knows_the_root_name() -> None:
    graph = ImportGraph()
    graph.update("__init__.py", "python", "")
    graph.update("cells.py", "python", "")
    graph.update("console.py", "python", "from click.cells import x\n")
    assert graph.imports("console.py") == []
    graph.root_name = "click"
    assert graph.imports("console.py") == ["cells.py"]
    assert graph.importers("cells.py") == ["console.py"]


def test_graph_accepts_lsp_language_ids_and_keeps_refs() -> None:
    graph = ImportGraph()
    graph.update("x.jsx", "javascriptreact", 'import y from "./y"')
    graph.update("y.js", "javascript", "")
    assert graph.imports("x.jsx") == ["y.js"]
    assert graph.refs("x.jsx") == [ImportRef("./y", 0, ("default",))]
