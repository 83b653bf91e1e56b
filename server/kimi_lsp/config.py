"""Typed settings: protocol.md's `kimi` section, layered over env vars, a user file and defaults."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from .limited_read import read_limited

Thinking = Literal["auto", "enabled", "disabled"]
PrefixMode = Literal["partial", "prefix", "none"]
# What a context budget is chosen for: the request purposes, and edit prediction.
BudgetPurpose = Literal["chat", "edit", "refactor", "prediction"]
WHOLE_WINDOW: Literal["window"] = "window"  # a budget value: the whole window budget
Budget = int | Literal["window"]

DEFAULT_BASE_URL = "https://api.moonshot.ai/v1"
DEFAULT_MODEL = "kimi-k2.6"
API_KEY_ENV_VARS = ("MOONSHOT_API_KEY", "KIMI_API_KEY")
MAX_SETTINGS_FILE_BYTES = 1024 * 1024  # the user settings file: a few hundred bytes in practice
PROMPT_SAFETY_MARGIN = 1_024  # tokens kept free: differences between our count and the API's


@dataclass(frozen=True, slots=True)
class Pricing:
    """Prices per million tokens; settings, never constants (relays charge differently)."""

    input_per_million: float = 0.95
    cached_input_per_million: float = 0.16
    output_per_million: float = 4.0
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class ContextBudget:
    """Per purpose, the most tokens a request packs by default (`contextBudget`, v2).

    `"window"` means the whole window budget; every value is also capped by it. The defaults
    keep a request cheap and quick to prefill; `/context all` in chat asks for the window."""

    edit: Budget = 16_000
    """Inline edits and the code actions that run them."""
    chat: Budget = 48_000
    """Chat: the whole request, the conversation's earlier turns included."""
    refactor: Budget = 64_000
    """A refactor's planning request (its repository map takes a tenth of it)."""
    prediction: Budget = 4_000
    """Edit prediction (ghost text, next-edit suggestions), once it is implemented."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every server setting, defaulted; field names are the snake_case of the wire keys."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    thinking: Thinking = "auto"
    prefix_mode: PrefixMode = "partial"
    context_window: int = 262_144
    max_output_tokens: int = 32_768
    max_concurrent_requests: int = 4
    request_timeout_seconds: float = 120.0
    max_retries: int = 3
    pricing: Pricing = field(default_factory=Pricing)
    exclude: tuple[str, ...] = ()
    redact_secrets: bool = True
    tokenizer_path: str | None = None
    max_file_size_bytes: int = 1_000_000
    context_budget: ContextBudget = field(default_factory=ContextBudget)
    """Tokens a request of each purpose packs by default; merged key by key with the defaults."""

    def prompt_budget(self) -> int:
        """protocol.md's window budget: contextWindow − maxOutputTokens − the safety margin."""
        return max(0, self.context_window - self.max_output_tokens - PROMPT_SAFETY_MARGIN)

    def context_budget_for(self, purpose: BudgetPurpose) -> int:
        """The budget a request of `purpose` packs to: its `contextBudget` value (the whole
        window for "window"), never more than the window budget."""
        window = self.prompt_budget()
        value = getattr(self.context_budget, purpose)
        return window if value == WHOLE_WINDOW else min(int(value), window)

    def describe(self) -> dict[str, Any]:
        """The settings as wire-shaped JSON with the API key reduced to whether it is set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "api_key":
                out["apiKeyConfigured"] = bool(value)
                continue
            if isinstance(value, Pricing | ContextBudget):
                value = {_camel(p.name): getattr(value, p.name) for p in fields(value)}
            elif isinstance(value, tuple):
                value = list(value)
            out[_camel(f.name)] = value
        return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class _Invalid(ValueError):
    """A setting's value was rejected; the message names what is expected."""


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("expected a non-empty string")
    return value.strip()


def _optional_string(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _string(value)


def _url(value: Any) -> str:
    text = _string(value).rstrip("/")
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise _Invalid("expected an http(s) URL such as https://api.moonshot.ai/v1")
    return text


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise _Invalid("expected one of " + ", ".join(f'"{o}"' for o in options))
        return str(value)

    return check


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise _Invalid(f"expected a whole number between {low} and {high}")
        if not low <= int(value) <= high:
            raise _Invalid(f"expected a whole number between {low} and {high}")
        return int(value)

    return check


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"expected a number between {low:g} and {high:g}")
        if not low <= float(value) <= high:
            raise _Invalid(f"expected a number between {low:g} and {high:g}")
        return float(value)

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("expected true or false")
    return value


def _globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _Invalid('expected a list of gitignore-style globs, e.g. ["dist/", "*.min.js"]')
    return tuple(v for v in value if v.strip())


def _pricing(value: Any) -> Pricing:
    if not isinstance(value, Mapping):
        raise _Invalid('expected an object like {"inputPerMillion": 0.95, ...}')
    base = Pricing()
    known = {_camel(f.name): f.name for f in fields(Pricing)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise _Invalid("unknown keys " + ", ".join(unknown) + "; known: " + ", ".join(known))
    updates: dict[str, Any] = {}
    for wire, attr in known.items():
        if wire not in value:
            continue
        if attr == "currency":
            updates[attr] = _string(value[wire])
        else:
            updates[attr] = _number(0, 1_000_000)(value[wire])
    return replace(base, **updates)


def _budget(value: Any) -> Budget:
    if value == WHOLE_WINDOW:
        return WHOLE_WINDOW
    try:
        return _integer(1_000, 10_000_000)(value)
    except _Invalid:
        raise _Invalid(
            f'expected a whole number of tokens between 1000 and 10000000, or "{WHOLE_WINDOW}"'
        ) from None


# wire key -> (attribute, validator)
_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "apiKey": ("api_key", _optional_string),
    "baseUrl": ("base_url", _url),
    "model": ("model", _string),
    "thinking": ("thinking", _choice("auto", "enabled", "disabled")),
    "prefixMode": ("prefix_mode", _choice("partial", "prefix", "none")),
    "contextWindow": ("context_window", _integer(1_024, 10_000_000)),
    "maxOutputTokens": ("max_output_tokens", _integer(16, 1_000_000)),
    "maxConcurrentRequests": ("max_concurrent_requests", _integer(1, 1_000)),
    "requestTimeoutSeconds": ("request_timeout_seconds", _number(1, 3_600)),
    "maxRetries": ("max_retries", _integer(0, 10)),
    "pricing": ("pricing", _pricing),
    "exclude": ("exclude", _globs),
    "redactSecrets": ("redact_secrets", _boolean),
    "tokenizerPath": ("tokenizer_path", _optional_string),
    "maxFileSizeBytes": ("max_file_size_bytes", _integer(1_000, 100_000_000)),
}

# Object-valued settings merged key by key: each key from the first source with a valid value
# for it, else its default (a bad value of one key falls back alone).
# wire key -> (attribute, the object's type (its fields are the wire keys), each key's validator)
_OBJECTS: dict[str, tuple[str, type[ContextBudget], Callable[[Any], Any]]] = {
    "contextBudget": ("context_budget", ContextBudget, _budget),
}

# Environment variables fill what the client's settings leave unset (first one set wins).
_ENV: dict[str, tuple[str, ...]] = {
    "apiKey": API_KEY_ENV_VARS,
    "baseUrl": ("KIMI_BASE_URL",),
    "model": ("KIMI_MODEL",),
}


@dataclass(frozen=True, slots=True)
class Source:
    """One layer of raw settings and where it came from (for messages and `doctor`)."""

    name: str
    values: Mapping[str, Any]


@dataclass(slots=True)
class Resolved:
    """Validated settings, plus one readable sentence per rejected or unknown key."""

    settings: Settings
    problems: list[str]
    origins: dict[str, str]


def env_source(env: Mapping[str, str] | None = None) -> Source:
    """The settings that environment variables provide."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for key, names in _ENV.items():
        for name in names:
            if env.get(name):
                values[key] = env[name]
                break
    return Source("environment", values)


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the optional user settings file lives (same keys as the `kimi` section)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kimi-lsp" / "settings.json"


def file_source(path: Path) -> tuple[Source | None, str | None]:
    """Read the user settings file; returns (source, problem) and never raises."""
    try:
        raw = read_limited(path, MAX_SETTINGS_FILE_BYTES).decode("utf-8", "replace")
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"Could not read {path}: {exc.strerror or exc}; it was ignored."
    try:
        values = json.loads(raw)
    except ValueError as exc:
        return None, f"{path} is not valid JSON ({exc}); it was ignored."
    if not isinstance(values, dict):
        return None, f"{path} must hold a JSON object of kimi settings; it was ignored."
    return Source(str(path), values), None


def resolve(sources: list[Source]) -> Resolved:
    """Validate layered sources (highest priority first); a bad value falls back on its own."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[str] = []
    for wire, (attr, check) in _FIELDS.items():
        for source in sources:
            if wire not in source.values or source.values[wire] is None:
                continue
            try:
                values[attr] = check(source.values[wire])
                origins[wire] = source.name
                break
            except _Invalid as exc:
                shown = "(hidden)" if wire == "apiKey" else json.dumps(source.values[wire])[:80]
                problems.append(
                    f"Setting kimi.{wire} = {shown} from {source.name} is invalid: {exc}. "
                    "Using the next source or the default instead."
                )
    for wire, (attr, kind, check) in _OBJECTS.items():
        keys = tuple(f.name for f in fields(kind))
        values[attr] = kind(**_merged(wire, keys, check, sources, problems, origins))
    for source in sources:
        for unknown in sorted(set(source.values) - set(_FIELDS) - set(_OBJECTS)):
            problems.append(f"Unknown setting kimi.{unknown} from {source.name} was ignored.")
    return Resolved(Settings(**values), problems, origins)


def _merged(
    wire: str,
    keys: tuple[str, ...],
    check: Callable[[Any], Any],
    sources: list[Source],
    problems: list[str],
    origins: dict[str, str],
) -> dict[str, Any]:
    """One object-valued setting, key by key over the sources (highest priority first); the
    keys no source sets validly are left out, so they keep their defaults."""
    values: dict[str, Any] = {}
    fallback = "Using the next source or the default instead."
    for source in sources:
        raw = source.values.get(wire)
        if raw is None or len(values) == len(keys):
            continue
        if not isinstance(raw, Mapping):
            shown = json.dumps(raw)[:80]
            example = ", ".join(f'"{key}": ...' for key in keys)
            problems.append(
                f"Setting kimi.{wire} = {shown} from {source.name} is invalid: expected an "
                f"object like {{{example}}}. {fallback}"
            )
            continue
        for unknown in sorted(set(raw) - set(keys)):
            problems.append(
                f"Unknown key {unknown!r} of kimi.{wire} from {source.name} was ignored "
                f"(known: {', '.join(keys)})."
            )
        for key in keys:
            if key in values or raw.get(key) is None:
                continue
            try:
                values[key] = check(raw[key])
                origins[f"{wire}.{key}"] = source.name
            except _Invalid as exc:
                shown = json.dumps(raw[key])[:80]
                problems.append(
                    f"Setting kimi.{wire}.{key} = {shown} from {source.name} is invalid: "
                    f"{exc}. {fallback}"
                )
    return values


def client_section(payload: Any) -> Mapping[str, Any] | None:
    """Extract the `kimi` section from initializationOptions or didChangeConfiguration settings.

    Clients send either the section itself or an object holding it under "kimi".
    """
    if not isinstance(payload, Mapping):
        return None
    inner = payload.get("kimi")
    if isinstance(inner, Mapping):
        return inner
    if any(key in _FIELDS or key in _OBJECTS for key in payload):
        return payload
    return None
