"""Ghost-text trimming: the rejoin, block-end, line-limit and rest-of-line rules, and the replay
rule over real code from the standard library."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest

from kimi_lsp.documents import TextDocument
from kimi_lsp.predict.ghost_prompt import suffix_for_trim
from kimi_lsp.predict.ghost_trim import MAX_LINES, Around, Ghost, block_end, line_count, trim


def at(document: str, cursor: int, answer: str, truncated: bool = False) -> Ghost | None:
    """Trim `answer` as the server does for a cursor at offset `cursor` of `document`."""
    doc = TextDocument("file:///t.py", "python", 1, document)
    line, index, _ = doc.locate(doc.position_at(cursor))
    content = doc.line(line)
    suffix, complete = suffix_for_trim(doc, line, content[index:], len(answer) + 1)
    return trim(answer, Around(content[:index], content[index:], suffix, complete), truncated)


def cursor_of(marked: str) -> tuple[str, int]:
    return marked.replace("|", ""), marked.index("|")


def test_cut_where_the_answer_repeats_the_text_after_the_cursor() -> None:
    doc, c = cursor_of("def f(a):\n    return |\n\nprint(f(1))\n")
    assert at(doc, c, "a * 2\n\nprint(f(1))\nmore") == Ghost("a * 2")


def test_an_auto_closed_bracket_is_kept_after_the_insert() -> None:
    doc, c = cursor_of("x = max(|)\n")
    assert at(doc, c, "1, 2)\n") == Ghost("1, 2")
    assert at(doc, c, "1, 2") == Ghost("1, 2")  # stopped before it: inserted before it


def test_a_line_that_goes_past_the_closer_rewrites_the_rest_of_the_line() -> None:
    doc, c = cursor_of("x = max(|)\n")
    assert at(doc, c, "1, 2).real\n") == Ghost("1, 2).real", replace_rest=True)


def test_code_after_the_cursor_the_answer_ignores_means_nothing() -> None:
    doc, c = cursor_of("x = |compute(y)\n")
    assert at(doc, c, "1 + compute(y)\n") == Ghost("1 + ")
    assert at(doc, c, "other_thing\n") is None


def test_multi_line_block_keeps_indentation_and_ends_at_the_dedent() -> None:
    doc, c = cursor_of("class Box:\n    def area(self):|\n\n\nbox = Box()\n")
    body = "\n        w = self.w\n\n        return w * self.h"
    assert at(doc, c, body + "\n\n\nclass Other:\n    pass\n") == Ghost(body)


def test_a_closing_brace_at_the_opening_indentation_ends_the_block() -> None:
    doc, c = cursor_of("function f() {|\n\nf();\n")
    answer = "\n  return 1;\n}\n\nfunction g() {\n}\n"
    assert at(doc, c, answer) == Ghost("\n  return 1;\n}")


def test_statements_stop_at_the_first_blank_line() -> None:
    doc, c = cursor_of("def f():\n    x = 1|\n\ndef g():\n    pass\n")
    assert at(doc, c, "\n    y = 2\n\n    z = 3\n") == Ghost("\n    y = 2")


def test_at_the_end_of_the_file_an_answer_that_ends_there_is_one_block() -> None:
    doc, c = cursor_of("def f():\n    x = 1|\n")
    assert at(doc, c, "\n    y = 2\n\n    z = 3\n") == Ghost("\n    y = 2\n\n    z = 3")
    assert at(doc, c, "\n    y = 2\n\ng = 1\n") == Ghost("\n    y = 2")
    doc, c = cursor_of("def f():\n    |\n")
    body = "if x:\n        return None\n    return x.y()"
    assert at(doc, c, body + "\n") == Ghost(body)
    assert at(doc, c, body + "\n", truncated=True) == Ghost("if x:\n        return None")


def test_at_most_sixteen_lines() -> None:
    doc, c = cursor_of("def f():|\n")
    body = "".join(f"\n    x{i} = {i}" for i in range(30))
    ghost = at(doc, c, body)
    assert ghost is not None and line_count(ghost.text) == MAX_LINES


def test_a_fence_ends_the_answer_and_a_cut_last_line_is_dropped() -> None:
    doc, c = cursor_of("def f():|\n")
    assert at(doc, c, "\n    return 1\n```\nExplanation") == Ghost("\n    return 1")
    assert at(doc, c, "\n    a = 1\n    b = some_ca", truncated=True) == Ghost("\n    a = 1")


@pytest.mark.parametrize("answer", ["", "   ", "\n\n", "[REDACTED:api-key]"])
def test_nothing_for_whitespace_or_a_redaction_marker(answer: str) -> None:
    doc, c = cursor_of("x = |\n")
    assert at(doc, c, answer) is None


def test_nothing_when_the_whole_answer_repeats_the_suffix() -> None:
    doc, c = cursor_of("x = 1\n|y = 2\nz = 3\n")
    assert at(doc, c, "y = 2\nz = 3\n") is None


def test_whole_lines_before_the_cursor_lines_code() -> None:
    doc, c = cursor_of("if a:\n    b()\n|c()\n")
    assert at(doc, c, "    d()\nc()\n") == Ghost("    d()\n")
    assert at(doc, c, "    d()\n") == Ghost("    d()\n")


def test_block_end_counts() -> None:
    assert block_end("def f():", ["", "    a", "", "    b", "x"]) == 4
    assert block_end("x = 1", ["", "y = 2", "", "z"]) == 2
    assert block_end("", ["", "", ""]) == 3


# -- the replay rule: F[:c] + F[e:] answered with F[c:] gives back F[c:e] ------------------


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _cases(text: str, rng: random.Random, count: int) -> list[tuple[str, int, int]]:
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    found: list[tuple[str, int, int]] = []
    code = [i for i, line in enumerate(lines) if len(line.strip()) > 3]
    for _ in range(count):  # the rest of a line
        i = rng.choice(code)
        column = rng.randint(_indent(lines[i]) + 1, len(lines[i]) - 1)
        found.append(("line", starts[i] + column, starts[i] + len(lines[i])))
    ends = []
    for j, line in enumerate(lines[:-1]):
        k = j + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        if line.strip() and k < len(lines) and _indent(lines[k]) < _indent(line):
            ends.append(j)
    for _ in range(count):  # whole lines that end a block
        j = rng.choice(ends)
        first = j - rng.randint(0, 3)
        block = lines[max(first, 0) : j + 1]
        if first >= 0 and all(s.strip() and _indent(s) >= _indent(lines[j]) for s in block):
            found.append(("block", starts[first], starts[j + 1]))
    return found


STDLIB = Path(sysconfig.get_paths()["stdlib"])
FILES = ["textwrap.py", "json/decoder.py", "shlex.py", "dataclasses.py", "difflib.py", "imp.py"]


@pytest.mark.parametrize("name", FILES)
def test_replay_gives_back_the_original_text(name: str) -> None:
    text = (STDLIB / name).read_text(encoding="utf-8")
    rng = random.Random(name)
    wrong = []
    cases = _cases(text, rng, 40)
    for kind, c, e in cases:
        extra = rng.choice([0, 1, 2, 5, 40, 400])  # the answer cut N characters after e
        ghost = at(text[:c] + text[e:], c, text[c:][: e - c + extra])
        if ghost != Ghost(text[c:e]):
            wrong.append((kind, text[c:e], ghost))
    assert len(cases) > 50
    assert wrong == []
