"""Tests for pulling code out of model replies and fitting it to the edited range."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kimi_lsp.edits.extract import conform_to_range, extract_code
from kimi_lsp.positions import split_lines

PREFIX = "```python\n    "

# Code lines without fence characters, each ending with a newline.
code_lines = st.lists(
    st.text("abc =():\t #'\"\f😀é", min_size=0, max_size=12).map(lambda s: s.strip() + "\n"),
    min_size=1,
    max_size=6,
).map("".join)


@pytest.mark.parametrize(
    ("reply", "prefix", "expected"),
    [
        # Prefix continuation: the prefix's fence is dropped, its indentation kept, and
        # everything from the closing fence on is prose.
        (
            "def f():\n        return 1\n```\nThis adds a return.",
            PREFIX,
            "    def f():\n        return 1\n",
        ),
        ("x = 1\n```", PREFIX, "    x = 1\n"),
        # The reply repeats the whole prefix, or re-opens its own fence: not doubled.
        ("```python\n    x = 1\n```\n", PREFIX, "    x = 1\n"),
        ("```python\nx = 1\n```\n", PREFIX, "x = 1\n"),
        ("\n```py\nx = 1\n```\n", PREFIX, "x = 1\n"),
        # A bare fence first closes the prefix's block: the model proposes nothing.
        ("```\nNothing to change.", PREFIX, ""),
        ("```", PREFIX, ""),
        ("```python", PREFIX, "    "),  # streaming: a partial repeat of the prefix so far
        # The reply repeats only the indentation.
        ("    x = 1\n```", PREFIX, "    x = 1\n"),
        # Deeper indentation than the prefix's is the model's own: kept.
        ("     x = 1\n```", PREFIX, "         x = 1\n"),
        # Streaming: nothing yet, a partial repeat of the prefix, a closing fence arriving.
        ("", PREFIX, "    "),
        ("``", PREFIX, ""),
        ("x = 1\n``", PREFIX, "    x = 1\n"),
        # A cut reply: the unclosed block runs to the end.
        ("x = 1\ny", PREFIX, "    x = 1\ny"),
        # Full replies: prose around one block is dropped.
        ("Here you go:\n\n```py\nx = 1\n```\n\nThat sets x.", "", "x = 1\n"),
        ("```\nx = 1\n```", "", "x = 1\n"),
        ("~~~python\nx = 1\n~~~\n", "", "x = 1\n"),
        ("```python\r\nx = 1\r\n```\r\n", "", "x = 1\r\n"),
        # Several blocks: the first in the language (or untagged), else the first.
        ("```python\nx = 1\n```\nRun:\n```bash\npython x.py\n```", "", "x = 1\n"),
        ("```bash\npip install x\n```\nthen\n```python\nx = 1\n```", "", "x = 1\n"),
        ("```bash\npip install x\n```\n```sh\nls\n```", "", "pip install x\n"),
        ("```py\na\n```\n```python\nb\n```", "", "a\n"),
        # Longer fences contain shorter ones.
        ("````markdown\n```python\nx\n```\n````\nafter", "", "```python\nx\n```\n"),
        # A fence indented inside a docstring does not close the block.
        (
            '```python\ndef f():\n    """E.g.\n\n    ```\n    f()\n    ```\n    """\n```\n',
            "",
            'def f():\n    """E.g.\n\n    ```\n    f()\n    ```\n    """\n',
        ),
        # An indented fence: its indentation leaves the content (CommonMark).
        ("Sure:\n  ```python\n  x = 1\n    y\n  ```\n", "", "x = 1\n  y\n"),
        # No fence: the whole reply, untouched; inline triple backticks are no fence.
        ("x = 1\ny = 2\n", "", "x = 1\ny = 2\n"),
        ("Use ```x``` here\n", "", "Use ```x``` here\n"),
        ("x = 1\n", "    ", "    x = 1\n"),
        # A form feed is not a line break.
        ("```python\nx\f```\n```\n", "", "x\f```\n"),
    ],
)
def test_extract_code(reply: str, prefix: str, expected: str) -> None:
    assert extract_code(reply, prefix=prefix, language="python") == expected


def test_extract_code_without_language_takes_the_first_block() -> None:
    reply = "```bash\npip install x\n```\n```python\nx = 1\n```"
    assert extract_code(reply) == "pip install x\n"


@settings(max_examples=300, deadline=None)
@given(code_lines, st.sampled_from(["", "\n", "\nDone.\n", "\nDone.\n```py\nother\n```\n"]))
def test_prefix_continuation_round_trip(code: str, after: str) -> None:
    assert extract_code(code + "```" + after, prefix="```python\n") == code
    assert extract_code("Intro.\n```python\n" + code + "```" + after) == code
    assert extract_code(code + "```" + after, prefix="```python\n" + code) == code + code


@pytest.mark.parametrize(
    ("code", "original", "expected"),
    [
        # Final line break: a range without one does not gain one ...
        ("y = 2\n", "x = 1", "y = 2"),
        ("y = 2\n\n", "x = 1", "y = 2\n"),  # only one is dropped
        ("y = 2\r\n", "x = 1", "y = 2"),
        ("y = 2", "x = 1", "y = 2"),
        # ... and one that ends with one keeps it or gets it back.
        ("y = 2\n", "x = 1\n", "y = 2\n"),
        ("y = 2", "x = 1\n", "y = 2\n"),
        ("y = 2\n\n", "x = 1\n", "y = 2\n\n"),
        ("", "x = 1\n", ""),  # deleting the range
        # CRLF documents stay CRLF.
        ("a\nb", "a\r\nb\r\n", "a\r\nb\r\n"),
        ("a\r\nb\n", "a\r\nb\r\n", "a\r\nb\r\n"),
        ("a\nb\n", "x", "a\nb"),
        ("a\nb\n", "a\nb\r\n", "a\nb\n"),  # mixed: left alone
        # Indentation W of the range's first line, when the code's first line has none:
        # the whole block was dedented ...
        (
            "def f():\n    return 1\n",
            "    def f():\n        return 0\n",
            "    def f():\n        return 1\n",
        ),
        ("x = 1\n\ny = 2\n", "    x = 0\n\n    y = 0\n", "    x = 1\n\n    y = 2\n"),
        (
            "if x:\n    return x\nreturn None\n",
            "    return x\n",
            "    if x:\n        return x\n    return None\n",
        ),
        # ... or only the first line lost it (the rest already matches the original's layout).
        (
            "def f():\n        return 1\n",
            "    def f():\n        return 0\n",
            "    def f():\n        return 1\n",
        ),
        ("x = 1\n    y = 2\n", "    x = 0\n    y = 0\n", "    x = 1\n    y = 2\n"),
        # Kept indentation, a range starting mid-line, a blank first line, tabs.
        ("  x = 1\n", "    x = 0\n", "  x = 1\n"),
        ("y = 2\n", "x = 1\n    z\n", "y = 2\n"),
        ("\ndef g():\n  pass\n", "\n    def f(): pass\n", "\n    def g():\n      pass\n"),
        ("x = 1\n", "\tx = 0\n", "\tx = 1\n"),
        ("x = 1", "    x = 0", "    x = 1"),
    ],
)
def test_conform_to_range(code: str, original: str, expected: str) -> None:
    assert conform_to_range(code, original) == expected


def test_conform_uses_eol_when_the_range_has_no_break() -> None:
    assert conform_to_range("a\nb\n", "x", eol="\r\n") == "a\r\nb"
    assert conform_to_range("a\nb\n", "x", eol="\n") == "a\nb"


@settings(max_examples=300, deadline=None)
@given(code_lines, st.sampled_from(["", "  ", "    ", "\t"]), st.booleans())
def test_conform_restores_a_dropped_block_indentation(code: str, w: str, newline: bool) -> None:
    assume(code.strip() and code[0] not in " \t" and not code.endswith("\n\n"))
    indented = "".join(w + line if line.strip() else line for line in split_lines(code))
    original = indented if newline else indented[:-1]
    assert conform_to_range(code, original) == original
