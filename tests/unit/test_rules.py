"""Project rules: AGENTS.md files and .kimi/rules.md in the stable part of every prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.context.builder import ContextRequest, OpenDocument
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.context.plan import ContextPlan, Section
from kimi_lsp.context.prompt import SYSTEM_PROMPTS, render
from kimi_lsp.context.rules import MAX_RULES_TOKENS, RuleFile, add_rules, rule_paths, rules_cap
from kimi_lsp.secrets.redact import Redactor
from kimi_lsp.tokens.counter import TokenCounter

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    cache = tmp_path_factory.mktemp("rules-tokens")
    env = {"XDG_CACHE_HOME": str(cache), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}
    loaded = TokenCounter(env=env, counting_threads=0)
    loaded.load()
    return loaded


def workspace(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(parents=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def plan_for(
    counter: TokenCounter,
    root: Path,
    rel: str | None,
    budget: int = 16_000,
    open_documents: dict[str, OpenDocument] | None = None,
) -> ContextPlan:
    engine = ContextEngine(counter)
    engine.configure([root], [], 1_000_000)
    engine.build_index()
    current = None
    if rel is not None:
        path = root / rel
        current = OpenDocument(path.as_uri(), rel, path.read_text(encoding="utf-8"), "python")
    request = ContextRequest(
        purpose="edit",
        instruction="Add type hints.",
        system_prompt=SYSTEM_PROMPTS["edit"],
        current=current,
    )
    return engine.plan(request, budget, Redactor(None, True), open_documents or {})


def rules_of(plan: ContextPlan) -> list[tuple[str, str]]:
    """(path under the workspace, reason) of the rules sections, in prompt order."""
    out = []
    for section in plan.manifest()["sections"]:
        if section["kind"] == "rules":
            out.append((section["uri"].split("/ws/", 1)[1], section["reason"]))
    return out


LAYOUT = {
    "AGENTS.md": "# Rules\nUse tabs.\n",
    ".kimi/rules.md": "Answer in French.\n",
    "pkg/AGENTS.md": "Package rules: no globals.\n",
    "pkg/sub/AGENTS.md": "Sub rules: pure functions.\n",
    "pkg/sub/mod.py": "def f(x):\n    return x\n",
    "other/AGENTS.md": "Not on the way to pkg/sub.\n",
    "top.py": "X = 1\n",
}


def test_rule_paths_kimis_own_then_the_nearest_agents_md_up_to_the_root() -> None:
    assert rule_paths("") == [".kimi/rules.md", "AGENTS.md"]
    assert rule_paths("pkg/sub") == [
        ".kimi/rules.md",
        "pkg/sub/AGENTS.md",
        "pkg/AGENTS.md",
        "AGENTS.md",
    ]


def test_root_and_nested_rules_come_first_in_the_stable_part(
    counter: TokenCounter, tmp_path: Path
) -> None:
    root = workspace(tmp_path / "ws", LAYOUT)
    plan = plan_for(counter, root, "pkg/sub/mod.py")
    assert rules_of(plan) == [
        (".kimi/rules.md", "project rules from .kimi/rules.md"),
        ("AGENTS.md", "project rules from AGENTS.md"),
        ("pkg/AGENTS.md", "project rules from pkg/AGENTS.md"),
        ("pkg/sub/AGENTS.md", "project rules from pkg/sub/AGENTS.md"),
    ]  # not other/AGENTS.md: it is not on the way to the file
    kinds = [s["kind"] for s in plan.manifest()["sections"]]
    assert kinds[:4] == ["rules"] * 4  # first: the prefix the API caches starts with them
    system = render(plan, SYSTEM_PROMPTS["edit"], "Add type hints.")[0]["content"]
    assert "Use tabs." in system and "Sub rules: pure functions." in system
    assert "Not on the way" not in system
    assert all(s.tokens > 0 for s in plan.sections if s.kind == "rules")


def test_without_a_file_the_roots_own_rules_apply(counter: TokenCounter, tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", LAYOUT)
    plan = plan_for(counter, root, None)
    assert [rel for rel, _ in rules_of(plan)] == [".kimi/rules.md", "AGENTS.md"]


def test_an_ignored_rule_file_is_not_read(counter: TokenCounter, tmp_path: Path) -> None:
    files = {**LAYOUT, ".gitignore": "pkg/sub/AGENTS.md\n", ".kimiignore": ".kimi/\n"}
    root = workspace(tmp_path / "ws", files)
    plan = plan_for(counter, root, "pkg/sub/mod.py")
    assert [rel for rel, _ in rules_of(plan)] == ["AGENTS.md", "pkg/AGENTS.md"]
    system = render(plan, SYSTEM_PROMPTS["edit"], "x")[0]["content"]
    assert "Sub rules" not in system and "Answer in French" not in system


def test_rules_are_redacted_like_everything_else(counter: TokenCounter, tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {**LAYOUT, "AGENTS.md": f"Deploy with {GITHUB_TOKEN}\n"})
    plan = plan_for(counter, root, "top.py")
    rules = [
        s for s in plan.sections if s.kind == "rules" and s.uri and s.uri.endswith("/AGENTS.md")
    ]
    assert rules and rules[0].redactions == 1
    assert GITHUB_TOKEN not in str(render(plan, SYSTEM_PROMPTS["edit"], "x"))


def test_the_editors_unsaved_rules_are_the_ones_sent(counter: TokenCounter, tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", LAYOUT)
    edited = OpenDocument((root / "AGENTS.md").as_uri(), "AGENTS.md", "Use spaces.\n", "markdown")
    plan = plan_for(counter, root, "top.py", open_documents={"AGENTS.md": edited})
    system = render(plan, SYSTEM_PROMPTS["edit"], "x")[0]["content"]
    assert "Use spaces." in system and "Use tabs." not in system


def test_rules_are_capped_and_truncated_with_a_note(counter: TokenCounter, tmp_path: Path) -> None:
    long_rules = "".join(f"Rule {i}: keep every function short and named. \n" for i in range(900))
    root = workspace(tmp_path / "ws", {**LAYOUT, "AGENTS.md": long_rules})
    plan = plan_for(counter, root, "pkg/sub/mod.py")
    rules = [s for s in plan.sections if s.kind == "rules"]
    assert sum(s.tokens for s in rules) <= MAX_RULES_TOKENS
    assert len(rules) == 4  # the nearer files are packed first, whole
    root_rules = next(s for s in rules if s.uri and s.uri.endswith("/ws/AGENTS.md"))
    assert root_rules.truncated and "(first " in root_rules.text.splitlines()[0]
    assert [s["truncated"] for s in plan.manifest()["sections"] if s["kind"] == "rules"] == [
        False,
        False,
        False,
        True,  # a truncated section goes last in the stable part, as any kind's
    ]
    assert plan.total_tokens <= plan.budget


class CapPacker:
    """Takes `tokens` of every block it is offered, within its cap."""

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens
        self.skipped: list[tuple[str, str]] = []
        self.caps: list[int | None] = []

    def add(self, kind: str, title: str, body: str, reason: str, **kw: Any) -> Section | None:
        cap = kw["cap"]
        self.caps.append(cap)
        return Section(kind, body, min(self.tokens, cap), reason, kw["uri"], kw["lines"])


def test_once_the_cap_is_spent_the_rest_are_left_out_with_the_reason() -> None:
    files = [RuleFile(f"{d}AGENTS.md", f"file:///ws/{d}AGENTS.md", "x\n") for d in ("a/", "", "b/")]
    packer = CapPacker(1_500)
    add_rules(
        packer, [RuleFile(".kimi/rules.md", "file:///ws/.kimi/rules.md", "  \n"), *files], 16_000
    )
    assert packer.caps == [2_000, 500]  # the blank file takes nothing; the third gets no room
    assert packer.skipped == [
        ("file:///ws/b/AGENTS.md", "rules: over the 2,000-token cap for project rules")
    ]
    assert rules_cap(4_000) == 500 and rules_cap(1_000_000) == MAX_RULES_TOKENS


def test_a_small_budget_gives_the_rules_an_eighth_of_it(
    counter: TokenCounter, tmp_path: Path
) -> None:
    long_rules = "".join(f"Rule {i}: keep every function short and named. \n" for i in range(900))
    root = workspace(tmp_path / "ws", {**LAYOUT, "AGENTS.md": long_rules})
    plan = plan_for(counter, root, "top.py", budget=4_000)  # the prediction budget
    assert 0 < sum(s.tokens for s in plan.sections if s.kind == "rules") <= 500
