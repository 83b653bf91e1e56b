"""Reading a refactor plan while it streams: early entries are always the final parse's."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.agent.fanout import parse_plan
from kimi_lsp.agent.plan_stream import PlanStream

PLAN = {
    "plan": 'Rename Config to Settings; keep the "config" module name.',
    "files": [
        {"path": "src/config.py", "change": "rename the class {Config}"},
        {"path": "src/app.py", "change": "use Settings, not [Config]"},
        "docs/guide.md",
    ],
}


def feed_all(stream: PlanStream, text: str, cuts: list[int]) -> list[list[str]]:
    """Feed `text` cut at `cuts`; the paths each feed returned."""
    out, last = [], 0
    for cut in [*sorted(set(cuts)), len(text)]:
        out.append([f.path for f in stream.feed(text[last:cut])])
        last = cut
    return out


def test_each_entry_comes_out_when_its_closing_brace_arrives() -> None:
    text = json.dumps(PLAN, indent=2)
    stream = PlanStream()
    seen: list[tuple[int, str]] = []
    for i, char in enumerate(text):
        seen += [(i, f.path) for f in stream.feed(char)]
    assert [path for _, path in seen] == ["src/config.py", "src/app.py", "docs/guide.md"]
    closing = text.index("}", text.index('{Config}"') + len('{Config}"'))  # the entry's own
    assert text[closing - 1] in ' \n"'
    assert seen[0][0] == closing
    assert stream.plan == PLAN["plan"]
    assert stream.files[0].change == "rename the class {Config}"


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_any_chunking_reads_the_same_entries_as_the_final_parse(cuts: list[int]) -> None:
    text = "```json\n" + json.dumps(PLAN) + "\n```"
    stream = PlanStream()
    got = [p for batch in feed_all(stream, text, [c % len(text) for c in cuts]) for p in batch]
    final = parse_plan(text)
    assert final is not None
    assert got == [f.rel for f in final.files]
    assert stream.plan == final.text


def test_other_shapes_start_nothing_early() -> None:
    shapes = [
        json.dumps({"files": PLAN["files"], "plan": PLAN["plan"]}),  # files first
        "Here is the plan: " + json.dumps(PLAN),  # prose before
        json.dumps({"plan": 3, "files": PLAN["files"]}),  # plan is not text
        json.dumps({"plan": "p", "notes": "x" * 60, "files": PLAN["files"]}),
        json.dumps({"plan": "p", "files": [{"where": "a.py"}, {"path": "b.py"}]}),
    ]
    for text in shapes:
        stream = PlanStream()
        got = [f.path for c in text for f in stream.feed(c)]
        assert got == [], text


def test_a_bad_entry_stops_early_reading_after_the_good_ones() -> None:
    text = '{"plan": "p", "files": [{"path": "a.py"}, 42, {"path": "b.py"}]}'
    stream = PlanStream()
    assert [f.path for c in text for f in stream.feed(c)] == ["a.py"]
