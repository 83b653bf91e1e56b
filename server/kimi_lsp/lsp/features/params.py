"""Validation of raw JSON params at the LSP boundary, with sentences that say what is wrong."""

from __future__ import annotations

from typing import Any

from ...documents import Position, Range
from ...errors import InvalidInputError


def obj(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(f"Expected {name} to be an object.")
    return value


def string(container: dict[str, Any], key: str) -> str:
    value = container.get(key)
    if not isinstance(value, str):
        raise InvalidInputError(f"Expected {key} to be a string.")
    return value


def optional_string(container: dict[str, Any], key: str) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"Expected {key} to be a string when given.")
    return value


def integer(container: dict[str, Any], key: str) -> int:
    value = container.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"Expected {key} to be an integer.")
    return value


def position(value: Any, name: str = "position") -> Position:
    p = obj(value, name)
    line, character = integer(p, "line"), integer(p, "character")
    if line < 0 or character < 0:
        raise InvalidInputError(f"Expected {name} to have a non-negative line and character.")
    return Position(line, character)


def range_(value: Any, name: str = "range") -> Range:
    r = obj(value, name)
    return Range(position(r.get("start"), f"{name}.start"), position(r.get("end"), f"{name}.end"))


def optional_range(container: dict[str, Any], key: str = "range") -> Range | None:
    value = container.get(key)
    return None if value is None else range_(value, key)


def document_uri(container: dict[str, Any], key: str = "textDocument") -> str:
    return string(obj(container.get(key), key), "uri")


def optional_document_uri(container: dict[str, Any], key: str = "textDocument") -> str | None:
    return None if container.get(key) is None else document_uri(container, key)


def choice(container: dict[str, Any], key: str, options: tuple[str, ...], default: str) -> str:
    value = container.get(key, default)
    if value is None:
        return default
    if value not in options:
        raise InvalidInputError(
            f"Expected {key} to be one of " + ", ".join(f'"{o}"' for o in options) + "."
        )
    return str(value)
