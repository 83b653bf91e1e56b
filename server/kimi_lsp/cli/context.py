"""`kimi-lsp context FILE[:LINE]`: the manifest of what a request would send, offline, no key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TextIO

from ..context.standalone import file_focus, plan_for_focus
from ..errors import KimiError
from ..purpose import Purpose
from ..settings_store import SettingsStore
from ..tokens.counter import ONE_SHOT_THREADS, TokenCounter

_TARGET = re.compile(r"^(?P<path>.+?)(?::(?P<line>\d+))?$")


def parse_target(target: str) -> tuple[Path, int | None]:
    """`src/app.py:42` -> (path, 41): lines are 1-based on the command line."""
    match = _TARGET.match(target)
    assert match is not None
    path = Path(match["path"])
    if not path.exists() and match["line"] is None:
        return Path(target), None
    line = int(match["line"]) - 1 if match["line"] else None
    return path, max(0, line) if line is not None else None


def format_manifest(manifest: dict[str, Any], out: TextIO) -> None:
    exact = "exact" if manifest["exact"] else "approximate"
    purpose = manifest["purpose"]
    article = "an" if purpose[:1] in "aeiou" else "a"
    out.write(
        f"{manifest['totalTokens']} of {manifest['budget']} tokens for {article} {purpose} "
        f"request (tokenizer: {manifest['tokenizer']}, {exact})\n\n"
    )
    for section in manifest["sections"]:
        where = section.get("uri", "")
        if "range" in section:
            r = section["range"]
            where += f" lines {r['start']['line'] + 1}-{r['end']['line']}"
        cut = " [truncated]" if section["truncated"] else ""
        out.write(f"{section['tokens']:>8}  {section['kind']:<13} {where}{cut}\n")
        out.write(f"{'':>8}  {'':<13} {section['reason']}\n")
    if manifest["excluded"]:
        out.write("\nLeft out:\n")
        for item in manifest["excluded"]:
            out.write(f"  {item['uri']}: {item['reason']}\n")


def run_context_cli(
    target: str, purpose: Purpose, budget: int | None, as_json: bool, out: TextIO, err: TextIO
) -> int:
    path, line = parse_target(target)
    if not path.is_file():
        err.write(f"kimi-lsp: {path} is not a file.\n")
        return 1
    settings = SettingsStore().current.settings
    try:
        counter = TokenCounter(counting_threads=ONE_SHOT_THREADS)
        focus = file_focus(path, line)
        plan = plan_for_focus(focus, purpose, "(the instruction)", settings, counter, budget=budget)
    except OverflowError as exc:
        err.write(f"kimi-lsp: {exc}\n")
        return 1
    except KimiError as exc:  # e.g. an edit of a secret file, refused as the server does
        err.write(f"kimi-lsp: {exc.message}\n")
        return 1
    manifest = plan.manifest()
    if as_json:
        out.write(json.dumps(manifest, indent=2) + "\n")
    else:
        format_manifest(manifest, out)
    return 0
