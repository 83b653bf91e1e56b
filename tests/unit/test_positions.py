"""Unit and property tests for LSP line splitting and column conversion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.positions import (
    PositionEncoding,
    column_to_index,
    encoded_length,
    index_to_column,
    line_content_length,
    split_lines,
)

U8, U16, U32 = PositionEncoding.UTF8, PositionEncoding.UTF16, PositionEncoding.UTF32
ALPHABET = "ab \t\n\r\f\v\x1c\x1d\x1e\x85\u2028\u2029é中😀"


def reference_split(text: str) -> list[str]:
    """Obviously-correct character loop: breaks at \\r\\n, \\r and \\n only."""
    lines: list[str] = []
    start = i = 0
    while i < len(text):
        if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
            i += 2
        elif text[i] in "\r\n":
            i += 1
        else:
            i += 1
            continue
        lines.append(text[start:i])
        start = i
    lines.append(text[start:])
    return lines


def width(ch: str, encoding: PositionEncoding) -> int:
    if encoding is U8:
        return len(ch.encode("utf-8"))
    if encoding is U16:
        return len(ch.encode("utf-16-le")) // 2
    return 1


def reference_column_to_index(
    content: str, column: int, encoding: PositionEncoding
) -> tuple[int, bool]:
    units = 0
    for i, ch in enumerate(content):
        w = width(ch, encoding)
        if column < units + w:  # the column falls on or inside this character
            return i, units != column
        units += w
    return len(content), units != column


def test_encoding_values() -> None:
    assert [e.value for e in PositionEncoding] == ["utf-8", "utf-16", "utf-32"]
    assert PositionEncoding("utf-16") is U16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [""]),
        ("a", ["a"]),
        ("a\nb", ["a\n", "b"]),
        ("a\n", ["a\n", ""]),
        ("\n", ["\n", ""]),
        ("\n\n", ["\n", "\n", ""]),
        ("a\r\n\rb", ["a\r\n", "\r", "b"]),
        ("a\r\nb\r\n", ["a\r\n", "b\r\n", ""]),
        ("\r", ["\r", ""]),
        ("\n\r", ["\n", "\r", ""]),
        ("\r\r\n", ["\r", "\r\n", ""]),
    ],
)
def test_split_lines_examples(text: str, expected: list[str]) -> None:
    assert split_lines(text) == expected


@pytest.mark.parametrize("sep", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_split_lines_ignores_non_lsp_breaks(sep: str) -> None:
    assert split_lines(f"a{sep}b") == [f"a{sep}b"]
    assert split_lines(f"a{sep}b\nc{sep}") == [f"a{sep}b\n", f"c{sep}"]
    assert split_lines(f"x\r\n{sep}\r") == ["x\r\n", f"{sep}\r", ""]


@settings(max_examples=1000)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_split_lines_matches_reference(text: str) -> None:
    lines = split_lines(text)
    assert lines == reference_split(text)
    assert "".join(lines) == text
    assert line_content_length(lines[-1]) == len(lines[-1])


def test_line_content_length() -> None:
    assert line_content_length("abc") == 3
    assert line_content_length("abc\n") == 3
    assert line_content_length("abc\r") == 3
    assert line_content_length("abc\r\n") == 3
    assert line_content_length("\f") == 1
    assert line_content_length("") == 0


@pytest.mark.parametrize("encoding", list(PositionEncoding))
def test_ascii_fast_path_and_clamping(encoding: PositionEncoding) -> None:
    assert column_to_index("hello\n", 3, encoding) == (3, False)
    assert column_to_index("hello\n", 5, encoding) == (5, False)
    assert column_to_index("hello\r\n", 6, encoding) == (5, True)  # terminator not addressable
    assert column_to_index("hello", 99, encoding) == (5, True)
    assert column_to_index("hello", -1, encoding) == (0, True)
    assert column_to_index("", 0, encoding) == (0, False)
    assert index_to_column("hello\n", 9, encoding) == 5
    assert index_to_column("hello", -3, encoding) == 0


def test_utf16_surrogate_pairs() -> None:
    line = "a😀b😀\n"
    assert [column_to_index(line, c, U16) for c in range(8)] == [
        (0, False),
        (1, False),
        (1, True),  # inside the first pair rounds down
        (2, False),
        (3, False),
        (3, True),
        (4, False),
        (4, True),  # past the end
    ]
    assert [index_to_column(line, i, U16) for i in range(5)] == [0, 1, 3, 4, 6]
    assert encoded_length("a😀b😀", U16) == 6


def test_utf8_multibyte() -> None:
    line = "é中😀x"  # 2 + 3 + 4 + 1 bytes
    assert column_to_index(line, 0, U8) == (0, False)
    assert column_to_index(line, 1, U8) == (0, True)
    assert column_to_index(line, 2, U8) == (1, False)
    assert column_to_index(line, 4, U8) == (1, True)
    assert column_to_index(line, 5, U8) == (2, False)
    assert column_to_index(line, 8, U8) == (2, True)
    assert column_to_index(line, 9, U8) == (3, False)
    assert column_to_index(line, 10, U8) == (4, False)
    assert column_to_index(line, 11, U8) == (4, True)
    assert [index_to_column(line, i, U8) for i in range(5)] == [0, 2, 5, 9, 10]
    assert encoded_length(line, U8) == 10


def test_utf32_counts_code_points() -> None:
    assert column_to_index("😀é\n", 1, U32) == (1, False)
    assert column_to_index("😀é\n", 3, U32) == (2, True)
    assert index_to_column("😀é", 2, U32) == 2
    assert encoded_length("😀é", U32) == 2


def test_lone_surrogate_does_not_raise() -> None:
    line = "a\ud800b"
    assert column_to_index(line, 2, U16) == (2, False)
    assert column_to_index(line, 4, U8) == (2, False)
    assert index_to_column(line, 3, U8) == 5


@settings(max_examples=1500)
@given(
    st.text(alphabet=ALPHABET.replace("\r", "").replace("\n", ""), max_size=12),
    st.sampled_from(["", "\n", "\r", "\r\n"]),
    st.integers(-3, 50),
    st.sampled_from(list(PositionEncoding)),
)
def test_column_to_index_matches_reference(
    content: str, terminator: str, column: int, encoding: PositionEncoding
) -> None:
    line = content + terminator
    expected = reference_column_to_index(content, column, encoding)
    assert column_to_index(line, column, encoding) == expected
    index, clamped = expected
    # The inverse is exact on character boundaries.
    back = index_to_column(line, index, encoding)
    assert back == encoded_length(content[:index], encoding)
    assert (back == column) == (not clamped)
    assert column_to_index(line, back, encoding) == (index, False)
