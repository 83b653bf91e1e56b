"""Tool schemas in the strict JSON Schema subset the Kimi API accepts, and argument checking."""

from __future__ import annotations

import json
from typing import Any

READ_TOOLS = ("list_files", "read_file", "search")
EDIT_TOOLS = ("replace_in_file", "create_file")
FINISH = "finish"

# name -> (description, {param: (json type, required, description)})
_Param = tuple[str, bool, str]
SPECS: dict[str, tuple[str, dict[str, _Param]]] = {
    "list_files": (
        "List workspace files (paths relative to the workspace root), optionally filtered by a "
        "glob such as 'src/**/*.py' or '*.md' (a glob without '/' matches file names).",
        {
            "glob": ("string", False, "Glob filter; '**' spans directories, {a,b} alternatives."),
            "limit": ("integer", False, "At most this many paths (default 200)."),
        },
    ),
    "read_file": (
        "Read a workspace file as numbered lines ('   12| code'). Long files come in parts: "
        "pass start_line/end_line (1-based, inclusive) to read further.",
        {
            "path": ("string", True, "Path relative to the workspace root."),
            "start_line": ("integer", False, "First line to show (1-based)."),
            "end_line": ("integer", False, "Last line to show (inclusive)."),
        },
    ),
    "search": (
        "Search every workspace file for a literal string (or a Python regular expression when "
        "regex is true); answers 'path:line: text' lines.",
        {
            "pattern": ("string", True, "Text (or regex) to find; matched line by line."),
            "regex": ("boolean", False, "Treat pattern as a regular expression."),
            "glob": ("string", False, "Only files matching this glob."),
            "limit": ("integer", False, "At most this many matching lines (default 100)."),
        },
    ),
    "replace_in_file": (
        "Replace text in a file you have read: 'old' must match the file exactly (whitespace "
        "included) and occur once, unless replace_all is true. Edits are previewed, not saved.",
        {
            "path": ("string", True, "Path relative to the workspace root."),
            "old": ("string", True, "Exact text to replace (include enough context)."),
            "new": ("string", True, "Replacement text."),
            "replace_all": ("boolean", False, "Replace every occurrence."),
        },
    ),
    "create_file": (
        "Create a new file (it must not exist).",
        {
            "path": ("string", True, "Path relative to the workspace root."),
            "content": ("string", True, "The whole text of the file."),
        },
    ),
    FINISH: (
        "Declare your task complete, with a short summary of what you changed. Call it in the "
        "same turn as your last edits to save a round trip; it is ignored if an edit fails.",
        {"summary": ("string", True, "What you changed, in one or two sentences.")},
    ),
}


def schema(name: str) -> dict[str, Any]:
    """The OpenAI `tools` entry of one tool."""
    description, params = SPECS[name]
    properties = {
        key: {"type": kind, "description": text} for key, (kind, _, text) in params.items()
    }
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": [key for key, (_, required, _) in params.items() if required],
                "additionalProperties": False,
            },
        },
    }


def schemas(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [schema(name) for name in names]


class BadArguments(Exception):
    """The model's arguments do not fit the schema; `str()` goes back to the model."""


def parse_arguments(name: str, arguments_json: str) -> dict[str, Any]:
    """The arguments as a checked dict (numbers and booleans given as strings are accepted)."""
    text = (arguments_json or "").strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadArguments(
            f"the arguments of {name} are not valid JSON ({exc.msg} at position {exc.pos}); "
            "send one JSON object"
        ) from None
    if not isinstance(value, dict):
        raise BadArguments(f"the arguments of {name} must be a JSON object")
    params = SPECS[name][1]
    out: dict[str, Any] = {}
    for key, (kind, required, _) in params.items():
        if key not in value or value[key] is None:
            if required:
                raise BadArguments(f"{name} needs the argument '{key}' ({kind})")
            continue
        out[key] = _coerce(name, key, kind, value[key])
    unknown = sorted(set(value) - set(params))
    if unknown:
        raise BadArguments(
            f"{name} has no argument {', '.join(repr(k) for k in unknown)}; "
            f"its arguments are {', '.join(params)}"
        )
    return out


def _coerce(name: str, key: str, kind: str, value: Any) -> Any:
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    raise BadArguments(f"{name}: '{key}' must be a {kind}")
