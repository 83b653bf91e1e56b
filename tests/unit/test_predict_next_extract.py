"""Next-edit answers: regions parsed in order, nothing when unsure, minimal hunks, filters."""

from __future__ import annotations

from kimi_lsp.documents import TextDocument
from kimi_lsp.positions import PositionEncoding
from kimi_lsp.predict.next_extract import (
    Secrets,
    Suggestion,
    extract,
    in_document_form,
    parse_regions,
)
from kimi_lsp.predict.next_prompt import Region
from kimi_lsp.predict.rejections import Rejections

URI = "file:///w/m.py"
PLAIN = Secrets(None, True)


def never(_key: object) -> bool:
    return False


def region_of(text: str, start: int, end: int) -> Region:
    lines = text.splitlines(keepends=True)
    return Region(start, end, "".join(lines[start:end]))


def applied(text: str, suggestions: list[Suggestion]) -> str:
    doc = TextDocument(URI, "", 1, text)
    lines = list(doc.lines)
    for s in sorted(suggestions, key=lambda s: s.start, reverse=True):
        (sl, si), (el, ei) = s.start, s.end
        merged = lines[sl][:si] + s.text + lines[el][ei:]
        lines[sl : el + 1] = [merged]
    return "".join(lines)


def answer(*regions: str, before: str = "", between: str = "") -> str:
    parts = [before]
    for k, body in enumerate(regions, 1):
        parts.append(f"<|region {k}|>\n{body}<|/region {k}|>\n{between}")
    return "".join(parts)


def test_parse_in_order_ignoring_text_outside_and_cursor() -> None:
    got = parse_regions(
        answer("a<|cursor|>b\n", "c\n", before="Sure! Here:\n", between="note\n"), 2
    )
    assert got == {1: "ab\n", 2: "c\n"}
    assert parse_regions("<|region 1|>\n<|cursor|>\nx\n<|/region 1|>", 1) == {1: "x\n"}


def test_missing_and_malformed_regions_are_dropped() -> None:
    # Region 1 never ends before region 2 starts: 1 dropped, 2 kept; 3 is missing.
    text = "<|region 1|>\nx\n<|region 2|>\ny\n<|/region 2|>\n"
    assert parse_regions(text, 3) == {2: "y\n"}
    # Cut off by the token limit: no end marker.
    assert parse_regions("<|region 1|>\nx\n", 1) == {}
    # Out of order: region 2 first, then 1 — only what comes in order is read.
    assert parse_regions(answer("q\n").replace("1|>", "2|>") + answer("p\n"), 2) == {1: "p\n"}
    assert parse_regions("", 2) == {}


def test_rename_gives_one_token_edit_per_use() -> None:
    text = "def area(width, h):\n    r = w * h\n    return w + r\n\n\nprint(w)\n"
    region = region_of(text, 0, 6)
    new = "def area(width, h):\n    r = width * h\n    return width + r\n\n\nprint(width)\n"
    got = extract(URI, [region], answer(new), PLAIN, ((0, 9), (0, 14)), never)
    assert [(s.start, s.end, s.text) for s in got] == [
        ((1, 8), (1, 9), "width"),
        ((2, 11), (2, 12), "width"),
        ((5, 6), (5, 7), "width"),
    ]
    assert applied(text, got) == new


def test_hunks_touching_the_users_latest_edit_are_dropped() -> None:
    text = "def f(ab, c):\n    return a\n"
    region = region_of(text, 0, 2)
    new = "def f(abc, c):\n    return abc\n"
    # The user is typing "ab" at (0, 6)..(0, 8): completing it is refused, the use is kept.
    got = extract(URI, [region], answer(new), PLAIN, ((0, 6), (0, 8)), never)
    assert [(s.start, s.text) for s in got] == [((1, 11), "abc")]


def test_several_regions_map_to_their_lines() -> None:
    text = "".join(f"x{i} = old\n" for i in range(20))
    regions = [region_of(text, 8, 11), region_of(text, 1, 3), region_of(text, 15, 17)]
    bodies = [r.text.replace("old", "new") for r in regions]
    got = extract(URI, regions, answer(*bodies), PLAIN, None, never)
    assert sorted(s.start[0] for s in got) == [1, 2, 8, 9, 10, 15, 16]
    assert all(s.text == "new" and s.end[1] - s.start[1] == 3 for s in got)


def test_unchanged_empty_and_emptied_regions() -> None:
    text = "a = 1\nb = 2\n"
    region = region_of(text, 0, 2)
    assert extract(URI, [region], answer(text), PLAIN, None, never) == []
    assert extract(URI, [region], answer(""), PLAIN, None, never) == []  # emptied: unsure


def test_crlf_regions_keep_their_line_ends() -> None:
    text = "a = old\r\nb = old\r\n"
    region = region_of(text, 0, 2)
    got = extract(URI, [region], answer("a = old\nb = new\n"), PLAIN, None, never)
    assert [(s.start, s.end, s.text) for s in got] == [((1, 4), (1, 7), "new")]
    assert applied(text, got) == "a = old\r\nb = new\r\n"
    assert in_document_form("a\r\nb\n", "a\nb\n") is None  # mixed line ends: unsure


def test_last_line_without_a_line_break() -> None:
    text = "x = 1\ny = x"
    region = Region(0, 2, text)
    got = extract(URI, [region], answer("x = 1\ny = x + 1\n"), PLAIN, None, never)
    assert applied(text, got) == "x = 1\ny = x + 1"


def test_tabs_and_utf16_positions() -> None:
    text = "\tname = '😀'  # old\n\treturn old\n"
    region = region_of(text, 0, 2)
    new = "\tname = '😀'  # new\n\treturn new\n"
    got = extract(URI, [region], answer(new), PLAIN, None, never)
    assert [s.start for s in got] == [(0, 15), (1, 8)]  # string indices
    doc = TextDocument(URI, "", 1, text, PositionEncoding.UTF16)
    start = doc.position_from_index(*got[0].start)
    assert (start.line, start.character) == (0, 16)  # 😀 is two UTF-16 units
    assert applied(text, got) == new


def test_rejected_edits_are_not_suggested_again() -> None:
    text = "a = old\nb = old\n"
    region = region_of(text, 0, 2)
    new = "a = new\nb = new\n"
    rejections = Rejections()
    first = extract(URI, [region], answer(new), PLAIN, None, rejections)
    assert len(first) == 2
    rejections.issued("id-1", first[0].key)
    rejections.issued("id-2", first[1].key)
    assert rejections.settle("id-1", rejected=True)
    assert not rejections.settle("id-1", rejected=True)  # settled already
    assert not rejections.settle("unknown", rejected=True)
    assert rejections.settle("id-2", rejected=False)  # ignored: may come back
    again = extract(URI, [region], answer(new), PLAIN, None, rejections)
    assert [s.start for s in again] == [(1, 4)]


def test_rejections_are_bounded() -> None:
    rejections = Rejections(max_issued=2, max_rejected=1)
    for i in range(3):
        rejections.issued(f"id{i}", (URI, f"o{i}", f"n{i}"))
    assert not rejections.known("id0") and rejections.known("id2")
    rejections.settle("id1", rejected=True)
    rejections.settle("id2", rejected=True)
    assert not rejections((URI, "o1", "n1")) and rejections((URI, "o2", "n2"))


def test_secrets_hidden_from_the_model_are_put_back() -> None:
    key = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = f'TOKEN = "{key}"\nvalue = old\n'
    region = region_of(text, 0, 2)
    reply = 'TOKEN = "[REDACTED:github-token]"\nvalue = new\n'
    got = extract(URI, [region], answer(reply), PLAIN, None, never)
    assert [(s.start, s.text) for s in got] == [((1, 8), "new")]
    # A marker the original did not hide would be written into the file: region dropped.
    bad = 'TOKEN = "[REDACTED:aws-access-key-id]"\nvalue = new\n'
    assert extract(URI, [region], answer(bad), PLAIN, None, never) == []


def test_a_block_insert_stays_one_hunk() -> None:
    text = "def f():\n    pass\n"
    region = region_of(text, 0, 2)
    new = "def f():\n    x = 1\n    y = 2\n    pass\n"
    [one] = extract(URI, [region], answer(new), PLAIN, None, never)
    assert applied(text, [one]) == new
