"""bench/predict.py's machinery: the replay corpus, the fake's answers, a wrong answer caught."""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import _predict_corpus as corpus  # noqa: E402
import predict  # noqa: E402
from _predict_fake import CHUNKS, Answerer, answer_ghost, answer_rename, streamed  # noqa: E402
from _predict_replay import replay_ghost, replay_rename, summary  # noqa: E402
from _predict_session import apply_edits, offset_of, position  # noqa: E402
from tests.fake_kimi import Reply  # noqa: E402

SOURCE = '''"""A module."""


def scale(values, factor):
    total = 0
    for value in values:
        total += value * factor
    return total


def describe(name):
    label = name.title()
    return label
'''


def src() -> corpus.Source:
    return corpus.Source("unit", "mod.py", SOURCE + "\n" * 40)


def test_ghost_cuts_follow_the_replay_rule() -> None:
    cases = corpus.ghost_cases([src()], 12)
    assert cases == corpus.ghost_cases([src()], 12)  # seeded
    assert {c.kind for c in cases} == {"line", "block"}
    for c in cases:
        assert c.document[: c.cut] + c.expected + c.document[c.cut :] == c.text
        assert c.expected.strip()
        if c.kind == "line":
            assert "\n" not in c.expected and c.text[c.end] == "\n"
        else:
            assert c.expected.count("\n") < corpus.MAX_BLOCK_LINES
            assert c.text[c.end] == "\n" and c.text[c.cut - 1] in "\n "


def test_renames_change_every_occurrence_and_the_user_only_the_first() -> None:
    cases = corpus.rename_cases([src()], 3)
    assert {(c.function, c.old) for c in cases} <= {
        ("scale", "values"), ("scale", "factor"), ("scale", "total"), ("scale", "value"),
        ("describe", "name"), ("describe", "label"),
    }  # fmt: skip
    for c in cases:
        assert c.truth.count(c.new) == len(c.offsets)
        spelled = len(re.findall(rf"\b{c.old}\b", c.text))
        assert len(re.findall(rf"\b{c.old}\b", c.truth)) == spelled - len(c.offsets)
        assert c.after_user_edit.count(c.new) == 1
        assert c.after_user_edit.index(c.new) == c.offsets[0]


def test_the_real_corpus_draws_from_the_stdlib_and_pygls() -> None:
    ghosts, renames = corpus.corpus(6, 3)
    assert len(ghosts) == 6 and len(renames) == 3
    assert {g.corpus for g in ghosts} == {"stdlib", "pygls"}
    assert {r.corpus for r in renames} == {"stdlib", "pygls"}


def test_positions_count_utf16_units() -> None:
    text = "a😀b\nxyz"
    assert position(text, 2) == {"line": 0, "character": 3}
    assert offset_of(text, {"line": 0, "character": 3}) == 2
    assert offset_of(text, {"line": 1, "character": 99}) == len(text)
    edits = [({"start": position(text, 0), "end": position(text, 1)}, "A"),
             ({"start": position(text, 5), "end": position(text, 5)}, "!")]  # fmt: skip
    assert apply_edits(text, edits) == "A😀b\nx!yz"


def test_answers_stream_in_a_few_chunks_cut_at_line_ends() -> None:
    for text in ("", "one line", SOURCE):
        chunks = streamed(text).content
        assert "".join(chunks) == text and len(chunks) <= CHUNKS
    assert all(c.endswith("\n") for c in streamed(SOURCE).content)
    assert len(streamed(SOURCE).content) == CHUNKS


def ghost_body(prefix: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "ctx"},
                         {"role": "assistant", "content": prefix, "partial": True}]}  # fmt: skip


def test_the_fake_answers_the_true_continuation_and_checks_the_prefix() -> None:
    case = corpus.GhostCase("unit", "m.py", SOURCE, 40, 50, "line")
    reply, seen = answer_ghost(case, ghost_body(SOURCE[20:40]))
    assert "".join(reply.content) == SOURCE[40:] and seen.prefix_ok
    _, seen = answer_ghost(case, ghost_body(SOURCE[20:41]))
    assert not seen.prefix_ok


def test_the_fake_rewrites_each_region_with_the_rename() -> None:
    case = next(c for c in corpus.rename_cases([src()], 6) if c.old == "total")
    lines = case.after_user_edit.split("\n")
    first = case.first_line - 1
    region1 = lines[first] + "<|cursor|>\n"
    region2 = "\n".join(lines[first + 1 : first + 4]) + "\n"
    user = f"edits...\n<|region 1|>\n{region1}<|/region 1|>\n<|region 2|>\n{region2}<|/region 2|>\n"
    prefix = {"role": "assistant", "content": "<|region 1|>\n", "partial": True}
    body = {"messages": [{"role": "user", "content": user}, prefix]}
    reply, seen = answer_rename(case, body)
    truth = case.truth.split("\n")
    renamed = "\n".join(truth[first + 1 : first + 4])
    want = f"{lines[first]}\n<|/region 1|>\n<|region 2|>\n{renamed}\n<|/region 2|>\n"
    assert "".join(reply.content) == want
    assert (seen.regions, seen.regions_found, seen.cursor_marked) == (2, 2, True)


class Liar(Answerer):
    """Answers every request with the same wrong code."""

    def __call__(self, body: dict[str, Any]) -> Reply:
        super().__call__(body)
        return Reply(content="raise SystemExit('not the truth')\n")


@pytest.fixture(scope="module")
def bench() -> Iterator[predict.Bench]:
    with tempfile.TemporaryDirectory(prefix="kimi-test-predict-") as tmp:
        b = predict.Bench(Path(tmp))
        try:
            yield b
        finally:
            b.close()


def test_a_wrong_answer_is_counted_as_a_failure(bench: predict.Bench) -> None:
    ghosts, renames = corpus.corpus(3, 3)
    liar = Liar()
    bench.fake.set_default(liar)
    try:
        ghost = [replay_ghost(bench.server, liar, c, 900 + i) for i, c in enumerate(ghosts)]
        rename = [replay_rename(bench.server, liar, c, 900 + i) for i, c in enumerate(renames)]
    finally:
        bench.fake.set_default(bench.answerer)
    assert not any(o.ok for o in ghost + rename)
    assert all(o.why for o in ghost + rename) and all(o.calls == 1 for o in ghost)
    report = summary(ghost)
    assert report["cases"] == 3 and report["passed"] == 0 and len(report["failures"]) == 3


def test_the_truth_goes_through_the_real_server(bench: predict.Bench) -> None:
    ghosts, renames = corpus.corpus(3, 3)
    ghost = [replay_ghost(bench.server, bench.answerer, c, i) for i, c in enumerate(ghosts)]
    rename = [replay_rename(bench.server, bench.answerer, c, i) for i, c in enumerate(renames)]
    assert [o.calls for o in ghost + rename] == [1] * 6  # one model call per case, no more
    assert all(o.format_ok for o in ghost + rename)  # the prompts follow the agreed format
    assert summary(ghost)["cases"] == 3 and summary(rename)["cases"] == 3
