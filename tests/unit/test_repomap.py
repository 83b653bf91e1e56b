"""Unit tests for the repository map: detail levels, truncation, determinism."""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.context import repomap
from kimi_lsp.context.repomap import ranked_map, render_symbol, repo_map
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


def _asked(outlines: dict[str, list[Symbol]]) -> tuple[list[str], Callable[[str], list[Symbol]]]:
    asked: list[str] = []

    def symbols_of(rel: str) -> list[Symbol]:
        asked.append(rel)
        return outlines.get(rel, [])

    return asked, symbols_of


def test_ranked_map_of_a_workspace_that_fits_is_the_whole_map() -> None:
    ranked = ["pkg/config.py", "tests/test_config.py", *sorted(set(FILES) - set(OUTLINES))]
    asked, symbols_of = _asked(OUTLINES)
    assert ranked_map(ranked, symbols_of, 10_000) == (FULL, len(FILES))
    assert asked == ranked
    names = repo_map(FILES, OUTLINES, len(FULL) - 1)
    assert ranked_map(ranked, symbols_of, len(FULL) - 1) == (names, len(FILES))


def test_ranked_map_shows_the_best_ranked_files_and_counts_the_rest() -> None:
    files = [f"pkg/m{i:02}.py" for i in range(30)] + ["README.md", "tools/gen.py"]
    outlines = {rel: [sym(f"api_{i}") for i in range(12)] + [sym("_helper")] for rel in files[:30]}
    ranked = ["tools/gen.py", "pkg/m17.py", "pkg/m03.py", *files]
    ranked = list(dict.fromkeys(ranked))
    asked, symbols_of = _asked(outlines)
    text, shown = ranked_map(ranked, symbols_of, 400)
    lines = text.splitlines()
    assert 0 < shown < len(ranked) and len(text) <= 400
    assert lines[-1] == f"… {len(ranked) - shown} more files, ranked lower"
    assert asked == ranked[: shown + 1]  # only the files looked at are outlined
    assert lines[0] == "pkg/"  # still a tree in path order, not in rank order
    assert [line.split(":")[0].strip() for line in lines[1:-1]] == [
        "m00.py",
        "m01.py",
        "m03.py",
        "m17.py",
        "tools/",
        "gen.py",
    ]  # the five best ranked (m00 and m01 after gen, m17 and m03)
    assert lines[3] == "  m03.py: " + "; ".join(f"api_{i}()" for i in range(8)) + "; … +4"
    assert "_helper" not in text  # private names only when a file has nothing public
    # exactly as long as counted: the map fills the room it is given
    assert ranked_map(ranked, symbols_of, len(text)) == (text, shown)
    assert ranked_map(ranked, symbols_of, len(text) - 1)[1] < shown
    assert ranked_map(ranked, symbols_of, 0) == ("", 0) and ranked_map([], symbols_of, 99) == (
        "",
        0,
    )


@settings(max_examples=200, deadline=None)
@given(paths, st.integers(min_value=1, max_value=1_500), st.randoms(use_true_random=False))
def test_ranked_map_fits_and_shows_a_prefix_of_the_ranking(
    files: list[str], limit: int, rng: random.Random
) -> None:
    ranked = list(dict.fromkeys(files))
    rng.shuffle(ranked)
    outlines = {f: [sym(f"fn_{i}") for i in range(len(f) % 11)] for f in ranked}
    text, shown = ranked_map(ranked, lambda rel: outlines[rel], limit)
    assert len(text) <= limit
    if shown < len(ranked) and text:
        assert text.endswith(
            f"{len(ranked) - shown} more file{'s' if len(ranked) - shown > 1 else ''}, ranked lower"
        )
        for rel in ranked[:shown]:
            assert rel.rsplit("/", 1)[-1] in text
    if text:  # the map was counted exactly: the same map fits in exactly its length
        assert ranked_map(ranked, lambda rel: outlines[rel], len(text)) == (text, shown)
    else:
        assert shown == 0


@settings(max_examples=200, deadline=None)
@given(
    paths,
    st.integers(min_value=1, max_value=3_000),
    st.integers(min_value=0, max_value=40),
    st.randoms(use_true_random=False),
)
def test_a_ranked_map_lists_no_more_files_not_outlined_yet_than_it_would_with_their_names(
    files: list[str], limit: int, outlined: int, rng: random.Random
) -> None:
    ranked = list(dict.fromkeys(files))
    rng.shuffle(ranked)
    outlines = {f: [sym(f"fn_{i}") for i in range(len(f) % 11)] for f in ranked}
    done = set(rng.sample(ranked, min(outlined, len(ranked))))

    def so_far(rel: str) -> list[Symbol] | None:
        return outlines[rel] if rel in done else None  # None: not outlined yet

    text, shown = ranked_map(ranked, so_far, limit)
    full_shown = ranked_map(ranked, lambda rel: outlines[rel], limit)[1]
    assert len(text) <= limit and shown <= full_shown
    if shown == full_shown == len(ranked):
        return  # everything fits either way: the whole map
    # names only for the files outlined: the others by their path alone
    named = [line for line in text.splitlines() if ":" in line]
    assert len(named) == len([rel for rel in ranked[:shown] if rel in done and outlines[rel]])


def test_files_not_outlined_yet_count_for_more_in_a_workspace_of_longer_names() -> None:
    ranked = [f"m{i:02}.py" for i in range(40)]

    def names(length: int) -> dict[str, list[Symbol]]:
        return {rel: [sym(f"{rel[:3]}_{'x' * length}_{i}") for i in range(8)] for rel in ranked}

    def capped(outlines: dict[str, list[Symbol]]) -> int:
        return ranked_map(ranked, lambda rel: outlines[rel] if rel < "m03" else None, 3_000)[1]

    short, long = names(4), names(40)
    assert 3 < capped(long) < capped(short)  # the outlined files' names say how long they run
    assert capped(short) <= ranked_map(ranked, short.__getitem__, 3_000)[1]
    assert capped(long) <= ranked_map(ranked, long.__getitem__, 3_000)[1]
