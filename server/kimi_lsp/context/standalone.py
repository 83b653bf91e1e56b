"""Context planning without an editor (the CLI): the workspace is the enclosing git root."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..config import Settings
from ..documents import Position, TextDocument
from ..purpose import Purpose
from ..secrets.redact import Redactor
from ..tokens.counter import TokenCounter
from ..tokens.download import cache_root
from .builder import OpenDocument
from .engine import ContextEngine, uri_to_path
from .focus import Focus, request_for_focus
from .languages import language_of
from .plan import ContextPlan
from .workspace import WorkspaceIndex


def workspace_root(start: Path, exclude: Sequence[str] = ()) -> Path:
    """The nearest directory holding `.git`, else `start` itself (a file's directory).

    A file that repository ignores (the standard library inside pyenv's clone, a vendored
    package) is no part of it: its own source root is taken instead (`source_root`)."""
    start = start.resolve()
    base = start if start.is_dir() else start.parent
    for candidate in (base, *base.parents):
        if (candidate / ".git").exists():
            if start.is_file() and _ignored(candidate, start, exclude):
                return source_root(start)
            return candidate
    return base


def source_root(path: Path) -> Path:
    """Where a file's imports start from: the directory above its outermost Python package
    (`lib/python3.11` for `lib/python3.11/asyncio/tasks.py`), else its own directory."""
    root = path.parent
    if path.suffix in (".py", ".pyi"):
        while (root / "__init__.py").is_file() and root.parent != root:
            root = root.parent
    return root


def _ignored(root: Path, path: Path, exclude: Sequence[str]) -> bool:
    """Whether the repository at `root` ignores `path` (its .gitignore files, info/exclude,
    .kimiignore); secret, binary and large files are refused as usual, not re-rooted."""
    reason = WorkspaceIndex([root], exclude=exclude).check(path)
    return reason is not None and reason.startswith("ignored by ")


def plan_for_focus(
    focus: Focus,
    purpose: Purpose,
    instruction: str,
    settings: Settings,
    counter: TokenCounter,
    *,
    budget: int | None = None,
    reserved_tokens: int = 0,
    deep: bool = True,
) -> ContextPlan:
    """Index the workspace around the focused file (a file: URI, read from disk) and plan a
    request of `purpose` focused on it (blocking), within `budget` tokens (default: the
    purpose's `contextBudget`)."""
    counter.load()
    path = uri_to_path(focus.uri) if focus.uri is not None else None
    root = workspace_root(path if path is not None else Path.cwd(), settings.exclude)
    # the server's on-disk index of this workspace: a second run reads only what changed
    engine = ContextEngine(counter, cache_root(counter.env) / "index")
    engine.configure([root], settings.exclude, settings.max_file_size_bytes)
    engine.maps.fresh_bytes = None  # one request: its map outlines all it shows (no warming)
    engine.build_index()
    if deep:
        # the import graph now; the search terms only if the plan gets as far as asking for
        # related files (a whole workspace's terms cost more than its imports; kept for later)
        engine.search_on_demand = True
        engine.build_deep(search=False)
    current = None
    positions = None
    secret = None
    if focus.uri is not None and path is not None:
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = engine.rel(path.resolve())
        current = OpenDocument(focus.uri, rel, text, language_of(rel or path.name))
        positions = TextDocument(focus.uri, current.language, 0, text)
        secret = engine.secret_reason(focus.uri)
    request = request_for_focus(
        purpose,
        focus,
        instruction,
        current,
        positions=positions,
        secret_reason=secret,
        reserved_tokens=reserved_tokens,
    )
    if budget is None:
        budget = settings.context_budget_for(purpose)
    redactor = Redactor(settings.api_key, settings.redact_secrets, settings.api_keys())
    return engine.plan(request, budget, redactor, {})


def file_focus(path: Path | None, line: int | None = None) -> Focus:
    """A focus on `path` (None: no file) with the cursor on `line` (0-based), if given."""
    if path is None:
        return Focus()
    position = Position(line, 0) if line is not None else None
    return Focus(uri=path.resolve().as_uri(), position=position)
