"""Unit tests for outlines per language, definition text and the outline rendering."""

from __future__ import annotations

import io
import sysconfig
import tokenize
from pathlib import Path

import pytest

from kimi_lsp.context.languages import mask
from kimi_lsp.context.symbols import (
    Symbol,
    definition_text,
    outline,
    outline_text,
    symbol_at,
    top_level,
)

PYTHON = '''"""Module docstring with a fake:
def not_a_function():
    pass
"""
from typing import TYPE_CHECKING, TypeAlias

MAX_SIZE = 10
A = B = 2
name: str = "x"
Alias: TypeAlias = "int | str"
lowercase = 3
CONFIG = {
    KEY: 1,
    "other": 2,
}


@dataclass(frozen=True)
class Settings(Base):
    """A class."""

    api_key: str
    RETRIES = 3

    def load(
        self,
        path: str,
    ) -> "Settings":
        def helper():
            pass
        return self

    class Inner:
        async def run(self): ...


def top(a, b):
    # def in a comment
    s = """
def in_string():
"""
    return s


if TYPE_CHECKING:
    def typed() -> None: ...
'''

EXPECTED_PYTHON = [
    ("MAX_SIZE", "constant", 6, 0),
    ("A", "constant", 7, 0),
    ("B", "constant", 7, 0),
    ("name", "variable", 8, 0),
    ("Alias", "type", 9, 0),
    ("CONFIG", "constant", 11, 0),
    ("Settings", "class", 18, 0),
    ("api_key", "field", 21, 1),
    ("RETRIES", "field", 22, 1),
    ("load", "method", 24, 1),
    ("Inner", "class", 32, 1),
    ("run", "method", 33, 2),
    ("top", "function", 36, 0),
    ("typed", "function", 45, 0),
]


@pytest.mark.parametrize("exact", [True, False])
def test_python_outline(exact: bool) -> None:
    symbols = outline(PYTHON, "python", exact=exact)
    assert [(s.name, s.kind, s.line, s.depth) for s in symbols] == EXPECTED_PYTHON
    by_name = {s.name: s for s in symbols}
    assert by_name["load"].signature == 'def load(self, path: str) -> "Settings":'
    assert by_name["load"].end_line == 30
    assert by_name["Settings"].end_line == 33
    assert by_name["top"].end_line == 41
    assert by_name["Settings"].signature == "class Settings(Base):"
    assert by_name["CONFIG"].signature == "CONFIG = {"


def test_python_outline_of_a_file_being_edited() -> None:
    broken = "class A:\n    def ok(self):\n        return 1\n\ndef broken(:\n    pass\n"
    symbols = outline(broken, "python")
    assert [(s.name, s.kind, s.line, s.end_line, s.depth) for s in symbols] == [
        ("A", "class", 0, 2, 0),
        ("ok", "method", 1, 2, 1),
        ("broken", "function", 4, 5, 0),
    ]


@pytest.mark.parametrize("module", ["json/decoder.py", "argparse.py", "dataclasses.py", "ast.py"])
def test_python_scanner_agrees_with_ast_on_stdlib_modules(module: str) -> None:
    path = Path(sysconfig.get_paths()["stdlib"]) / module
    text = path.read_text(encoding="utf-8")

    def key(s: Symbol) -> tuple[str, str, int, int | None, int]:
        return (
            s.name,
            s.kind,
            s.line,
            s.end_line if s.kind in ("class", "method", "function") else None,
            s.depth,
        )

    assert [key(s) for s in outline(text, "python", exact=False)] == [
        key(s) for s in outline(text, "python")
    ]


@pytest.mark.parametrize(
    "module", ["asyncio/base_events.py", "typing.py", "os.py", "ssl.py", "tkinter/__init__.py"]
)
def test_top_level_is_the_outlines_depth_0_without_scanning_the_blocks(module: str) -> None:
    path = Path(sysconfig.get_paths()["stdlib"]) / module
    text = path.read_text(encoding="utf-8")
    full = outline(text, "python", exact=False)
    assert top_level(text, "python") == [s for s in full if s.depth == 0]
    assert any(s.depth > 0 for s in full)  # the blocks it skips do hold members


def test_top_level_finds_definitions_under_if_and_try_but_not_in_strings_or_bodies() -> None:
    text = (
        '"""A module.\nclass NotThis:\n"""\n'
        "import sys\n"
        "if sys.platform == 'win32':\n"
        "    def native(): pass\n"
        "    class Pipe:\n"
        "        def read(self): pass\n"
        "else:\n"
        "    LIMIT = 1\n"
        "class A:\n"
        "    X = 1\n"
        "    def m(self):\n"
        '        """\ndef not_this(): pass\n"""\n'
        "async def fetch(): pass\n"
        "value: int = 2\n"
        "call(\n"
        "KEY=1)\n"
    )
    top = top_level(text, "python")
    assert [(s.name, s.kind, s.line) for s in top] == [
        ("native", "function", 5),
        ("Pipe", "class", 6),
        ("LIMIT", "constant", 9),
        ("A", "class", 10),
        ("fetch", "function", 16),
        ("value", "variable", 17),
    ]
    assert top == [s for s in outline(text, "python", exact=False) if s.depth == 0]


def test_python_scanner_blocks_span_low_indented_literals() -> None:
    # Scanning time against ordinary code of the same size: bench/unit_speed.py.
    text = "def data():\n    return [\n" + "1,\n" * 50_000 + "]\n\ndef after():\n    pass\n"
    symbols = outline(text, "python", exact=False)
    assert [(s.name, s.line, s.end_line) for s in symbols] == [
        ("data", 0, 50_002),
        ("after", 50_004, 50_005),
    ]


def test_definition_text_includes_decorators_and_the_whole_body() -> None:
    settings = next(s for s in outline(PYTHON, "python") if s.name == "Settings")
    text = definition_text(PYTHON, settings)
    assert text.startswith("@dataclass(frozen=True)\nclass Settings(Base):")
    assert text.endswith("        async def run(self): ...")
    constant = next(s for s in outline(PYTHON, "python") if s.name == "CONFIG")
    assert definition_text(PYTHON, constant) == 'CONFIG = {\n    KEY: 1,\n    "other": 2,\n}'


def test_outline_text_and_symbol_at() -> None:
    symbols = outline(PYTHON, "python")
    rendered = outline_text(symbols, max_depth=1).splitlines()
    assert rendered[6] == "19: class Settings(Base):"
    assert rendered[9] == '25:   def load(self, path: str) -> "Settings":'
    assert not any("async def run" in line for line in rendered)
    inside_load = symbol_at(symbols, 27)
    assert inside_load is not None and inside_load.name == "load"
    assert symbol_at(symbols, 3) is None


TS = """import x from "y";
export const MAX_SIZE = 10;
const helper = (a: number) => a + 1;
export default class Widget extends Base {
  private count = 0;
  constructor(a: string) {
    super();
  }
  async render(): Promise<void> {
    if (x) { return; }
  }
  static create() { return new Widget(""); }
  handle = (e: Event) => {
    console.log("class Fake {");
  };
}
export interface Props {
  name: string;
}
export type Id = string | number;
export enum Color { Red, Green }
function plain(a,
               b) {
  function inner() {}
  return a;
}
// function commented() {}
namespace NS {
  export function nsFn() {}
}
"""


def test_typescript_outline() -> None:
    symbols = outline(TS, "typescript")
    assert [(s.name, s.kind, s.line, s.end_line, s.depth) for s in symbols] == [
        ("MAX_SIZE", "variable", 1, 1, 0),
        ("helper", "function", 2, 2, 0),
        ("Widget", "class", 3, 15, 0),
        ("constructor", "method", 5, 7, 1),
        ("render", "method", 8, 10, 1),
        ("create", "method", 11, 11, 1),
        ("handle", "method", 12, 14, 1),
        ("Props", "interface", 16, 18, 0),
        ("Id", "type", 19, 19, 0),
        ("Color", "enum", 20, 20, 0),
        ("plain", "function", 21, 25, 0),
        ("NS", "module", 27, 29, 0),
        ("nsFn", "function", 28, 28, 1),
    ]
    assert symbols[10].signature == "function plain(a, b)"


GO = """package main

const Answer = 42

const (
\tA = iota
\tB
)

type Server struct {
\tName string
}

type Handler interface {
\tServe() error
}

func (s *Server) Start(port int) error {
\treturn nil
}

func main() {
\tfmt.Println("func fake() {")
}
"""


def test_go_outline() -> None:
    symbols = outline(GO, "go")
    assert [(s.name, s.kind, s.line, s.end_line, s.depth) for s in symbols] == [
        ("Answer", "constant", 2, 2, 0),
        ("A", "constant", 5, 5, 0),
        ("B", "constant", 6, 6, 0),
        ("Server", "struct", 9, 11, 0),
        ("Handler", "interface", 13, 15, 0),
        ("Start", "method", 17, 19, 1),
        ("main", "function", 21, 23, 0),
    ]
    assert symbols[5].signature == "func (s *Server) Start(port int) error"


RUST = """use std::fmt;

pub const LIMIT: usize = 3;

#[derive(Debug)]
pub struct Config {
    name: String,
}

pub trait Greet {
    fn greet(&self) -> String;
}

impl<T: Clone> fmt::Display for Wrapper<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", "fn fake() {")
    }
}

pub(crate) async fn run(cfg: &Config) -> Result<(), Error> {
    let s = r#"fn nope() {}"#;
    Ok(())
}

mod inner {
    pub fn deep() {}
}
macro_rules! hello { () => {} }
"""


def test_rust_outline_and_attribute_in_definition_text() -> None:
    symbols = outline(RUST, "rust")
    assert [(s.name, s.kind, s.line, s.end_line, s.depth) for s in symbols] == [
        ("LIMIT", "constant", 2, 2, 0),
        ("Config", "struct", 5, 7, 0),
        ("Greet", "trait", 9, 11, 0),
        ("greet", "method", 10, 10, 1),
        ("fmt::Display for Wrapper<T>", "impl", 13, 17, 0),
        ("fmt", "method", 14, 16, 1),
        ("run", "function", 19, 22, 0),
        ("inner", "module", 24, 26, 0),
        ("deep", "function", 25, 25, 1),
        ("hello", "macro", 27, 27, 0),
    ]
    assert definition_text(RUST, symbols[1]).splitlines()[0] == "#[derive(Debug)]"


LUA = """local M = {}

local function helper(x)
  if x then
    return 1
  end
end

function M.setup(opts)
  for i = 1, 3 do
    print(i)
  end
end

function M:method()
  local inner = function() end
end

M.other = function(a)
  return a
end
-- function M.commented() end
local s = [[
function M.in_string() end
]]
return M
"""


def test_lua_outline() -> None:
    symbols = outline(LUA, "lua")
    assert [(s.name, s.kind, s.line, s.end_line) for s in symbols] == [
        ("helper", "function", 2, 6),
        ("M.setup", "function", 8, 12),
        ("M:method", "method", 14, 16),
        ("M.other", "function", 18, 20),
    ]


def test_unknown_language_has_no_outline() -> None:
    assert outline("def x(): pass", "plaintext") == []
    assert outline_text([]) == ""


@pytest.mark.parametrize("module", ["tokenize.py", "argparse.py", "json/decoder.py", "doctest.py"])
def test_python_mask_blanks_exactly_the_comments_and_string_contents_tokenize_finds(
    module: str,
) -> None:
    text = (Path(sysconfig.get_paths()["stdlib"]) / module).read_text(encoding="utf-8")
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    expected = list(text)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        start = starts[token.start[0] - 1] + token.start[1]
        end = starts[token.end[0] - 1] + token.end[1]
        if token.type == tokenize.STRING:  # its quotes stay (and any prefix: r, b, f)
            quote = min(i for i in (token.string.find("'"), token.string.find('"')) if i >= 0)
            start, end = start + quote + 1, end - 1
        elif token.type != tokenize.COMMENT:
            continue
        for at in range(start, end):
            if expected[at] != "\n":
                expected[at] = " "
    assert mask(text, "python").code == "".join(expected)


def test_top_level_of_a_file_with_a_quote_left_open_matches_the_outline() -> None:
    text = (
        "def broken():\n"
        "    x = 'never closed\n"  # the scan's quote count stays odd from here on
        "    return x\n"
        "LIMIT = 3\n"
        "if True:\n"
        "    class Later:\n"
        "        pass\n"
        "def after():\n"
        "    pass\n"
    )
    expected = [s for s in outline(text, "python", exact=False) if s.depth == 0]
    assert [s.name for s in expected] == ["broken", "LIMIT", "Later", "after"]
    assert top_level(text, "python") == expected
