"""The fast Python import scan (only the lines around `import` masked) against the whole file's."""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.context import imports
from kimi_lsp.context.imports import ImportRef

Found = list[tuple[ImportRef, tuple[str, ...]]]


def whole_file(text: str) -> Found:
    """What the scanner found before: the whole file masked, then matched (`bound` included,
    which ImportRef's equality leaves out)."""
    return [(r, r.bound) for r in imports._scan(text, "python", imports._python_scan)]


def fast(text: str) -> Found:
    return [(r, r.bound) for r in imports.imports_of(text, "python", exact=False)]


def _corpus(name: str) -> list[Path]:
    if name == "stdlib":
        root = Path(sysconfig.get_paths()["stdlib"])
    else:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            pytest.skip(f"{name} is not installed (the test extra has it)")
        root = Path(spec.origin).parent
    skip = {"site-packages", "dist-packages"}
    return [p for p in sorted(root.rglob("*.py")) if not skip & set(p.relative_to(root).parts)]


@pytest.mark.parametrize("corpus", ["stdlib", "click", "rich"])
def test_same_imports_as_the_whole_file_scan_on_real_code(corpus: str) -> None:
    files = _corpus(corpus)
    assert len(files) > 10
    differ = []
    imported = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        expected = whole_file(text)
        imported += len(expected)
        if fast(text) != expected:
            differ.append(str(path))
    assert differ == []
    assert imported > 5 * len(files) // 10  # the corpus really has imports to find


FRAGMENTS = [
    "import os",
    "import a.b as c, d",
    "from . import x",
    "from ..pkg import (a,\n    b as c,  # (a comment)\n)",
    "from m import n, \\\n    o",
    "from m \\\nimport p",
    "x = 1; import after_semicolon",
    "if x: import inline",
    "x = 'import fake'",
    "x = 'it''s import quoted'",
    's = """\nimport inside_string\n"""',
    "s = '''it's\nfrom inside import string'''",
    's = """a""" ; import after_triple',
    's = "\\"\\"\\"" ; import after_escaped',
    't = \'"""\'  # not a docstring',
    "# from comment import x '''",
    "u = 'a\\\nimport continued_string'",
    "v = x + \\",
    "w = r'\\\\'",
    "def f():\n    import lazy",
    "try:\n    import fast\nexcept ImportError:\n    fast = None",
    "raise ValueError('x') from None",
    "from x import (",
    "from import nothing",
    "reimport = importer",
    '"""',
    "'''",
    "'",
    "\\",
    "(",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=14), st.sampled_from(["\n", "\n\n", " ", "\r\n"])
)
def test_same_imports_as_the_whole_file_scan_on_odd_code(parts: list[str], glue: str) -> None:
    # Unterminated strings, stray quotes and backslashes included: valid or not, the two agree.
    source = glue.join(parts) + "\n"
    assert fast(source) == whole_file(source)


TOKENS = ["import", "from", " ", "x", "y.z", ".", "(", ")", "#", "'", '"', "'''", '"""', "\\",
          "\n", "\n", ";", ",", " as ", ":", "\r", "\t"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_same_imports_as_the_whole_file_scan_on_token_soup(parts: list[str]) -> None:
    source = "".join(parts)
    assert fast(source) == whole_file(source)


def test_imports_after_a_docstring_keep_their_lines() -> None:
    source = '"""Doc.\n\nimport not_this\n"""\nimport os\n\n\ndef f():\n    from .x import y\n'
    assert fast(source) == [
        (ImportRef("os", 4), ("os",)),
        (ImportRef(".x", 8, ("y",)), ("y",)),
    ]


def test_a_statement_that_never_ends_is_masked_a_few_times_not_once_per_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    mask_lines = imports._mask_lines

    def counted(text: str, start: int, end: int) -> tuple[str, int]:
        calls.append(end)
        return mask_lines(text, start, end)

    monkeypatch.setattr(imports, "_mask_lines", counted)
    source = "from x import (\n" + "    a,\n" * 50_000
    assert fast(source) == whole_file(source)
    assert 1 < len(calls) <= 20  # the window doubles each time
