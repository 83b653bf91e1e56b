"""Edges of reading code out of a model reply that the first mutation run found untested
(docs/mutation.md): which lines are fences (CommonMark: only spaces and tabs around them), which
block a language picks, how a reply joins the assistant prefix, and how code is fitted to the
range (lone "\\r" breaks, deleting an indented range, ties between the two indentation readings).
"""

from __future__ import annotations

import pytest

from kimi_lsp.edits.extract import conform_to_range, extract_code

# The prefix of an inline edit in a Python file whose range is indented by four spaces
# (edits/instruction.py `opening`), and the one of a file with no language.
PREFIX = "```python\n    "
PLAIN_PREFIX = "```\n    "


# ---------------------------------------------------------------- fences in a full reply


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # A line that starts with inline code ("```ls```") is no fence: the reply has none.
        ("```ls``` lists files.\nx = 1\n", "```ls``` lists files.\nx = 1\n"),
        # ... and the scan goes on to the real block after it.
        ("Run ```ls``` first:\n```ls``` lists.\n```python\nx = 1\n```\n", "x = 1\n"),
        # A tilde fence may have backticks in its info string (CommonMark).
        ("~~~ `python`\nx = 1\n~~~\n", "x = 1\n"),
        # Only the opening fence so far (a streaming full reply): empty code, no error.
        ("```python", ""),
        ("~~~", ""),
    ],
)
def test_which_lines_open_a_block(reply: str, expected: str) -> None:
    assert extract_code(reply, language="python") == expected


@pytest.mark.parametrize(
    ("closing", "closes"),
    [
        ("```", True),
        ("   ```", True),  # up to three columns more than the opening fence
        ("    ```", False),
        ("```  \t", True),  # trailing spaces and tabs are allowed
        ("```\f", False),  # any other character after it makes it content
        ("```\xa0", False),
        ("```X", False),  # a closing fence has no info string
        ("\f```", False),  # nor anything but spaces and tabs before it
        ("X```", False),
        ("``", False),  # shorter than the opening fence
    ],
)
def test_which_lines_close_a_block(closing: str, closes: bool) -> None:
    reply = f"```python\nx = 1\n{closing}\ny = 2\n```\nDone.\n"
    expected = "x = 1\n" if closes else f"x = 1\n{closing}\ny = 2\n"
    assert extract_code(reply, language="python") == expected


@pytest.mark.parametrize(
    ("last", "dropped"),
    [
        ("``", True),  # a closing fence still arriving
        (" `` \t", True),
        ("``X", False),  # text: kept
        ("X``", False),
        ("``\f", False),  # only spaces and tabs may surround a fence
        ("\xa0``", False),
        ("~~", False),  # the other fence character: text of a backtick block
    ],
)
def test_an_unclosed_blocks_last_line(last: str, dropped: bool) -> None:
    reply = "```python\nx = 1\n" + last
    assert extract_code(reply, language="python") == ("x = 1\n" if dropped else "x = 1\n" + last)


def test_a_tilde_block_drops_a_tilde_fence_arriving() -> None:
    assert extract_code("~~~python\nx = 1\n~~", language="python") == "x = 1\n"
    assert extract_code("~~~python\nx = 1\n``", language="python") == "x = 1\n``"


# ---------------------------------------------------------------- which block


@pytest.mark.parametrize(
    ("reply", "language", "expected"),
    [
        # An untagged block names every language: it wins over an earlier other language.
        ("```bash\nls\n```\n```\nx = 1\n```", "python", "x = 1\n"),
        ("```\na\n```\n```python\nb\n```", "python", "a\n"),
        # An info string that starts with the language names it (python3, py for python).
        ("```bash\nls\n```\n```python3\nx = 1\n```", "python", "x = 1\n"),
        ("```bash\nls\n```\n```py\nx = 1\n```", "python", "x = 1\n"),
        # Case does not matter; a name is compared whole, not cut at a capital.
        ("```bash\nls\n```\n```Python\nx = 1\n```", "python", "x = 1\n"),
        ("```TeX\n\\alpha\n```\n```terraform\nresource {}\n```", "terraform", "resource {}\n"),
        ("```X\na\n```\n```python\nb\n```", "python", "b\n"),
    ],
)
def test_the_block_a_language_picks(reply: str, language: str, expected: str) -> None:
    assert extract_code(reply, language=language) == expected


def test_without_a_language_the_first_block_wins_even_before_an_untagged_one() -> None:
    assert extract_code("```bash\nls\n```\n```\nx = 1\n```") == "ls\n"


# ---------------------------------------------------------------- joining the prefix


@pytest.mark.parametrize(
    ("reply", "prefix", "expected"),
    [
        # A file with no language: its prefix fence is bare.
        ("```\nNo change needed.", PLAIN_PREFIX, ""),  # a fence first closes the block
        ("x = 1\n```", PLAIN_PREFIX, "    x = 1\n"),
        ("```\n    x = 1\n```\n", PLAIN_PREFIX, "    x = 1\n"),  # the whole prefix repeated
        # A one-word answer that is no fence is code ("X" is not a fence character).
        ("X\n```", PREFIX, "    X\n"),
        # A fence with any info string restarts, even a one-letter or non-space one.
        ("```X\nx = 1\n```\n", PREFIX, "x = 1\n"),
        ("```\xa0\nx = 1\n```\n", PREFIX, "x = 1\n"),
        # Only spaces, tabs and line breaks may precede a restarting fence.
        ("X```python\nx = 1", PREFIX, "    X```python\nx = 1"),
        ("\f```python\nx = 1", PREFIX, "    \f```python\nx = 1"),
        # A tab after the repeated indentation is the model's own deeper indentation.
        ("    \tx = 1\n```", PREFIX, "        \tx = 1\n"),
    ],
)
def test_joining_the_prefix(reply: str, prefix: str, expected: str) -> None:
    assert extract_code(reply, prefix=prefix, language="python") == expected


@pytest.mark.parametrize(
    ("prefix", "reply", "expected"),
    [
        # Only the prefix's last line counts as the indentation a reply may repeat.
        ("```python\ndef f():\n    ", "    return 1\n```", "def f():\n    return 1\n"),
        ("```python\ndef f():\n    ", "return 1\n```", "def f():\n    return 1\n"),
        # A last line holding code is continued verbatim, even when the reply starts with it
        # (a nested call) or with anything else.
        ("```python\nf(", "f(x))\n```", "f(f(x))\n"),
        ("```python\nx = ", "XXXX_LIMIT\n```", "x = XXXX_LIMIT\n"),
        ("```python\nX", "XY = 1\n```", "XXY = 1\n"),
        # A form feed is not indentation (edits/instruction.py takes only spaces and tabs).
        ("```python\n\f", "\fx = 1\n```", "\f\fx = 1\n"),
    ],
)
def test_a_prefix_is_continued_from_its_last_line(prefix: str, reply: str, expected: str) -> None:
    assert extract_code(reply, prefix=prefix, language="python") == expected


# ---------------------------------------------------------------- fitting to the range


@pytest.mark.parametrize(
    ("code", "original", "expected"),
    [
        # Lone "\r" breaks (old Mac files): a range without a final break gains none ...
        ("y = 2\r", "x = 1", "y = 2"),
        # ... one that has one gets it back.
        ("y = 2", "x = 1\r", "y = 2\r"),
        ("y = 2\r", "x = 1\r", "y = 2\r"),
        # Deleting an indented range, or replacing it with blank lines.
        ("", "    x = 0\n", ""),
        ("\n", "    x = 0\n", "\n"),
        # The code's own indentation, even one column (a tab), is kept.
        ("\tx = 1\n", "    x = 0\n", "\tx = 1\n"),
        (" x = 1\n", "    x = 0\n", " x = 1\n"),
        # Two lines become one: the line gets the range's indentation.
        ("x = 1\n", "    x = 0\n    y = 0\n", "    x = 1\n"),
        # One line becomes a block whose later lines start with the indentation already:
        # with no later line in the range to compare, the whole block is indented.
        ("if x:\n    y()\n", "    y()\n", "    if x:\n        y()\n"),
        # A tie between the two readings (later lines at 4 in the code, 6 in the range: 2
        # away as they are, 2 away indented) keeps the first: the whole block is indented.
        ("f(\n    2)\n", "    f(\n      1)\n", "    f(\n        2)\n"),
    ],
)
def test_conform_edges(code: str, original: str, expected: str) -> None:
    assert conform_to_range(code, original) == expected
