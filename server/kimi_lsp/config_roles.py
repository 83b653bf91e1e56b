"""The `models` (roles) and `fallback` settings: per-endpoint model configs, validated."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from .config_values import (
    Invalid,
    Pricing,
    choice,
    env_name,
    integer,
    number,
    pricing_over,
    string,
    url,
)

ROLES: tuple[str, ...] = ("chat", "edit", "refactor", "prediction")
MAX_FALLBACKS = 8
PREFIX_MODES: tuple[str, ...] = ("partial", "prefix", "none", "continue_final_message")
TOKEN_PARAMS: tuple[str, ...] = ("auto", "max_completion_tokens", "max_tokens")
TokenParam = Literal["auto", "max_completion_tokens", "max_tokens"]
NO_KEY_IN_A_ROLE = (
    "a key never goes in a role: set apiKeyEnv to the name of an environment variable"
)
Thinking = Literal["auto", "enabled", "disabled"]
PrefixMode = Literal["partial", "prefix", "none", "continue_final_message"]

# Kimi K2.x model ids, however a relay or a self-hosting server prefixes them.
_KIMI_K2 = re.compile(r"(^|[/:])kimi-k2([.\-_]|$)", re.IGNORECASE)


def is_kimi_model(model_id: str) -> bool:
    """Whether `model_id` names a Kimi K2.x model (fixed sampling, Moonshot-only fields)."""
    return bool(_KIMI_K2.search(model_id.strip()))


MOONSHOT_HOSTS = frozenset({"api.moonshot.ai", "api.moonshot.cn"})


def requires_key(base_url: str) -> bool:
    """Whether requests to `base_url` cannot work without a key: Moonshot's own endpoints.
    Other endpoints (a self-hosted llama.cpp or vLLM server) may take none."""
    host = urlsplit(base_url.strip()).hostname or ""
    return host.lower().rstrip(".") in MOONSHOT_HOSTS


@dataclass(frozen=True, slots=True)
class RoleOverrides:
    """One role's (or fallback's) model config; None means "as the top-level setting"."""

    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)
    """The value of `api_key_env` in the environment the settings were resolved with."""
    prefix_mode: PrefixMode | None = None
    thinking: Thinking | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    pricing: Pricing | None = None
    temperature: float | None = None
    token_param: TokenParam | None = None

    def describe(self) -> dict[str, Any]:
        """Wire-shaped, the key reduced to whether it is set."""
        out: dict[str, Any] = {"model": self.model}
        for wire, (attr, _) in _KEYS.items():
            value = getattr(self, attr)
            if value is not None and wire != "model":
                out[wire] = _plain(value)
        if self.api_key_env:
            out["apiKeyConfigured"] = bool(self.api_key)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Pricing):
        return {
            "inputPerMillion": value.input_per_million,
            "cachedInputPerMillion": value.cached_input_per_million,
            "outputPerMillion": value.output_per_million,
            "currency": value.currency,
        }
    return value


# wire key -> (attribute, validator); `pricing` is checked over the top-level pricing.
_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "model": ("model", string),
    "baseUrl": ("base_url", url),
    "apiKeyEnv": ("api_key_env", env_name),
    "prefixMode": ("prefix_mode", choice(*PREFIX_MODES)),
    "thinking": ("thinking", choice("auto", "enabled", "disabled")),
    "contextWindow": ("context_window", integer(1_024, 10_000_000)),
    "maxOutputTokens": ("max_output_tokens", integer(16, 1_000_000)),
    "pricing": ("pricing", lambda value: value),
    "temperature": ("temperature", number(0, 2)),
    "tokenLimitParam": ("token_param", choice(*TOKEN_PARAMS)),
}
# A bad endpoint or key variable rejects the whole entry: falling back to the top-level
# endpoint would send this entry's key (or the top-level key) where the user did not mean it.
_ENTRY_KEYS = ("model", "baseUrl", "apiKeyEnv")


def must_be(exc: Invalid) -> str:
    """An `Invalid` message as the predicate of a sentence about the key."""
    text = str(exc)
    if text.startswith("expected "):
        return "must be " + text.removeprefix("expected ")
    return "has " + text


def temperature_problem(path: str, model: str) -> str:
    return (
        f"Setting kimi.{path} is not allowed for {model}: a Kimi K2.x model's sampling is fixed "
        "(the API refuses any other temperature). The value was ignored."
    )


@dataclass(slots=True)
class EntryParser:
    """Parses role and fallback entries, collecting one sentence per problem."""

    env: Mapping[str, str]
    base_pricing: Pricing
    problems: list[str] = field(default_factory=list)

    def entry(self, path: str, raw: Any, source: str) -> RoleOverrides | None:
        """One entry (`path` is e.g. "models.chat" or "fallback[0]"); None when rejected."""
        if not isinstance(raw, Mapping):
            self.problems.append(
                f'Setting kimi.{path} from {source} must be an object like {{"model": ...}}; '
                "it was ignored."
            )
            return None
        if "apiKey" in raw:
            self.problems.append(
                f"Setting kimi.{path}.apiKey from {source} was refused: {NO_KEY_IN_A_ROLE}."
            )
        for unknown in sorted(set(raw) - set(_KEYS) - {"apiKey"}):
            self.problems.append(
                f"Unknown key {unknown!r} of kimi.{path} from {source} was ignored "
                f"(known: {', '.join(_KEYS)})."
            )
        if raw.get("model") is None:
            self.problems.append(
                f"Setting kimi.{path} from {source} names no model (a role or fallback needs "
                '"model"); it was ignored.'
            )
            return None
        values = self._values(path, raw, source)
        if values is None:
            return None
        model = values["model"]
        if values.get("temperature") is not None and is_kimi_model(model):
            self.problems.append(temperature_problem(f"{path}.temperature", model))
            values["temperature"] = None
        env_var = values.get("api_key_env")
        if env_var:
            values["api_key"] = self.env.get(env_var) or None
            if values["api_key"] is None:
                self.problems.append(
                    f"Setting kimi.{path}.apiKeyEnv names {env_var}, which is not set in the "
                    f"server's environment: requests to {path} go without a key."
                )
        return RoleOverrides(**values)

    def _values(self, path: str, raw: Mapping[str, Any], source: str) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        for wire, (attr, check) in _KEYS.items():
            if raw.get(wire) is None:
                continue
            if wire == "pricing":
                check = pricing_over(self.base_pricing)
            try:
                values[attr] = check(raw[wire])
            except Invalid as exc:
                # An apiKeyEnv that is not a name may be a pasted key: never echo it.
                shown = "(hidden)" if wire == "apiKeyEnv" else json.dumps(raw[wire])[:80]
                whole = wire in _ENTRY_KEYS
                self.problems.append(
                    f"Setting kimi.{path}.{wire} {must_be(exc)} (got {shown} from {source}); "
                    + (f"kimi.{path} was ignored." if whole else "the top-level value is used.")
                )
                if whole:
                    return None
        return values

    def roles(self, sources: list[tuple[str, Any]]) -> dict[str, RoleOverrides]:
        """`models`, role by role: each role from the first source that sets it validly."""
        out: dict[str, RoleOverrides] = {}
        for source, raw in sources:
            if raw is None:
                continue
            if not isinstance(raw, Mapping):
                self.problems.append(
                    f"Setting kimi.models from {source} must be an object like "
                    '{"chat": {"model": ...}}; it was ignored.'
                )
                continue
            for name in sorted(set(raw) - set(ROLES)):
                self.problems.append(
                    f"Unknown role kimi.models.{name} from {source} was ignored "
                    f"(roles: {', '.join(ROLES)})."
                )
            for role in ROLES:
                if role in out or raw.get(role) is None:
                    continue
                parsed = self.entry(f"models.{role}", raw[role], source)
                if parsed is not None:
                    out[role] = parsed
        return out

    def fallbacks(self, sources: list[tuple[str, Any]]) -> tuple[RoleOverrides, ...]:
        """`fallback`: the list from the first source that sets one (lists do not merge)."""
        for source, raw in sources:
            if raw is None:
                continue
            if not isinstance(raw, list | tuple) or len(raw) > MAX_FALLBACKS:
                self.problems.append(
                    f"Setting kimi.fallback from {source} must be a list of at most "
                    f'{MAX_FALLBACKS} model configs like [{{"model": ...}}]; it was ignored.'
                )
                continue
            parsed = (self.entry(f"fallback[{i}]", item, source) for i, item in enumerate(raw))
            return tuple(entry for entry in parsed if entry is not None)
        return ()
