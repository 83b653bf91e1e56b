"""Packing: priority order, truncation of the lowest priorities, budget never exceeded."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_lsp.context.builder import ContextRequest, OpenDocument, build_plan
from kimi_lsp.context.plan import ContextPlan
from kimi_lsp.context.prompt import SYSTEM_PROMPTS, render
from kimi_lsp.context.repomap import RepoMap
from kimi_lsp.context.rules import RuleFile
from kimi_lsp.context.slices import Slice
from kimi_lsp.tokens.counter import TokenCounter

COUNTER = TokenCounter()
COUNTER.load()


class FakeSources:
    def __init__(
        self,
        files: dict[str, str],
        imports: dict[str, list[str]] | None = None,
        definitions: list[Slice] | None = None,
        rules: list[RuleFile] | None = None,
    ) -> None:
        self.files = files
        self._imports = imports or {}
        self._definitions = definitions or []
        self._rules = rules or []

    def text(self, rel: str) -> str | None:
        return self.files.get(rel)

    def uri(self, rel: str) -> str:
        return f"file:///ws/{rel}"

    def language(self, rel: str) -> str:
        return "python"

    def imports(self, rel: str, text: str, language: str) -> list[str]:
        return self._imports.get(rel, [])

    def importers(self, rel: str) -> list[str]:
        return sorted(k for k, v in self._imports.items() if rel in v)

    def related(self, query: str, limit: int, exclude: set[str]) -> list[tuple[str, float]]:
        words = set(query.split())
        hits = [(r, float(len(words & set(t.split())))) for r, t in self.files.items()]
        return sorted((h for h in hits if h[1] and h[0] not in exclude), key=lambda h: -h[1])[
            :limit
        ]

    def nearby(self, rel: str | None) -> list[str]:
        return sorted(self.files)

    def outline(self, rel: str, text: str, language: str) -> str:
        return "\n".join(line for line in text.splitlines() if line.startswith("def "))

    def repo_map(self, max_chars: int, request: ContextRequest) -> RepoMap:
        return RepoMap("\n".join(sorted(self.files))[:max_chars], "layout of the workspace")

    def excluded(self) -> list[tuple[str, str]]:
        return [("file:///ws/.env", "secret file (.env)")]

    def definitions(self, request: ContextRequest) -> list[Slice]:
        return list(self._definitions)

    def rules(self, request: ContextRequest) -> list[RuleFile]:
        return list(self._rules)


def no_redaction(text: str) -> tuple[str, int]:
    return text, 0


def python_file(name: str, lines: int) -> str:
    return "".join(f"def {name}_{i}(x):\n    return x + {i}\n" for i in range(lines))


def request(
    current_text: str, selection: tuple[int, int] | None = None, **kw: object
) -> ContextRequest:
    return ContextRequest(
        purpose="chat",
        instruction="Explain this.",
        system_prompt=SYSTEM_PROMPTS["chat"],
        current=OpenDocument("file:///ws/main.py", "main.py", current_text, "python"),
        selection=selection,
        **kw,  # type: ignore[arg-type]
    )


def total_sent(plan: ContextPlan) -> int:
    messages = render(plan, SYSTEM_PROMPTS["chat"], "Explain this.")
    return COUNTER.count_messages(messages)


def test_everything_fits_and_manifest_matches_what_is_sent() -> None:
    sources = FakeSources({"util.py": python_file("util", 5), "other.py": python_file("o", 3)},
                          {"main.py": ["util.py"]})  # fmt: skip
    text = python_file("main", 10)
    plan = build_plan(request(text, (0, 40)), sources, COUNTER, no_redaction, 100_000)
    kinds = [s["kind"] for s in plan.manifest()["sections"]]
    assert kinds[0] == "repo_map" and "import" in kinds and kinds[-1] == "selection"
    assert "current_file" in kinds
    assert plan.manifest()["excluded"] == [
        {"uri": "file:///ws/.env", "reason": "secret file (.env)"}
    ]
    assert total_sent(plan) <= plan.total_tokens <= plan.budget
    body = render(plan, SYSTEM_PROMPTS["chat"], "Explain this.")
    assert "def util_4" in body[0]["content"]  # supporting files in the stable system message
    assert "def main_9" in body[-1]["content"]  # the current file last


def test_low_priorities_go_first_when_the_budget_is_small() -> None:
    sources = FakeSources({f"f{i}.py": python_file(f"f{i}", 50) for i in range(5)},
                          {"main.py": ["f0.py"]})  # fmt: skip
    text = python_file("main", 30)
    plan = build_plan(request(text, (0, 30)), sources, COUNTER, no_redaction, 2_500)
    kinds = [s.kind for s in plan.sections]
    assert kinds[:2] == ["selection", "current_file"]
    assert "import" in kinds  # imports outrank nearby files
    assert plan.total_tokens <= 2_500 and total_sent(plan) <= 2_500
    assert any(s.truncated for s in plan.sections) or "nearby" not in kinds


def test_big_current_file_gets_a_window_and_an_outline() -> None:
    text = python_file("big", 3_000)
    offset = text.index("def big_2000")
    plan = build_plan(
        request(text, (offset, offset + 10)), FakeSources({}), COUNTER, no_redaction, 8_000
    )
    window = next(s for s in plan.sections if s.kind == "file_window")
    assert window.lines is not None and window.lines[0] <= 4_000 <= window.lines[1]
    assert any(s.kind == "outline" for s in plan.sections)
    assert total_sent(plan) <= 8_000


def test_selection_too_big_is_an_overflow_error() -> None:
    text = python_file("big", 2_000)
    try:
        build_plan(request(text, (0, len(text))), FakeSources({}), COUNTER, no_redaction, 1_000)
    except OverflowError as exc:
        assert "select less code" in str(exc)
    else:
        raise AssertionError("expected OverflowError")


def test_deterministic() -> None:
    sources = FakeSources({f"f{i}.py": python_file(f"f{i}", 20) for i in range(8)})
    text = python_file("main", 10)
    a = build_plan(request(text, (0, 20)), sources, COUNTER, no_redaction, 5_000)
    b = build_plan(request(text, (0, 20)), sources, COUNTER, no_redaction, 5_000)
    assert render(a, "s", "i") == render(b, "s", "i") and a.manifest() == b.manifest()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=400), min_size=0, max_size=8),
    current=st.integers(min_value=0, max_value=600),
    budget=st.integers(min_value=400, max_value=30_000),
    selection=st.integers(min_value=0, max_value=200),
)
def test_budget_is_never_exceeded(
    sizes: list[int], current: int, budget: int, selection: int
) -> None:
    files = {f"pkg/m{i}.py": python_file(f"m{i}", n) for i, n in enumerate(sizes)}
    imports = {"main.py": sorted(files)[:2]}
    text = python_file("main", current)
    end = min(len(text), selection)
    try:
        plan = build_plan(
            request(text, (0, end)), FakeSources(files, imports), COUNTER, no_redaction, budget
        )
    except OverflowError:
        return
    assert plan.total_tokens <= budget
    assert total_sent(plan) <= budget


def _slice(rel: str, lines: tuple[int, int], reason: str, rank: float = 0.0, **kw: str) -> Slice:
    text = "".join(f"line {i}\n" for i in range(*lines))
    return Slice(f"file:///ws/{rel}", rel, text, "python", lines, reason, rank, **kw)


def test_definition_slices_come_with_their_reasons_editor_ones_first_no_overlaps() -> None:
    ours = [
        _slice("b.py", (10, 20), "defines `B`, used at line 3", rank=2.0),
        _slice("a.py", (0, 5), "defines `A`, used at line 1", rank=1.0),
        _slice("c.py", (4, 8), "defines `C`, used at line 2", rank=3.0),  # inside the editor's
    ]
    editor = _slice("c.py", (0, 30), "the editor's definition of `C`", origin="editor")
    plan = build_plan(
        request("x = A(B(C()))\n", definitions=(editor,)),
        FakeSources({}, definitions=ours),
        COUNTER,
        no_redaction,
        budget=20_000,
    )
    chosen = [(s.uri, s.lines, s.reason) for s in plan.sections if s.kind == "definition"]
    assert chosen == [
        ("file:///ws/c.py", (0, 30), "the editor's definition of `C`"),
        ("file:///ws/a.py", (0, 5), "defines `A`, used at line 1"),
        ("file:///ws/b.py", (10, 20), "defines `B`, used at line 3"),
    ]
    sent = [m for m in plan.manifest()["sections"] if m["kind"] == "definition"]
    assert [(m["uri"], m["range"]["start"]["line"], m["reason"]) for m in sent] == [
        ("file:///ws/a.py", 0, "defines `A`, used at line 1"),
        ("file:///ws/b.py", 10, "defines `B`, used at line 3"),
        ("file:///ws/c.py", 0, "the editor's definition of `C`"),
    ]  # in the stable part, by file: the prompt's prefix does not move with the ranking


def test_a_secret_current_file_gets_no_definitions() -> None:
    ours = [_slice("a.py", (0, 5), "defines `A`, used at line 1")]
    plan = build_plan(
        request("API_KEY = A()\n", secret_reason="secret file (.env)"),
        FakeSources({}, definitions=ours),
        COUNTER,
        no_redaction,
        budget=20_000,
    )
    assert [s for s in plan.sections if s.kind == "definition"] == []
