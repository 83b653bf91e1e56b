"""Unit tests for the repository map: detail levels, truncation, determinism."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.context import repomap
from kimi_lsp.context.repomap import render_symbol, repo_map
from kimi_lsp.context.symbols import Symbol


def sym(name: str, kind: str = "function", depth: int = 0, signature: str = "") -> Symbol:
    return Symbol(name, kind, 0, 0, signature or f"def {name}():", depth)


FILES = [
    "README.md",
    "pkg/__init__.py",
    "pkg/config.py",
    "pkg/deep/a/b/c.py",
    "pkg/deep/a/b/d.py",
    "tests/test_config.py",
]
OUTLINES = {
    "pkg/config.py": [
        sym("Settings", "class", signature="class Settings:"),
        sym("load", "method", 1, "def load(self):"),
        sym("_private"),
        sym("read_config"),
        sym("MAX", "constant", signature="MAX = 3"),
    ],
    "tests/test_config.py": [sym("test_load")],
}

FULL = """README.md
pkg/
  __init__.py
  config.py
    class Settings:
      def load(self):
    def _private():
    def read_config():
    MAX = 3
  deep/
    a/
      b/
        c.py
        d.py
tests/
  test_config.py
    def test_load():"""


def test_everything_with_headers_when_it_fits() -> None:
    assert repo_map(FILES, OUTLINES, 10_000) == FULL


def test_names_of_top_level_symbols_public_first_then_fewer() -> None:
    names = repo_map(FILES, OUTLINES, len(FULL) - 1)
    assert "  config.py: class Settings; read_config(); MAX; _private()" in names.splitlines()
    assert "load()" not in names.splitlines()[3]  # methods are not top level
    smaller = repo_map(FILES, OUTLINES, len(names) - 1)
    assert "  config.py: class Settings; read_config(); MAX; … +1" in smaller.splitlines()
    assert "test_config.py: test_load()" in smaller
    assert len(smaller) < len(names)


def test_directories_collapse_deepest_first_after_symbols_are_gone() -> None:
    bare = repo_map(FILES, {}, 10_000)
    collapsed = repo_map(FILES, OUTLINES, len(bare) - 1)
    assert collapsed.splitlines()[5:7] == ["    a/", "      b/ (2 files)"]  # the deepest first
    assert "config.py" in collapsed and ":" not in collapsed
    assert repo_map(FILES, OUTLINES, 60) == "README.md\npkg/ (4 files)\ntests/\n  test_config.py"
    assert repo_map(FILES, OUTLINES, 40) == "README.md\npkg/ (4 files)\ntests/ (1 file)"


def test_hidden_directories_collapse_first() -> None:
    files = [".github/ci.yml", ".github/dependabot.yml", "src/a/b/x.py", "src/a/b/y.py"]
    bare = repo_map(files, {}, 10_000)
    assert repo_map(files, {}, len(bare) - 1).splitlines() == [
        ".github/ (2 files)",
        "src/",
        "  a/",
        "    b/",
        "      x.py",
        "      y.py",
    ]


def test_last_resort_is_the_first_lines_and_a_count() -> None:
    files = [f"f{i:03}.py" for i in range(50)]
    text = repo_map(files, {}, 40)
    assert text == "f000.py\nf001.py\nf002.py\n… 47 more lines"
    assert repo_map(files, {}, 0) == "" and repo_map([], {}, 100) == ""


def test_render_symbol_kinds() -> None:
    assert [render_symbol(sym("X", kind)) for kind in ("class", "module", "macro", "constant")] == [
        "class X",
        "mod X",
        "X!",
        "X",
    ]


paths = st.lists(
    st.lists(
        st.sampled_from(["src", "lib", "a", "b", ".hidden", "x.py", "y.ts", "z"]),
        min_size=1,
        max_size=5,
    ).map("/".join),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(paths, st.integers(min_value=-5, max_value=3_000), st.randoms(use_true_random=False))
def test_never_longer_than_asked_and_independent_of_input_order(
    files: list[str], limit: int, rng: random.Random
) -> None:
    # a path may also be a directory of another path: the map must not care
    outlines = {f: [sym(f"fn_{i}") for i in range(len(f) % 5)] for f in files}
    text = repo_map(files, outlines, limit)
    assert len(text) <= max(limit, 0)
    shuffled = files[:]
    rng.shuffle(shuffled)
    assert repo_map(shuffled + files[:1], outlines, limit) == text


@settings(max_examples=200, deadline=None)
@given(paths, st.integers(min_value=-1, max_value=6))
def test_sizes_are_those_of_the_rendered_lines(files: list[str], cap: int) -> None:
    names = ["a", "_b", "Long_name", "x", "_", "Zz"]
    outlines = {
        f: [sym(names[i % 6], "class" if i % 3 else "function") for i in range(len(f) % 7)]
        for f in files
    }
    view = repomap._Map(files, outlines)
    for rel in view.names:
        for depth in (0, 3):
            assert view.line_length(rel, depth, cap) == len(view.file_line(rel, depth, cap))
    assert view.size(cap) == len("\n".join(view.lines(cap, set())))
    rendered = "\n".join(view.lines(0, set(), signatures=True))
    details = sum(len(line) for rel in view.names for line in view.details(rel))
    assert view.details_fit(details) and not view.details_fit(details - 1)
    assert len(rendered) >= details
