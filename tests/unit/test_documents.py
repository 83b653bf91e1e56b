"""Unit and property tests for TextDocument and DocumentStore."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_lsp.documents import (
    DocumentStore,
    Position,
    Range,
    TextChange,
    TextDocument,
    UnknownDocumentError,
)
from kimi_lsp.errors import KimiError
from kimi_lsp.positions import PositionEncoding, split_lines

U8, U16, U32 = PositionEncoding.UTF8, PositionEncoding.UTF16, PositionEncoding.UTF32


def P(line: int, character: int) -> Position:
    return Position(line, character)


def R(sl: int, sc: int, el: int, ec: int) -> Range:
    return Range(Position(sl, sc), Position(el, ec))


def edit(doc: TextDocument, rng: Range | None, text: str) -> bool:
    return doc.apply(TextChange(rng, text))


# -- naive reference: whole-text, character by character ----------------------------


def ref_spans(text: str) -> list[tuple[int, int]]:
    """(start, content end) of every line, breaking at \\r\\n, \\r and \\n only."""
    spans: list[tuple[int, int]] = []
    start = i = 0
    while i < len(text):
        if text[i] in "\r\n":
            end = i
            i += 2 if text[i : i + 2] == "\r\n" else 1
            spans.append((start, end))
            start = i
        else:
            i += 1
    spans.append((start, len(text)))
    return spans


def width(ch: str, encoding: PositionEncoding) -> int:
    if encoding is U8:
        return len(ch.encode("utf-8"))
    return 2 if encoding is U16 and ord(ch) > 0xFFFF else 1


def ref_offset(text: str, pos: Position, encoding: PositionEncoding) -> tuple[int, bool]:
    spans = ref_spans(text)
    if pos.line < 0:
        return 0, True
    if pos.line >= len(spans):
        return len(text), True
    start, end = spans[pos.line]
    units = 0
    for k in range(start, end):
        w = width(text[k], encoding)
        if pos.character < units + w:  # on or inside this character: round down
            return k, units != pos.character
        units += w
    return end, units != pos.character


def ref_apply(text: str, change: TextChange, encoding: PositionEncoding) -> tuple[str, bool]:
    if change.range is None:
        return change.text, False
    a, a_clamped = ref_offset(text, change.range.start, encoding)
    b, b_clamped = ref_offset(text, change.range.end, encoding)
    a, b = min(a, b), max(a, b)
    return text[:a] + change.text + text[b:], a_clamped or b_clamped


# -- unit tests ----------------------------------------------------------------------


def test_basic_accessors() -> None:
    doc = TextDocument("file:///a.py", "python", 3, "one\r\ntwo\nthree")
    assert (doc.uri, doc.language_id, doc.version, doc.encoding) == (
        "file:///a.py",
        "python",
        3,
        U16,
    )
    assert doc.line_count == 3
    assert [doc.line(i) for i in range(-1, 4)] == ["", "one", "two", "three", ""]
    assert doc.end_position() == P(2, 5)
    assert TextDocument("u", "t", 0, "x\n").end_position() == P(1, 0)
    assert TextDocument("u", "t", 0, "").lines == [""]


def test_form_feed_and_unicode_separators_are_not_line_breaks() -> None:
    doc = TextDocument("u", "t", 0, "a\fb\x85c\u2028d\ne")
    assert doc.line_count == 2
    assert doc.line(0) == "a\fb\x85c\u2028d"
    assert doc.offset_at(P(1, 0)) == 8


def test_single_char_insert_and_newline_insert() -> None:
    doc = TextDocument("u", "t", 0, "hello\nworld")
    assert edit(doc, R(0, 5, 0, 5), "!") is False
    assert doc.text == "hello!\nworld"
    assert edit(doc, R(1, 2, 1, 2), "\n") is False
    assert doc.lines == ["hello!\n", "wo\n", "rld"]


def test_delete_and_replace_across_lines() -> None:
    doc = TextDocument("u", "t", 0, "aaa\nbbb\r\nccc\nddd")
    edit(doc, R(0, 1, 2, 2), "X\nY")
    assert doc.text == "aX\nYc\nddd"
    assert doc.lines == ["aX\n", "Yc\n", "ddd"]
    edit(doc, R(0, 0, 2, 3), "")
    assert doc.lines == [""]


def test_full_replacement() -> None:
    doc = TextDocument("u", "t", 0, "old")
    assert edit(doc, None, "new\r\ntext") is False
    assert doc.lines == ["new\r\n", "text"]


@pytest.mark.parametrize(
    ("before", "rng", "text", "after"),
    [
        ("a\rb", R(1, 0, 1, 0), "\n", "a\r\nb"),  # "\n" joins the lone "\r" above
        ("a\rx\nb", R(1, 0, 1, 1), "", "a\r\nb"),  # deleting "x" makes "\r" + "\n" meet
        ("a\nb", R(0, 1, 0, 1), "\r", "a\r\nb"),  # "\r" inserted before an "\n"
        ("a\r\nb", R(0, 1, 1, 0), "\r", "a\rb"),  # replacing a CRLF with a lone CR
        ("a\r\nb", R(0, 1, 1, 0), "\n\r", "a\n\rb"),
        ("a\r", R(1, 0, 1, 0), "\nz", "a\r\nz"),  # at the very end of the document
        ("\r\r\r", R(1, 0, 2, 0), "\n", "\r\n\r"),  # the middle CR becomes LF
    ],
)
def test_cr_lf_seams(before: str, rng: Range, text: str, after: str) -> None:
    doc = TextDocument("u", "t", 0, before)
    edit(doc, rng, text)
    assert doc.text == after
    assert doc.lines == split_lines(after)


def test_position_inside_crlf_clamps_before_it() -> None:
    doc = TextDocument("u", "t", 0, "a\r\nb")
    assert edit(doc, R(0, 2, 0, 2), "X") is True
    assert doc.text == "aX\r\nb"


def test_utf16_surrogate_pair_edit() -> None:
    doc = TextDocument("u", "t", 0, "x😀y\n", U16)
    assert edit(doc, R(0, 1, 0, 3), "E") is False
    assert doc.text == "xEy\n"
    doc = TextDocument("u", "t", 0, "x😀y\n", U16)
    assert edit(doc, R(0, 2, 0, 2), "!") is True  # inside the pair: rounds down
    assert doc.text == "x!😀y\n"


def test_utf8_multibyte_edit_and_positions() -> None:
    doc = TextDocument("u", "t", 0, "é中😀z", U8)
    assert doc.end_position() == P(0, 10)
    assert doc.position_at(3) == P(0, 9)
    assert edit(doc, R(0, 2, 0, 5), "") is False
    assert doc.text == "é😀z"


def test_clamping_past_the_end_and_negative() -> None:
    doc = TextDocument("u", "t", 0, "ab\ncd")
    assert edit(doc, R(9, 0, 9, 0), "!") is True
    assert doc.text == "ab\ncd!"
    assert edit(doc, R(0, 99, 0, 99), "?") is True
    assert doc.text == "ab?\ncd!"
    assert edit(doc, R(-1, 5, -1, 5), "<") is True
    assert doc.text == "<ab?\ncd!"
    assert edit(doc, R(0, -4, 0, 1), "") is True
    assert doc.text == "ab?\ncd!"
    huge = 10**30
    assert doc.offset_at(P(huge, -huge)) == len(doc.text)
    assert doc.position_at(-huge) == P(0, 0)
    assert doc.position_at(huge) == P(1, 3)


def test_reversed_range_is_normalised() -> None:
    doc = TextDocument("u", "t", 0, "abc\ndef")
    assert doc.range_to_offsets(R(1, 1, 0, 1)) == (1, 5)
    assert doc.text_in(R(1, 1, 0, 1)) == "bc\nd"
    assert doc.offsets_to_range(5, 1) == R(0, 1, 1, 1)
    edit(doc, R(1, 1, 0, 1), "-")
    assert doc.text == "a-ef"


def test_offsets_and_positions_with_crlf() -> None:
    doc = TextDocument("u", "t", 0, "ab\r\ncd\re")
    assert [doc.offset_at(P(1, c)) for c in range(4)] == [4, 5, 6, 6]
    assert doc.position_at(3) == P(0, 2)  # between "\r" and "\n"
    assert doc.position_at(7) == P(2, 0)
    assert doc.position_from_index(1, 1) == P(1, 1)
    assert doc.position_from_index(7, 0) == P(2, 0)


def test_incremental_change_keeps_untouched_lines() -> None:
    doc = TextDocument("u", "t", 0, "".join(f"line {i}\n" for i in range(1000)))
    before = list(doc.lines)
    edit(doc, R(500, 2, 501, 1), "X\nY\nZ")
    # Untouched lines are the same objects: nothing outside the edit was re-split.
    assert doc.lines[10] is before[10]
    assert doc.lines[-2] is before[-2]
    assert doc.lines[499:503] == ["line 499\n", "liX\n", "Y\n", "Zine 501\n"]
    assert doc.line_count == 1002


def test_text_and_line_starts_are_cached_lazily() -> None:
    doc = TextDocument("u", "t", 0, "a\nb\nc")
    first = doc.text
    assert doc.text is first
    edit(doc, R(1, 0, 1, 0), "x")
    assert doc._text is None and doc._line_starts is None  # nothing O(doc) on the keystroke path
    assert doc.offset_at(P(2, 0)) == 5
    assert doc.text == "a\nxb\nc"
    assert doc.text is doc.text


# -- DocumentStore ---------------------------------------------------------------------


def test_store_open_change_close() -> None:
    store = DocumentStore()
    doc = store.open("file:///a", "python", 1, "x = 1\n")
    assert store.get("file:///a") is doc and "file:///a" in store and len(store) == 1
    result = store.change("file:///a", 7, [TextChange(R(0, 4, 0, 5), "2"), TextChange(None, "z")])
    assert result.document is doc and result.clamped is False
    assert (doc.text, doc.version) == ("z", 7)
    result = store.change(
        "file:///a", 8, [TextChange(R(0, 0, 0, 0), "a"), TextChange(R(5, 0, 5, 0), "!")]
    )
    assert result.clamped is True and doc.text == "az!"
    assert store.close("file:///a") is doc
    assert store.close("file:///a") is None
    assert "file:///a" not in store and store.get("file:///a") is None and len(store) == 0


def test_unknown_document_error() -> None:
    store = DocumentStore()
    with pytest.raises(UnknownDocumentError) as info:
        store.change("file:///missing", 1, [TextChange(None, "x")])
    assert info.value.uri == "file:///missing"
    assert isinstance(info.value, KimiError)
    assert "file:///missing" in str(info.value)


def test_recent_is_most_recently_used_first() -> None:
    store = DocumentStore()
    for uri in "abc":
        store.open(uri, "t", 0, uri)
    assert [d.uri for d in store.recent()] == ["c", "b", "a"]
    store.change("a", 1, [])
    assert [d.uri for d in store.recent()] == ["a", "c", "b"]
    assert store.touch("b") is True and store.touch("zz") is False
    assert [d.uri for d in store.recent()] == ["b", "a", "c"]
    assert [d.uri for d in store.recent(limit=2)] == ["b", "a"]
    assert store.recent(limit=0) == [] and store.recent(limit=-1) == []
    store.open("c", "t", 5, "reopened")
    assert [d.uri for d in store.recent()] == ["c", "b", "a"]
    assert store.get("c") is not None and store.get("c").text == "reopened"  # type: ignore[union-attr]
    store.close("b")
    assert [d.uri for d in store] == ["c", "a"]


def test_store_encoding_negotiation() -> None:
    store = DocumentStore(U16)
    early = store.open("u", "t", 0, "😀x")
    store.encoding = U8
    assert store.encoding is U8 and early.encoding is U8
    assert store.open("v", "t", 0, "😀x").encoding is U8
    assert early.end_position() == P(0, 5)


# -- property: incremental edits equal the naive whole-text reference ------------------

ALPHABET = [*"ab \t\n\r\f\x85\u2028é中😀", "\r\n", "\r\n", "\n\n", "😀😀"]
texts = st.lists(st.sampled_from(ALPHABET), max_size=14).map("".join)


# Module-level strategies: building strategies inside each draw dominated the runtime.
small = st.integers(-2, 14)
mode = st.integers(0, 3)
full_replacement = st.integers(0, 19)


def pick(data: st.DataObject, exact: int, bound: int) -> int:
    """An int biased towards the edges: arbitrary, `exact`, `exact + 1`, or in [0, bound)."""
    choice = data.draw(mode)
    if choice == 0:
        return data.draw(small)
    if choice == 3:
        return data.draw(small) % bound
    return exact + choice - 1


def draw_position(data: st.DataObject, doc: TextDocument) -> Position:
    n = doc.line_count
    line = pick(data, n - 1, n)  # often the last line or just past it
    end = doc.position_from_index(line, 10**9).character if 0 <= line < n else 0
    return Position(line, pick(data, end, end + 1))  # often the end of the line


def draw_change(data: st.DataObject, doc: TextDocument) -> TextChange:
    if data.draw(full_replacement) == 0:
        return TextChange(None, data.draw(texts))
    return TextChange(Range(draw_position(data, doc), draw_position(data, doc)), data.draw(texts))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(list(PositionEncoding)), texts)
def test_random_edit_sequences_match_reference(
    data: st.DataObject, encoding: PositionEncoding, text: str
) -> None:
    doc = TextDocument("file:///p", "t", 0, text, encoding)
    for _ in range(data.draw(st.integers(1, 8))):
        change = draw_change(data, doc)
        text, clamped = ref_apply(text, change, encoding)
        assert doc.apply(change) is clamped
        assert doc.text == text
        assert doc.lines == split_lines(text)
        assert doc.end_position() == doc.position_at(len(text))
        # offset -> position -> offset round-trips except between the halves of a CRLF.
        for offset in range(len(text) + 1):
            if text[offset - 1 : offset + 1] != "\r\n" or offset == 0:
                assert doc.offset_at(doc.position_at(offset)) == offset
        # position -> offset agrees with the reference; exact positions round-trip.
        pos = draw_position(data, doc)
        offset, pos_clamped = ref_offset(text, pos, encoding)
        assert doc.offset_at(pos) == offset
        assert doc.locate(pos)[2] is pos_clamped
        if not pos_clamped:
            assert doc.position_at(offset) == pos
