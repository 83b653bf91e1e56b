"""Validation of raw JSON params at the LSP boundary, with sentences that say what is wrong."""

from __future__ import annotations

from typing import Any

from ...context.focus import Location
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


def locations(container: dict[str, Any], key: str = "definitions") -> tuple[Location, ...]:
    """An optional list of LSP Locations; a malformed entry is named in the error."""
    value = container.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInputError(f"{key} must be a list of Locations ({{uri, range}}).")
    return tuple(_location(item, f"{key}[{i}]") for i, item in enumerate(value))


def _location(value: Any, name: str) -> Location:
    if not isinstance(value, dict):
        raise InvalidInputError(f"{name} must be a Location object ({{uri, range}}).")
    uri = _field(value, "uri", name)
    if not isinstance(uri, str) or not uri:
        raise InvalidInputError(f"{name}.uri must be a non-empty string.")
    rng = _field(value, "range", name)
    if not isinstance(rng, dict):
        raise InvalidInputError(f"{name}.range must be an object with start and end.")
    start = _location_position(_field(rng, "start", f"{name}.range"), f"{name}.range.start")
    end = _location_position(_field(rng, "end", f"{name}.range"), f"{name}.range.end")
    if (end.line, end.character) < (start.line, start.character):
        raise InvalidInputError(f"{name}.range ends before it starts.")
    return Location(uri, Range(start, end))


def _location_position(value: Any, name: str) -> Position:
    if not isinstance(value, dict):
        raise InvalidInputError(f"{name} must be an object with line and character.")
    numbers = []
    for key in ("line", "character"):
        number = _field(value, key, name)
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise InvalidInputError(f"{name}.{key} must be a non-negative integer.")
        numbers.append(number)
    return Position(numbers[0], numbers[1])


def _field(container: dict[str, Any], key: str, name: str) -> Any:
    if container.get(key) is None:
        raise InvalidInputError(f"{name}.{key} is missing.")
    return container[key]
