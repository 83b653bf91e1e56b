"""Mutants of module-level data tables (mutmut 3 mutates only code inside functions).

`secrets/patterns.py` is nothing but tables: the regular expressions that find secrets and the
scans that locate them. A narrowed pattern leaks a secret (issue 19: `A[KS]IA` cut to `AKIA`
let temporary AWS keys through), so its bytes literals are mutated here with the operators that
narrow a pattern, each mutant run against the module's tests:

- a character class of plain letters/digits loses one member (`A[KS]IA` -> `A[S]IA`);
- a repeat's lower bound grows by one (`{16}` -> `{17}`, `{20,250}` -> `{21,250}`);
- an alternation of plain words loses one word (`(?:live|test)` -> `(?:test)`), also at the
  top level of a literal (`KIA...|SIA...`);
- a `True`/`False` flag in a table row is flipped (the "match on the lowercased text" flag).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_LITERAL = re.compile(r"""\b(rb|br|b)(")((?:[^"\\\n]|\\.)*)"|\b(rb|br|b)(')((?:[^'\\\n]|\\.)*)'""")
_CLASS = re.compile(r"\[([A-Za-z0-9]{2,})\]")
_BOUND = re.compile(r"\{(\d+)(,\d*)?\}")
_WORDS = re.compile(r"\(\?:([A-Za-z]+(?:\|[A-Za-z]+)+)\)")
_FLAG = re.compile(r"(?<=[(,] )(True|False)(?=,)|(?<=^        )(True|False)(?=,$)", re.M)


@dataclass(frozen=True)
class DataMutant:
    """One edit of the source: replace `source[start:end]` with `text`."""

    name: str
    start: int
    end: int
    text: str
    line: int

    def apply(self, source: str) -> str:
        return source[: self.start] + self.text + source[self.end :]


def _in_literals(source: str) -> Iterator[tuple[int, str]]:
    """(offset of the body, body) of every bytes literal outside comments."""
    for match in _LITERAL.finditer(source):
        line_start = source.rfind("\n", 0, match.start()) + 1
        if "#" in source[line_start : match.start()]:
            continue
        group = 3 if match.group(3) is not None else 6
        yield match.start(group), match.group(group)


def mutants(source: str) -> list[DataMutant]:
    """Every mutant of `source`'s data, in source order."""
    found: list[DataMutant] = []

    def add(kind: str, start: int, end: int, text: str) -> None:
        line = source.count("\n", 0, start) + 1
        column = start - source.rfind("\n", 0, start)
        name = f"data:{kind}@{line}:{column}:{source[start:end]}->{text}"
        found.append(DataMutant(name, start, end, text, line))

    for at, body in _in_literals(source):
        for m in _CLASS.finditer(body):
            members = m.group(1)
            for i in range(len(members)):
                add("class", at + m.start(1), at + m.end(1), members[:i] + members[i + 1 :])
        for m in _BOUND.finditer(body):
            add("bound", at + m.start(1), at + m.end(1), str(int(m.group(1)) + 1))
        for m in _WORDS.finditer(body):
            words = m.group(1).split("|")
            for i in range(len(words)):
                add("word", at + m.start(1), at + m.end(1), "|".join(words[:i] + words[i + 1 :]))
        if "|" in body and "(" not in body and all(body.split("|")):
            parts = body.split("|")
            for i in range(len(parts)):
                add("alt", at, at + len(body), "|".join(parts[:i] + parts[i + 1 :]))
    for m in _FLAG.finditer(source):
        word = m.group(0)
        add("flag", m.start(), m.end(), "False" if word == "True" else "True")
    return found


def run(work: Path, module: str, tests: list[str]) -> dict[str, int]:
    """Run every data mutant of `module` (under work/src/kimi_lsp) against `tests`: exit codes
    by mutant name (0: survived). The module's file is restored afterwards."""
    path = work / "src" / "kimi_lsp" / module
    original = path.read_text(encoding="utf-8")
    results: dict[str, int] = {}
    try:
        for mutant in mutants(original):
            path.write_text(mutant.apply(original), encoding="utf-8")
            results[mutant.name] = pytest_in(work, tests)
    finally:
        path.write_text(original, encoding="utf-8")
    return results


def pytest_in(work: Path, tests: list[str]) -> int:
    """pytest's exit code for `tests` in a fresh process importing work/src's kimi_lsp."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"PYTHONPATH": f"{work / 'src'}:{work}", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=work,
        env=env,
        capture_output=True,
        check=False,
    )
    return done.returncode
