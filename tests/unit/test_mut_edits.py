"""Edges of the edit modules that the first mutation run found untested (docs/mutation.md):
the pending store's defaults, order and reasons, the parse gate's messages, secrets put back in
order, and a carried edit's text."""

from __future__ import annotations

import pytest

from kimi_lsp.edits import pending as pending_module
from kimi_lsp.edits.diff import Hunk, apply_hunks, compute_hunks
from kimi_lsp.edits.on_disk import DiskBase, onto_disk
from kimi_lsp.edits.outcome import EditCode
from kimi_lsp.edits.pending import PendingEdits
from kimi_lsp.edits.unredact import restore_secrets
from kimi_lsp.edits.validate import python_breaks
from kimi_lsp.errors import ErrorKind, RequestFailedError

SNAPSHOT = "line one\nline two\nline three\n"
RANGE = (9, 18)
HUNKS = [Hunk(14, 17, "2")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def add(edits: PendingEdits, edit_id: str, uri: str = "file:///a") -> str:
    return edits.add(uri, 1, SNAPSHOT, RANGE, HUNKS, edit_id=edit_id)


# ---------------------------------------------------------------- pending store


def test_default_lifetime_is_ten_minutes() -> None:
    clock = Clock()
    edits = PendingEdits(clock=clock)
    add(edits, "a")
    clock.now += 599.9
    assert edits.get("a") is not None
    clock.now += 0.1
    assert edits.get("a") is None and edits.gone("a") is EditCode.EXPIRED


def test_default_store_keeps_a_hundred_edits() -> None:
    edits = PendingEdits(clock=Clock())
    for n in range(101):
        add(edits, f"e{n}")
    assert len(edits) == 100
    assert edits.get("e0") is None and edits.gone("e0") is EditCode.EXPIRED
    assert edits.get("e1") is not None


def test_adding_an_id_again_makes_it_the_newest() -> None:
    edits = PendingEdits(clock=Clock(), max_edits=2)
    add(edits, "a")
    add(edits, "b")
    add(edits, "a")
    add(edits, "c")  # evicts the oldest: b, not the re-added a
    assert edits.get("a") is not None and edits.get("b") is None


def test_adding_an_id_again_forgets_why_it_went() -> None:
    edits = PendingEdits(clock=Clock())
    add(edits, "a")
    edits.drop_uri("file:///a")
    assert edits.gone("a") is EditCode.DOCUMENT_CLOSED
    add(edits, "a")
    assert edits.pop("a") is not None
    assert edits.gone("a") is EditCode.NOT_PENDING  # accepted now, not "closed"


def test_reasons_are_kept_for_the_most_recently_gone() -> None:
    edits = PendingEdits(clock=Clock(), max_edits=2)
    for edit_id in ("a", "b", "a", "c"):  # `a` goes twice: its reason is renewed
        add(edits, edit_id, uri=f"file:///{edit_id}")
        edits.drop_uri(f"file:///{edit_id}")
    assert edits.gone("a") is EditCode.DOCUMENT_CLOSED
    assert edits.gone("c") is EditCode.DOCUMENT_CLOSED
    assert edits.gone("b") is EditCode.NOT_PENDING  # the oldest reason was let go


def test_dropping_a_document_after_expiry_says_expired() -> None:
    clock = Clock()
    edits = PendingEdits(ttl_seconds=10, clock=clock)
    add(edits, "a")
    clock.now += 11
    assert [e.edit_id for e in edits.drop_uri("file:///a")] == ["a"]
    assert edits.gone("a") is EditCode.EXPIRED


def test_drop_touched_diffs_once_per_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = pending_module.compute_hunks

    def counting(old: str, new: str) -> list[Hunk]:
        calls.append(old)
        return real(old, new)

    monkeypatch.setattr(pending_module, "compute_hunks", counting)
    edits = PendingEdits(clock=Clock())
    add(edits, "a")
    add(edits, "b")
    typed = SNAPSHOT.replace("two", "2wo")
    assert {e.edit_id for e in edits.drop_touched("file:///a", typed)} == {"a", "b"}
    assert calls == [SNAPSHOT]


# ---------------------------------------------------------------- parse gate


def test_the_gate_judges_parsing_not_compiling() -> None:
    # `return` at the top level parses (a later compile step would refuse it): not judged.
    assert python_breaks("x = 1\n", "return x\n") is None


def test_the_gate_names_the_line_and_the_parser_message() -> None:
    assert python_breaks("x = 1\n", "x = 1\ny = (\n") == (
        "the edit would make the file unparseable: line 2: '(' was never closed"
    )


def test_the_gate_refuses_nul_bytes_with_the_parser_message() -> None:
    message = python_breaks("x = 1\n", "x = 1\x00\n")
    # Python 3.11 raises ValueError (no line); 3.12+ a SyntaxError on line 1.
    assert message in (
        "the edit would make the file unparseable: source code string cannot contain null bytes",
        "the edit would make the file unparseable: line 1: source code string cannot contain "
        "null bytes",
    ), message


# ---------------------------------------------------------------- secrets put back

KEY = "sk-test-configured-0123456789"
IDS = ["AKIA" + "Q3X7ZK2M9PLW4RTY", "AKIA" + "ZZ3X7ZK2M9PLW4RT", "AKIA" + "MM3X7ZK2M9PLW4RQ"]
MARK = "[REDACTED:aws-access-key-id]"


def test_several_values_of_one_kind_go_back_in_order() -> None:
    original = "".join(f"k{n} = '{v}'\n" for n, v in enumerate(IDS))
    reply = "".join(f"k{n} = '{MARK}'  # kept\n" for n in range(3))
    assert restore_secrets(reply, original, KEY, patterns=True) == "".join(
        f"k{n} = '{v}'  # kept\n" for n, v in enumerate(IDS)
    )


def test_one_value_hidden_twice_may_be_kept_once() -> None:
    original = f"a = '{IDS[0]}'\nb = '{IDS[0]}'\n"
    assert restore_secrets(f"a = '{MARK}'\n", original, KEY, patterns=True) == (f"a = '{IDS[0]}'\n")


def test_different_values_kept_fewer_times_are_refused_with_the_reason() -> None:
    original = f"a = '{IDS[0]}'\nb = '{IDS[1]}'\n"
    with pytest.raises(RequestFailedError) as caught:
        restore_secrets(f"a = '{MARK}'\n", original, KEY, patterns=True)
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert caught.value.message == (
        "Not applied: the proposal moves secrets that were hidden from the model "
        "(aws-access-key-id), so kimi cannot tell which value goes where. Edit the lines "
        "that hold secrets yourself, or select less."
    )


def test_without_patterns_only_the_key_was_hidden() -> None:
    original = f"a = '{IDS[0]}'\nkey = '{KEY}'\n"
    # The model saw the AWS id itself (patterns off): a marker for it is not ours to fill.
    with pytest.raises(RequestFailedError):
        restore_secrets(f"a = '{MARK}'\n", original, KEY, patterns=False)
    reply = "key = '[REDACTED:configured-secret]'\n"
    assert restore_secrets(reply, original, KEY, patterns=False) == f"key = '{KEY}'\n"


# ---------------------------------------------------------------- on disk

ORIGINAL = "a = 1\nb = 2\nc = 3\n"


def test_an_edit_carried_onto_a_changed_file_names_that_text() -> None:
    current = "a = 0\n" + ORIGINAL[6:]
    moved = onto_disk("calc.py", ORIGINAL, compute_hunks(ORIGINAL, ORIGINAL.replace("3", "4")),
                      current.encode(), current)  # fmt: skip
    assert isinstance(moved, DiskBase)
    assert moved.text == current
    assert apply_hunks(moved.text, moved.hunks) == "a = 0\nb = 2\nc = 4\n"


def test_a_conflict_on_disk_says_to_run_again() -> None:
    current = ORIGINAL.replace("c = 3", "c = 9")
    refused = onto_disk("calc.py", ORIGINAL, compute_hunks(ORIGINAL, ORIGINAL.replace("3", "4")),
                        current.encode(), current)  # fmt: skip
    assert refused == (
        "calc.py changed on disk while the refactor ran, where the refactor edits it: "
        "not changed; run the refactor again"
    )
