"""Next-edit prompts: region 1 around the cursor, the other uses of a renamed name, the layout."""

from __future__ import annotations

from kimi_lsp.documents import TextDocument
from kimi_lsp.predict.history import Edit
from kimi_lsp.predict.next_prompt import (
    ABOVE,
    BELOW,
    CURSOR,
    MAX_REGIONS,
    SYSTEM,
    HistoryEntry,
    PromptInput,
    build_prompt,
    cursor_region,
    fit_sections,
    other_regions,
    renamed,
    with_cursor,
)
from kimi_lsp.secrets.redact import redact

URI = "file:///w/m.py"


def doc(text: str) -> TextDocument:
    return TextDocument(URI, "python", 3, text)


def numbered(n: int) -> str:
    return "".join(f"line{i} = {i}\n" for i in range(n))


def job(document: TextDocument, cursor: tuple[int, int], **kw: object) -> PromptInput:
    values: dict[str, object] = {
        "document": document,
        "path": "m.py",
        "cursor": cursor,
        "history": [],
        "renames": [],
        "budget_tokens": 4000,
        "continues_prefix": True,
    }
    values.update(kw)
    return PromptInput(**values)  # type: ignore[arg-type]


def edit(before: str, old: str, new: str, after: str) -> Edit:
    return Edit(URI, (0, len(before)), (0, len(before) + len(new)), old, new, before, after)


def test_renamed_finds_the_whole_identifier_on_both_sides() -> None:
    assert renamed(edit("def f(", "old", "new", ", x):")) == ("old", "new")
    # Typed in the middle of a name: the whole names are compared.
    assert renamed(edit("def f(co", "", "u", "nt):")) == ("cont", "count")
    assert renamed(edit("x = ", "1", "2", "")) is None  # not identifiers
    assert renamed(edit("x = a", "", "\n", "")) is None  # a line break
    assert renamed(edit("x = ", "", " ", "a")) is None  # same word


def test_region_one_is_whole_lines_around_the_cursor() -> None:
    d = doc(numbered(100))
    region = cursor_region(d, 50, 10_000)
    assert region is not None
    assert (region.start, region.end) == (50 - ABOVE, 50 + BELOW + 1)
    assert region.text == "".join(d.lines[region.start : region.end])
    top = cursor_region(d, 2, 10_000)
    assert top is not None and (top.start, top.end) == (0, 2 + BELOW + 1)
    # The empty tail after the last line break is not a line of region 1.
    end = cursor_region(d, 100, 10_000)
    assert end is not None and end.end == 100 and end.text.endswith("line99 = 99\n")


def test_region_one_shrinks_to_its_share_and_gives_up_on_a_huge_line() -> None:
    d = doc(numbered(100))
    region = cursor_region(d, 50, 200)
    assert region is not None and len(region.text) <= 200
    assert region.start <= 50 < region.end
    assert cursor_region(doc("x" * 5000 + "\n"), 0, 1000) is None


def test_other_regions_are_windows_around_other_uses_merged_and_in_order() -> None:
    lines = [f"pad{i} = {i}\n" for i in range(200)]
    for n in (3, 5, 120, 160, 190):
        lines[n] = f"use(total)  # {n}\n"
    lines[60] = "def f(total):\n"
    d = doc("".join(lines))
    first = cursor_region(d, 60, 10_000)
    assert first is not None
    others = other_regions(d, first, 60, ["total"], 10_000)
    assert 1 <= len(others) <= MAX_REGIONS - 1
    spans = [(r.start, r.end) for r in others]
    assert spans == sorted(spans)
    # 3 and 5 are one region (close), 120 the next nearest; 160 and 190 left out (max regions).
    assert spans == [(1, 8), (118, 123), (158, 163)]
    for region in others:
        assert region.end <= first.start or region.start >= first.end


def test_many_close_uses_are_joined_to_fit_the_regions() -> None:
    lines = [f"pad{i} = {i}\n" for i in range(200)]
    uses = list(range(100, 170, 8))
    for n in uses:
        lines[n] = f"use(total)  # {n}\n"
    lines[10] = "def f(total):\n"
    d = doc("".join(lines))
    first = cursor_region(d, 10, 10_000)
    assert first is not None
    others = other_regions(d, first, 10, ["total"], 10_000)
    assert len(others) == MAX_REGIONS - 1
    assert all(any(r.start <= n < r.end for r in others) for n in uses)


def test_a_name_used_everywhere_gives_the_nearest_uses() -> None:
    d = doc("".join(f"total += {i}\n" for i in range(5000)))
    first = cursor_region(d, 2500, 10_000)
    assert first is not None
    others = other_regions(d, first, 2500, ["total"], 10_000)
    # The 64 uses nearest to the cursor's line (2500), as one window on each side of region 1.
    assert (first.start, first.end) == (2492, 2525)
    assert [(r.start, r.end) for r in others] == [(2450, 2492), (2525, 2551)]


def test_other_regions_never_overlap_region_one_and_skip_partial_words() -> None:
    lines = [f"x{i} = {i}\n" for i in range(80)]
    lines[40] = "def g(n):\n"
    lines[66] = "    return n + nn + n_2\n"  # just below region 1 (ends at 65)
    lines[70] = "    nn = 1\n"  # not a whole-word use
    d = doc("".join(lines))
    first = cursor_region(d, 40, 10_000)
    assert first is not None and first.end == 65
    [other] = other_regions(d, first, 40, ["n"], 10_000)
    assert other.start == first.end and other.end == 69


def test_prompt_layout_stable_parts_first_and_the_prefix() -> None:
    d = doc("import os\n\n" + numbered(60) + "def f(new, b):\n    return old + b\n")
    history = [HistoryEntry("m.py", 62, "def f(old, b):", "def f(new, b):")]
    prompt = build_prompt(job(d, (62, 9), history=history, renames=[("old", "new")]), str)
    assert prompt is not None
    system, user = prompt.messages
    assert system == {"role": "system", "content": SYSTEM}
    content = user["content"]
    assert content.startswith("File: m.py (python)\n")
    assert content.index("import os") < content.index("Recent edits")
    assert content.index("- def f(old, b):\n+ def f(new, b):") < content.index("<|region 1|>")
    assert "def f(new<|cursor|>, b):" in content
    assert content.rstrip().endswith("<|/region 1|>")
    assert prompt.prefix == "<|region 1|>\n"
    assert prompt.max_output_tokens < 1000
    no_prefix = build_prompt(job(d, (62, 9), continues_prefix=False), str)
    assert no_prefix is not None and no_prefix.prefix == ""


def test_consecutive_prompts_share_everything_before_the_regions() -> None:
    d = doc(numbered(100))
    one = build_prompt(job(d, (60, 3)), str)
    two = build_prompt(job(d, (61, 5)), str)
    assert one is not None and two is not None
    a, b = one.messages[1]["content"], two.messages[1]["content"]
    shared = a[: a.index("<|region 1|>")]
    assert b.startswith(shared) and len(shared) > 200
    assert "line29 = 29\n```" in shared  # the file's first 30 lines


def test_the_head_stops_where_region_one_starts() -> None:
    d = doc(numbered(100))
    prompt = build_prompt(job(d, (12, 0)), str)
    assert prompt is not None
    content = prompt.messages[1]["content"]
    assert "line3 = 3\n```" in content and content.count("line4 = 4\n") == 1
    top = build_prompt(job(d, (3, 0)), str)
    assert top is not None and "first lines" not in top.messages[1]["content"]


def test_prompt_fits_the_budget() -> None:
    d = doc("".join(f"value_{i} = compute(value_{i - 1}, {'x' * 90})\n" for i in range(2000)))
    history = [HistoryEntry("m.py", i, "a" * 500, "b" * 500) for i in range(6)]
    project = "\n\n".join(f"# defs {i}\n" + "def g(): pass\n" * 40 for i in range(20))
    prompt = build_prompt(
        job(d, (1000, 0), history=history, renames=[("value_5", "v")], project=project), str
    )
    assert prompt is not None
    size = sum(len(m["content"]) for m in prompt.messages)
    assert size <= 4000 * 3  # characters: a cautious 3 per token
    system = prompt.messages[0]["content"]
    assert system.startswith(SYSTEM + "\n\n# Project context\n\n# defs 0\n")
    assert system.endswith("def g(): pass\n")  # whole sections only


def test_project_sections_fit_whole() -> None:
    assert fit_sections("aaa\n\nbbb\n\nccc", 100) == "aaa\n\nbbb\n\nccc"
    assert fit_sections("aaa\n\nbbb\n\nccc", 9) == "aaa\n\nbbb"
    assert fit_sections("aaaaaaaaaa\n\nb", 5) == ""


def test_secrets_are_redacted_even_with_the_cursor_inside_one() -> None:
    key = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"

    def clean(text: str) -> str:
        return redact(text).text

    text = f'TOKEN = "{key}"\nx = 1\n'
    inside = with_cursor(text, 15, clean)  # the cursor in the middle of the token
    assert key[:8] not in inside and key[-8:] not in inside and "[REDACTED:" in inside
    assert CURSOR in inside
    d = doc(text + "y = 2\n")
    history = [HistoryEntry("m.py", 0, "TOKEN = ''", f'TOKEN = "{key}"')]
    prompt = build_prompt(job(d, (0, 15), history=history), clean)
    assert prompt is not None
    assert key not in str(prompt.messages) and key[-8:] not in str(prompt.messages)
