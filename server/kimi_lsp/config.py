"""Typed settings: protocol.md's `kimi` section, layered over env vars, a user file and defaults."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .config_roles import (
    NO_KEY_IN_A_ROLE,
    ROLES,
    TOKEN_PARAMS,
    EntryParser,
    PrefixMode,
    RoleOverrides,
    Thinking,
    TokenParam,
    is_kimi_model,
    requires_key,
    temperature_problem,
)
from .config_values import (
    WHOLE_WINDOW,
    Budget,
    Invalid,
    Pricing,
    boolean,
    budget,
    camel,
    choice,
    globs,
    integer,
    number,
    optional_string,
    pricing_over,
    string,
    url,
)
from .limited_read import read_limited

__all__ = [
    "NO_KEY_IN_A_ROLE",
    "ROLES",
    "WHOLE_WINDOW",
    "Budget",
    "PrefixMode",
    "Pricing",
    "RoleOverrides",
    "Thinking",
    "TokenParam",
    "is_kimi_model",
    "requires_key",
]

# What a context budget is chosen for: the request purposes, and edit prediction.
BudgetPurpose = Literal["chat", "edit", "refactor", "prediction"]

DEFAULT_BASE_URL = "https://api.moonshot.ai/v1"
DEFAULT_MODEL = "kimi-k2.6"
API_KEY_ENV_VARS = ("MOONSHOT_API_KEY", "KIMI_API_KEY")
MAX_SETTINGS_FILE_BYTES = 1024 * 1024  # the user settings file: a few hundred bytes in practice
PROMPT_SAFETY_MARGIN = 1_024  # tokens kept free: differences between our count and the API's


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
    """Edit prediction (ghost text, next-edit suggestions)."""


@dataclass(frozen=True, slots=True)
class PredictionSettings:
    """Edit prediction (`prediction`, v2): ghost text and next-edit suggestions."""

    enabled: bool = True
    debounce_ms: int = 75
    """Wait this long after the last request for a document before calling the model."""
    next_edit: bool = True
    """Serve `kimi/nextEdit` (ghost text stays on when this is off)."""
    max_cost_per_hour: float = 1.0
    """Spend cap over the last hour, in the pricing's currency; 0 turns predictions off."""


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
    prediction: PredictionSettings = field(default_factory=PredictionSettings)
    """Edit prediction; merged key by key with the defaults."""
    temperature: float | None = None
    """Sent only to models other than Kimi K2.x (whose sampling is fixed)."""
    token_param: TokenParam = "auto"
    """The token-limit parameter (wire `tokenLimitParam`); "auto" picks it by model family."""
    models: dict[str, RoleOverrides] = field(default_factory=dict)
    """Per-role overrides (`models`); `for_role` applies them."""
    fallback: tuple[RoleOverrides, ...] = ()
    """Model configs tried in order when the primary is unavailable; see `fallback_chain`."""
    role: str = ""
    """Which role a derived Settings serves ("" for the top-level settings)."""
    fallback_rank: int = 0
    """0 for the primary, i for the i-th entry of the fallback chain."""
    keyless: bool = False
    """A role's or fallback's endpoint other than Moonshot's, with no key configured: its
    requests go without one (a self-hosted server); on Moonshot's own it is skipped instead."""
    prefix_mode_explicit: bool = False
    """Whether `prefix_mode` was set (rather than defaulted) for this model: a model other than
    Kimi K2.x continues a prefix only in a mode set for it explicitly."""

    def for_role(self, purpose: str) -> Settings:
        """These (top-level) settings with `purpose`'s role overrides applied."""
        overrides = self.models.get(purpose)
        if overrides is None:
            return replace(self, role=purpose, fallback_rank=0)
        return self._over(overrides, purpose, 0)

    def fallback_chain(self, purpose: str) -> tuple[Settings, ...]:
        """Each fallback entry over these (top-level) settings, in order."""
        return tuple(self._over(e, purpose, i + 1) for i, e in enumerate(self.fallback))

    def api_keys(self) -> frozenset[str]:
        """Every key these settings may send (top level, roles, fallbacks): the log filter's."""
        keys = {self.api_key} | {e.api_key for e in (*self.models.values(), *self.fallback)}
        return frozenset(key for key in keys if key)

    def _over(self, entry: RoleOverrides, purpose: str, rank: int) -> Settings:
        # The top-level key goes only to the top-level endpoint: an entry on another endpoint
        # without apiKeyEnv sends no key at all.
        keyless = False
        if entry.api_key_env:
            key = entry.api_key
        elif entry.base_url is None or entry.base_url == self.base_url:
            key = self.api_key
        else:
            key = None
            keyless = not requires_key(entry.base_url)  # Moonshot's own needs one: skipped
        temperature = self.temperature if entry.temperature is None else entry.temperature
        return replace(
            self,
            api_key=key,
            base_url=entry.base_url or self.base_url,
            model=entry.model,
            thinking=entry.thinking or self.thinking,
            prefix_mode=entry.prefix_mode or self.prefix_mode,
            prefix_mode_explicit=entry.prefix_mode is not None,
            context_window=entry.context_window or self.context_window,
            max_output_tokens=entry.max_output_tokens or self.max_output_tokens,
            pricing=entry.pricing or self.pricing,
            temperature=None if is_kimi_model(entry.model) else temperature,
            token_param=entry.token_param or self.token_param,
            role=purpose,
            fallback_rank=rank,
            keyless=keyless,
        )

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
            if f.name in _INTERNAL:
                continue
            if isinstance(value, Pricing | ContextBudget | PredictionSettings):
                value = {camel(p.name): getattr(value, p.name) for p in fields(value)}
            elif f.name == "models":
                value = {role: entry.describe() for role, entry in value.items()}
            elif f.name == "fallback":
                value = [entry.describe() for entry in value]
            elif isinstance(value, tuple):
                value = list(value)
            out["tokenLimitParam" if f.name == "token_param" else camel(f.name)] = value
        return out


_INTERNAL = frozenset({"role", "fallback_rank", "prefix_mode_explicit"})
"""Fields of derived settings, not settings a user sets."""

# wire key -> (attribute, validator)
_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "apiKey": ("api_key", optional_string),
    "baseUrl": ("base_url", url),
    "model": ("model", string),
    "thinking": ("thinking", choice("auto", "enabled", "disabled")),
    "prefixMode": ("prefix_mode", choice("partial", "prefix", "none", "continue_final_message")),
    "contextWindow": ("context_window", integer(1_024, 10_000_000)),
    "maxOutputTokens": ("max_output_tokens", integer(16, 1_000_000)),
    "maxConcurrentRequests": ("max_concurrent_requests", integer(1, 1_000)),
    "requestTimeoutSeconds": ("request_timeout_seconds", number(1, 3_600)),
    "maxRetries": ("max_retries", integer(0, 10)),
    "pricing": ("pricing", pricing_over(Pricing())),
    "exclude": ("exclude", globs),
    "redactSecrets": ("redact_secrets", boolean),
    "tokenizerPath": ("tokenizer_path", optional_string),
    "maxFileSizeBytes": ("max_file_size_bytes", integer(1_000, 100_000_000)),
    "temperature": ("temperature", number(0, 2)),
    "tokenLimitParam": ("token_param", choice(*TOKEN_PARAMS)),
}
# Settings resolved after the others, by `config_roles` (they depend on the top-level values).
_ROLE_SETTINGS = ("models", "fallback")

# Object-valued settings merged key by key: each key from the first source with a valid value
# for it, else its default (a bad value of one key falls back alone).
# wire key -> (attribute, the object's type (its fields are the wire keys), each key's validator)
# A validator per key, or one for every key.
_OBJECTS: dict[str, tuple[str, type, Callable[[Any], Any] | Mapping[str, Callable[[Any], Any]]]] = {
    "contextBudget": ("context_budget", ContextBudget, budget),
    "prediction": (
        "prediction",
        PredictionSettings,
        {
            "enabled": boolean,
            "debounceMs": integer(0, 60_000),
            "nextEdit": boolean,
            "maxCostPerHour": number(0, 1_000_000),
        },
    ),
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


def resolve(sources: list[Source], env: Mapping[str, str] | None = None) -> Resolved:
    """Validate layered sources (highest priority first); a bad value falls back on its own.

    `env` is where role and fallback entries' `apiKeyEnv` variables are read (the server's
    environment by default)."""
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
            except Invalid as exc:
                shown = "(hidden)" if wire == "apiKey" else json.dumps(source.values[wire])[:80]
                problems.append(
                    f"Setting kimi.{wire} = {shown} from {source.name} is invalid: {exc}. "
                    "Using the next source or the default instead."
                )
    for wire, (attr, kind, checks) in _OBJECTS.items():
        names = {camel(f.name): f.name for f in fields(kind)}
        merged = _merged(wire, tuple(names), checks, sources, problems, origins)
        values[attr] = kind(**{names[key]: value for key, value in merged.items()})
    known = set(_FIELDS) | set(_OBJECTS) | set(_ROLE_SETTINGS)
    for source in sources:
        for unknown in sorted(set(source.values) - known):
            problems.append(f"Unknown setting kimi.{unknown} from {source.name} was ignored.")
    _resolve_roles(values, sources, os.environ if env is None else env, problems)
    values["prefix_mode_explicit"] = "prefixMode" in origins
    return Resolved(Settings(**values), problems, origins)


def _resolve_roles(
    values: dict[str, Any], sources: list[Source], env: Mapping[str, str], problems: list[str]
) -> None:
    """`models` and `fallback` (over the resolved top-level pricing), and the rule that a Kimi
    K2.x model takes no temperature."""
    model = values.get("model", DEFAULT_MODEL)
    if values.get("temperature") is not None and is_kimi_model(model):
        problems.append(temperature_problem("temperature", model))
        values.pop("temperature")
    parser = EntryParser(env, values.get("pricing", Pricing()))
    values["models"] = parser.roles([(s.name, s.values.get("models")) for s in sources])
    values["fallback"] = parser.fallbacks([(s.name, s.values.get("fallback")) for s in sources])
    problems.extend(parser.problems)


def _merged(
    wire: str,
    keys: tuple[str, ...],
    check: Callable[[Any], Any] | Mapping[str, Callable[[Any], Any]],
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
                values[key] = (check[key] if isinstance(check, Mapping) else check)(raw[key])
                origins[f"{wire}.{key}"] = source.name
            except Invalid as exc:
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
    if any(key in _FIELDS or key in _OBJECTS or key in _ROLE_SETTINGS for key in payload):
        return payload
    return None
