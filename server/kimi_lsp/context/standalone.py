"""Context planning without an editor (the CLI): the workspace is the enclosing git root."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..purpose import Purpose
from ..secrets.redact import Redactor
from ..tokens.counter import TokenCounter
from .builder import ContextRequest, OpenDocument, budget_for
from .engine import ContextEngine
from .languages import language_of
from .plan import ContextPlan
from .prompt import SYSTEM_PROMPTS


def workspace_root(start: Path) -> Path:
    """The nearest directory holding `.git`, else `start` itself (a file's directory)."""
    start = start.resolve()
    base = start if start.is_dir() else start.parent
    for candidate in (base, *base.parents):
        if (candidate / ".git").exists():
            return candidate
    return base


def plan_for_file(
    path: Path | None,
    line: int | None,
    purpose: Purpose,
    instruction: str,
    settings: Settings,
    counter: TokenCounter,
    *,
    budget: int | None = None,
    reserved_tokens: int = 0,
    deep: bool = True,
    selection: tuple[int, int] | None = None,
) -> ContextPlan:
    """Index the workspace around `path` and plan a request focused on it (blocking)."""
    counter.load()
    root = workspace_root(path if path is not None else Path.cwd())
    engine = ContextEngine(counter)
    engine.configure([root], settings.exclude, settings.max_file_size_bytes)
    engine.build_index()
    if deep:
        engine.build_deep()
    current = None
    secret = None
    if path is not None:
        text = path.read_text(encoding="utf-8", errors="replace")
        uri = path.resolve().as_uri()
        rel = engine.rel(path.resolve())
        current = OpenDocument(uri, rel, text, language_of(rel or path.name))
        secret = engine.secret_reason(uri)
    request = ContextRequest(
        purpose=purpose,
        instruction=instruction,
        system_prompt=SYSTEM_PROMPTS[purpose],
        current=current,
        selection=selection,
        cursor_line=line,
        reserved_tokens=reserved_tokens,
        secret_reason=secret,
    )
    if budget is None:
        budget = budget_for(settings.context_window, settings.max_output_tokens)
    redactor = Redactor(settings.api_key, settings.redact_secrets)
    return engine.plan(request, budget, redactor, {})
