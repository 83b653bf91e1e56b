"""The next-edit history: old text read before each change, keystrokes coalesced, bounded."""

from __future__ import annotations

import random

from kimi_lsp.documents import DocumentStore, Position, Range, TextChange, TextDocument
from kimi_lsp.positions import PositionEncoding
from kimi_lsp.predict.history import MAX_EDIT_CHARS, EditHistory, advance, text_between

URI = "file:///w/a.py"
OTHER = "file:///w/b.py"


class Editor:
    """A document in a store with its history, changed like an editor changes it."""

    def __init__(self, text: str, uri: str = URI, history: EditHistory | None = None) -> None:
        self.store = DocumentStore(PositionEncoding.UTF16)
        self.doc = self.store.open(uri, "python", 1, text)
        self.uri = uri
        self.history = EditHistory() if history is None else history

    def change(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        change = TextChange(Range(Position(*start), Position(*end)), text)
        self.history.record(self.doc, change)
        self.store.change(self.uri, self.doc.version + 1, [change])

    def type(self, at: tuple[int, int], text: str) -> None:
        line, col = at
        for ch in text:
            self.change((line, col), (line, col), ch)
            col += 1

    def backspace(self, at: tuple[int, int], times: int) -> None:
        line, col = at
        for _ in range(times):
            self.change((line, col - 1), (line, col), "")
            col -= 1


def test_typing_a_word_is_one_edit_with_its_line_around_it() -> None:
    ed = Editor("def f(a, b):\n    return a\n")
    ed.type((1, 12), " + b")
    [edit] = ed.history.recent(6)
    assert (edit.old, edit.new) == ("", " + b")
    assert edit.old_lines == "    return a" and edit.new_lines == "    return a + b"
    assert (edit.start, edit.end) == ((1, 12), (1, 16))


def test_backspacing_a_name_and_typing_another_is_a_rename() -> None:
    ed = Editor("def area(w, h):\n    return w * h\n")
    ed.backspace((0, 10), 1)
    ed.type((0, 9), "width")
    [edit] = ed.history.recent(6)
    assert (edit.old, edit.new) == ("w", "width")
    assert edit.old_lines == "def area(w, h):" and edit.new_lines == "def area(width, h):"


def test_selection_replaced_then_typed_on() -> None:
    ed = Editor("x = old_name + 1\n")
    ed.change((0, 4), (0, 12), "n")
    ed.type((0, 5), "ew")
    [edit] = ed.history.recent(6)
    assert (edit.old, edit.new, edit.start, edit.end) == ("old_name", "new", (0, 4), (0, 7))


def test_typing_past_the_start_of_an_edit_merges_the_original_text() -> None:
    ed = Editor("value = 1\n")
    ed.type((0, 9), "0")  # "value = 10"
    ed.backspace((0, 10), 3)  # deletes "0", "1", " "
    [edit] = ed.history.recent(6)
    assert (edit.old, edit.new, edit.start) == (" 1", "", (0, 7))
    assert ed.doc.text == "value =\n"


def test_typed_and_taken_back_leaves_nothing() -> None:
    ed = Editor("a = 1\n")
    ed.type((0, 5), "23")
    ed.backspace((0, 7), 2)
    assert ed.history.recent(6) == []
    assert ed.history.latest(URI) is not None  # still where the user types


def test_edits_apart_stay_apart_and_multi_line_edits_coalesce() -> None:
    ed = Editor("one\ntwo\nthree\n")
    ed.type((0, 3), "!")
    ed.type((2, 5), "?")
    ed.change((2, 6), (2, 6), "\n")
    ed.type((3, 0), "four")
    first, second = ed.history.recent(6)
    assert (first.old, first.new) == ("", "!")
    assert (second.old, second.new, second.start, second.end) == ("", "?\nfour", (2, 5), (3, 4))
    assert second.new_lines == "three?\nfour"


def test_documents_do_not_coalesce_and_forget_drops_one() -> None:
    history = EditHistory()
    a, b = Editor("aaa\n", URI, history), Editor("bbb\n", OTHER, history)
    a.type((0, 3), "x")
    b.type((0, 3), "y")
    a.type((0, 4), "z")
    assert [e.uri for e in history.recent(6)] == [URI, OTHER, URI]
    assert history.latest(URI) is not None and history.latest(OTHER) is None
    history.forget(URI)
    assert [e.uri for e in history.recent(6)] == [OTHER]


def test_bounded_count_and_size() -> None:
    ed = Editor("\n" * 100, history=EditHistory(max_edits=4))
    for line in range(0, 20, 2):
        ed.type((line, 0), "x")
    assert len(ed.history) == 4
    big = "y" * (MAX_EDIT_CHARS * 3)
    ed.change((50, 0), (50, 0), big)
    edit = ed.history.recent(1)[0]
    assert edit.clipped and edit.new == "" and edit.end == (50, len(big))  # no whole word
    ed.type((50, len(big)), "z")  # never coalesced into a clipped edit
    assert ed.history.recent(1)[0].new == "z"
    ed.change((60, 0), (60, 0), "word " * MAX_EDIT_CHARS)
    assert ed.history.recent(1)[0].new == "word " * (MAX_EDIT_CHARS // 5)


def test_whole_document_change_is_recorded_as_its_changed_span() -> None:
    ed = Editor("def f(a):\n    return a\n")
    change = TextChange(None, "def f(b):\n    return a\n")
    ed.history.record(ed.doc, change)
    ed.store.change(URI, 2, [change])
    [edit] = ed.history.recent(6)
    assert (edit.old, edit.new, edit.start) == ("a", "b", (0, 6))


def test_whole_document_change_of_a_large_document() -> None:
    text = "".join(f"line {i} holds some text\n" for i in range(20_000))
    ed = Editor(text)
    at = text.index("line 15000 holds")
    new = text[:at] + "line 15000 held" + text[at + len("line 15000 holds") :]
    change = TextChange(None, new)
    ed.history.record(ed.doc, change)
    ed.store.change(URI, 2, [change])
    [edit] = ed.history.recent(6)
    assert (edit.old, edit.new, edit.start) == ("olds", "eld", (15000, 12))
    ed.history.clear()
    assert len(ed.history) == 0


def test_context_cut_at_a_word_never_keeps_half_of_it() -> None:
    token = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa98"
    # The 120 characters on each side of the edit end inside a token.
    line = "x = 1  # " + token + " " + "v " * 50 + "END" + " z" * 50 + " " + token + " tail"
    ed = Editor(line + "\n")
    at = line.index("END")
    ed.type((0, at + 3), "!")
    [edit] = ed.history.recent(6)
    assert len(edit.before) <= 120 and len(edit.after) <= 120
    assert edit.before == " " + "v " * 50 + "END"
    assert edit.after == " z" * 50 + " "
    assert "Zx9" not in edit.before + edit.after and "Ba98" not in edit.before + edit.after
    ed.type((0, at + 4), "?")  # the fast path keeps the context as it was
    assert ed.history.recent(6)[0].new == "!?"


def test_utf16_positions_and_crlf_lines() -> None:
    ed = Editor("s = '😀'\r\nt = 1\r\n")
    # 😀 is two UTF-16 units: column 7 is after it, string index 6.
    ed.type((0, 7), "!")
    [edit] = ed.history.recent(6)
    assert edit.start == (0, 6) and edit.old_lines == "s = '😀'" and edit.new_lines == "s = '😀!'"
    assert "\r" not in edit.after


def test_old_text_read_matches_the_store_on_random_edits() -> None:
    rng = random.Random(7)
    ed = Editor("".join(f"line {i} with some words\n" for i in range(30)))
    for _ in range(300):
        doc = ed.doc
        sl = rng.randrange(doc.line_count)
        el = min(doc.line_count - 1, sl + rng.choice((0, 0, 1)))
        sc = rng.randrange(len(doc.line(sl)) + 1)
        ec = rng.randrange(len(doc.line(el)) + 1) if el != sl else sc + rng.choice((0, 1, 2))
        ec = min(ec, len(doc.line(el)))
        text = rng.choice(("", "x", "ab", "\n", "q\nr"))
        expected = TextDocument(URI, "", 0, doc.text).text_in(
            Range(Position(sl, sc), Position(el, ec))
        )
        assert text_between(doc.lines, (sl, sc), (el, ec)) == expected
        ed.change((sl, sc), (el, ec), text)
    assert 0 < len(ed.history) <= 16


def test_advance() -> None:
    assert advance((3, 4), "abc") == (3, 7)
    assert advance((3, 4), "ab\ncd") == (4, 2)
    assert advance((3, 4), "ab\r\n") == (4, 0)


def test_latest_edit_always_spans_its_new_text_while_typing_at_random() -> None:
    rng = random.Random(11)
    ed = Editor("".join(f"row {i} = value\n" for i in range(12)))
    line, col = 5, 3
    undone = ed.doc.text
    for _ in range(600):
        doc = ed.doc
        before = doc.text
        line = min(line, doc.line_count - 1)
        col = min(col, len(doc.line(line)))
        roll = rng.random()
        if roll < 0.55:
            text = rng.choice("abc xy_")
            ed.change((line, col), (line, col), text)
            col += 1
        elif roll < 0.8 and col > 0:
            k = rng.randint(1, min(3, col))
            ed.change((line, col - k), (line, col), "")
            col -= k
        elif roll < 0.85:
            ed.change((line, col), (line, col), "\n")
            line, col = line + 1, 0
        elif roll < 0.93:  # delete forward, or replace a selection around the cursor
            lo = max(0, col - rng.randint(0, 2))
            hi = min(len(doc.line(line)), col + rng.randint(1, 3))
            text = rng.choice(("", "", "Z", "yy"))
            ed.change((line, lo), (line, hi), text)
            col = lo + len(text)
        else:
            line, col = rng.randrange(doc.line_count), rng.randrange(4)
        latest = ed.history.latest(URI)
        if latest is not None:
            assert text_between(ed.doc.lines, latest.start, latest.end) == latest.new
            # Undone on the current text, the edit gives back the text before it began: the
            # text before this keystroke (a new edit) or the same as after the last one.
            lines = ed.doc.lines
            start = sum(map(len, lines[: latest.start[0]])) + latest.start[1]
            end = sum(map(len, lines[: latest.end[0]])) + latest.end[1]
            text = ed.doc.text
            again = text[:start] + latest.old + text[end:]
            assert again in (before, undone)
            undone = again
