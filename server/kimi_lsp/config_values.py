"""Validators for single setting values: each returns the value or raises `Invalid`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal
from urllib.parse import urlparse

WHOLE_WINDOW: Literal["window"] = "window"  # a budget value: the whole window budget
Budget = int | Literal["window"]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


@dataclass(frozen=True, slots=True)
class Pricing:
    """Prices per million tokens; settings, never constants (relays charge differently)."""

    input_per_million: float = 0.95
    cached_input_per_million: float = 0.16
    output_per_million: float = 4.0
    currency: str = "USD"


class Invalid(ValueError):
    """A setting's value was rejected; the message names what is expected."""


def camel(name: str) -> str:
    """The wire key of a snake_case field name."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("expected a non-empty string")
    return value.strip()


def optional_string(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return string(value)


def url(value: Any) -> str:
    text = string(value).rstrip("/")
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Invalid("expected an http(s) URL such as https://api.moonshot.ai/v1")
    return text


def env_name(value: Any) -> str:
    """The name of an environment variable (never its value: a key pasted here is refused)."""
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise Invalid("expected the name of an environment variable, such as OPENROUTER_API_KEY")
    return value


def choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise Invalid("expected one of " + ", ".join(f'"{o}"' for o in options))
        return str(value)

    return check


def integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise Invalid(f"expected a whole number between {low} and {high}")
        if not low <= int(value) <= high:
            raise Invalid(f"expected a whole number between {low} and {high}")
        return int(value)

    return check


def number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"expected a number between {low:g} and {high:g}")
        if not low <= float(value) <= high:
            raise Invalid(f"expected a number between {low:g} and {high:g}")
        return float(value)

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("expected true or false")
    return value


def globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise Invalid('expected a list of gitignore-style globs, e.g. ["dist/", "*.min.js"]')
    return tuple(v for v in value if v.strip())


def pricing_over(base: Pricing) -> Callable[[Any], Pricing]:
    """A pricing object, its missing keys taken from `base`."""

    def check(value: Any) -> Pricing:
        if not isinstance(value, Mapping):
            raise Invalid('expected an object like {"inputPerMillion": 0.95, ...}')
        known = {camel(f.name): f.name for f in fields(Pricing)}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise Invalid("unknown keys " + ", ".join(unknown) + "; known: " + ", ".join(known))
        updates: dict[str, Any] = {}
        for wire, attr in known.items():
            if wire not in value:
                continue
            if attr == "currency":
                updates[attr] = string(value[wire])
            else:
                updates[attr] = number(0, 1_000_000)(value[wire])
        return replace(base, **updates)

    return check


def budget(value: Any) -> Budget:
    if value == WHOLE_WINDOW:
        return WHOLE_WINDOW
    try:
        return integer(1_000, 10_000_000)(value)
    except Invalid:
        raise Invalid(
            f'expected a whole number of tokens between 1000 and 10000000, or "{WHOLE_WINDOW}"'
        ) from None
