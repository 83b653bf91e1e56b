"""Moonshot's checks of `tools`: how many, their names, and the "moonshot flavored" JSON Schema
subset their parameters must keep to (the API's own error texts)."""

from __future__ import annotations

import re
from typing import Any

MAX_TOOLS = 128
TOOL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9-_]{2,63}")
UNSUPPORTED = ("format", "title")
"""Keywords the project's notes list as refused (the API's exact text is unknown)."""
REF_PREFIX = "#/$defs/"


class ToolError(ValueError):
    """A tool definition the API refuses (400 `invalid_request_error` with this text)."""


def check_tools(tools: Any) -> list[Any] | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise ToolError("Invalid request: tools must be an array")
    if len(tools) > MAX_TOOLS:
        raise ToolError(
            f"Invalid request: too many tools: {len(tools)}, at most {MAX_TOOLS} are allowed"
        )
    names: set[str] = set()
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(tool, dict)
            or tool.get("type") != "function"
            or not isinstance(function, dict)
        ):
            raise ToolError(
                f'Invalid request: tools[{i}] must be {{"type": "function", "function": {{...}}}}'
            )
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise ToolError(
                f"Invalid request: tools[{i}].function.name {name!r} is invalid, "
                f"it must match ^[a-zA-Z_][a-zA-Z0-9-_]{{2,63}}$"
            )
        if name in names:
            raise ToolError(f"Invalid request: duplicate tool name {name!r}")
        names.add(name)
        parameters = function.get("parameters")
        if parameters is not None:
            check_parameters(parameters)
    return tools


def _flavor(path: str, detail: str) -> ToolError:
    return ToolError(
        "Invalid request: tools.function.parameters is not a valid moonshot flavored json "
        f"schema, details: <At path '{path}': {detail}>"
    )


def check_parameters(schema: Any) -> None:
    """A tool's `parameters`: an object schema at the root, then the subset below."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ToolError(
            'Invalid request: tools.function.parameters.type is required and must be "object"'
        )
    _check_schema(schema, "root")


def _join(path: str, key: str) -> str:
    return key if path == "root" else f"{path}.{key}"


def _check_schema(schema: Any, path: str) -> None:
    if not isinstance(schema, dict):
        raise _flavor(path, "a schema must be an object")
    for keyword in UNSUPPORTED:
        if keyword in schema:
            raise _flavor(path, f"'{keyword}' is not supported")
    ref = schema.get("$ref")
    if ref is not None and (not isinstance(ref, str) or not ref.startswith(REF_PREFIX)):
        raise _flavor(_join(path, "$ref"), f"references must start with {REF_PREFIX}")
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema and "type" in schema:
            raise _flavor(
                path,
                f"when using {combinator}, type should be defined in {combinator} items "
                "instead of the parent schema",
            )
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, sub in properties.items():
            where = _join(path, f"properties.{key}")
            if isinstance(sub, dict) and not any(k in sub for k in ("type", "anyOf", "$ref")):
                raise _flavor(where, "type is not defined")
            _check_schema(sub, where)
    if isinstance(schema.get("items"), dict):
        _check_schema(schema["items"], _join(path, "items"))
    for key in ("anyOf", "oneOf", "allOf"):
        for j, sub in enumerate(schema.get(key) or []):
            _check_schema(sub, _join(path, f"{key}[{j}]"))
    for key in ("$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            _check_schema(sub, _join(path, f"{key}.{name}"))
