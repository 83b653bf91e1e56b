"""`kimi-lsp doctor`: a readable health report of the configuration and, optionally, the API."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from .. import __version__
from ..config import API_KEY_ENV_VARS, PrefixMode, Settings, requires_key, user_config_path
from ..model.params import prefix_mode_for, token_limit_param
from ..settings_store import SettingsStore
from . import endpoint_probe as probe


def _tokenizer_line(settings: Settings) -> tuple[bool, str]:
    """Load the tokenizer the server would use and say which one it is."""
    from ..tokens.counter import ONE_SHOT_THREADS, TokenCounter

    counter = TokenCounter(
        settings.tokenizer_path, model=settings.model, counting_threads=ONE_SHOT_THREADS
    )
    counter.load()
    info = counter.describe()
    if info["source"] == "estimate":
        return False, f"no BPE could be loaded ({info.get('error')}); counts are estimates"
    exact = "exact counts" if info["exact"] else "approximate counts"
    return True, f"{info['name']} from {info['source']} ({exact})"


@dataclass(frozen=True, slots=True)
class Listing:
    """What GET {baseUrl}/models told: reachable, key accepted, the model listed."""

    ok: bool
    text: str
    answered: bool = False
    """The endpoint answered with a model list (the key was accepted)."""


def list_models(settings: Settings, timeout: float = 10.0) -> Listing:
    """GET {baseUrl}/models with the key (only that endpoint's own). Never prints the key."""
    import httpx2

    url = settings.base_url.rstrip("/") + "/models"
    try:
        response = httpx2.get(url, headers=probe.headers(settings), timeout=timeout)
    except httpx2.HTTPError as exc:
        return Listing(False, f"could not reach {url}: {type(exc).__name__}: {exc}")
    if response.status_code == 401:
        return Listing(
            False,
            "the endpoint answered 401: the key is rejected. Keys of api.moonshot.ai and "
            "api.moonshot.cn are not interchangeable: check the key matches the base URL.",
        )
    if response.status_code >= 400:
        from ..model.errors import scrub  # an error body may echo the key

        text = scrub(response.text, settings.api_key)[:200]
        return Listing(False, f"the endpoint answered HTTP {response.status_code}: {text}")
    try:
        ids = [m.get("id") for m in response.json().get("data", [])]
    except (ValueError, AttributeError):
        return Listing(False, "the endpoint answered, but not with a JSON model list")
    if settings.model not in ids:
        shown = ", ".join(str(i) for i in ids[:8]) or "none"
        text = f"the endpoint answers, but does not list model {settings.model} ({shown})"
        return Listing(False, text, answered=True)
    return Listing(True, f"the endpoint answers and lists {settings.model}", answered=True)


def check_endpoint(settings: Settings, timeout: float = 10.0) -> tuple[bool, str]:
    """GET {baseUrl}/models with the key; returns (ok, sentence). Never prints the key."""
    listing = list_models(settings, timeout)
    return listing.ok, listing.text


def targets(settings: Settings) -> list[tuple[str, Settings]]:
    """Every configured model on its endpoint (top level, each role, each fallback), the
    same model, endpoint and key checked once under all the names that use it."""
    named = [("top level", settings)]
    named += [(f"models.{role}", settings.for_role(role)) for role in settings.models]
    chain = settings.fallback_chain("chat")
    named += [(f"fallback[{s.fallback_rank - 1}]", s) for s in chain]
    groups: dict[tuple[str, str, str | None], tuple[list[str], Settings]] = {}
    for name, derived in named:
        key = (derived.base_url, derived.model, derived.api_key)
        groups.setdefault(key, ([], derived))[0].append(name)
    return [(", ".join(names), derived) for names, derived in groups.values()]


def _key_source(settings: Settings, entry_env: str | None) -> str:
    if entry_env:
        return f"from {entry_env} ({'set' if settings.api_key else 'not set'})"
    return "the top-level key" if settings.api_key else "none"


def describe_roles(settings: Settings) -> list[str]:
    """One line per role and fallback: model, endpoint and where its key comes from."""
    lines = []
    for role, entry in settings.models.items():
        derived = settings.for_role(role)
        source = _key_source(derived, entry.api_key_env)
        lines.append(f"models.{role}: {derived.model} at {derived.base_url}; key: {source}")
    for derived, entry in zip(settings.fallback_chain("chat"), settings.fallback, strict=True):
        source = _key_source(derived, entry.api_key_env)
        index = derived.fallback_rank - 1
        lines.append(f"fallback[{index}]: {derived.model} at {derived.base_url}; key: {source}")
    return lines


def probe_model(settings: Settings, timeout: float) -> tuple[str, str]:
    """Probe one model: (mark, sentence) with the token-limit parameters it honours, whether
    it continues a prefix, and the dialect kimi-lsp chose."""
    limits = {param: probe.token_limit(settings, param, timeout) for param in probe.TOKEN_PARAMS}
    chosen = token_limit_param(settings)
    parts = [f"{param} {result}" for param, result in limits.items()]
    mark = "✓"
    other = next(p for p in probe.TOKEN_PARAMS if p != chosen)
    if not limits[chosen].startswith("honoured") and limits[other] == "honoured":
        mark = "✗"
        parts.append(f'set tokenLimitParam to "{other}" for it')
    modes: list[PrefixMode] = ["partial"]
    mode = prefix_mode_for(settings)
    if mode not in ("none", "partial"):
        modes.append(mode)
    for each in modes:
        result = probe.continuation(settings, each, timeout)
        parts.append(f"{each}: {result}")
        if each == mode and result != "understood" and mark == "✓":
            mark = "!"
    parts.append(f"dialect: {probe.dialect(settings)}")
    return mark, "; ".join(parts)


def _online(
    settings: Settings, line: Callable[[str, str, str], None], timeout: float = 10.0
) -> bool:
    ok = True
    for names, derived in targets(settings):
        where = f"{names}: {derived.model} at {derived.base_url}"
        # The top level's lines read as before roles existed; the others name their target.
        prefix = "" if names == "top level" else f"{where}: "
        if not derived.api_key and requires_key(derived.base_url):
            # Moonshot always needs a key; a self-hosted server may need none.
            line("✗", "endpoint", prefix + "not checked: no API key")
            ok = False
            continue
        listing = list_models(derived, timeout)
        if not listing.answered:
            line("✗", "endpoint", prefix + listing.text)
            ok = False
            continue
        mark, text = probe_model(derived, timeout)
        # llama.cpp's server answers for a model id it does not list: a warning, not a failure.
        line("✓" if listing.ok else "!", "endpoint", prefix + listing.text)
        line(mark, "probe", f"{where}: {text}")
        ok = ok and mark != "✗"
    return ok


def run_doctor(online: bool, out: TextIO, as_json: bool = False) -> int:
    """Print the report (or, with `as_json`, one JSON object of checks for tools such as
    Neovim's :checkhealth); exit 0 when everything needed is in place, 1 otherwise."""
    store = SettingsStore()
    resolved = store.current
    settings = resolved.settings
    problems = list(resolved.problems)
    ok = True
    checks: list[dict[str, object]] = []

    def line(mark: str, label: str, text: str) -> None:
        status = {"✓": "ok", "✗": "error", "!": "warning"}.get(mark, "info")
        checks.append({"check": label, "status": status, "message": text})
        if not as_json:
            out.write(f"{mark} {label:<13} {text}\n")

    line(" ", "version", f"kimi-lsp {__version__}")
    line(" ", "python", f"{platform.python_version()} ({platform.python_implementation()})")
    sources, file_problem = store.sources()
    found = [s.name for s in sources[1:] if s.values]
    path = user_config_path()
    if not path.exists():
        found.append(f"(no user settings file at {path})")
    line(" ", "config", "; ".join(found) if found else "defaults only")
    if file_problem:
        problems.append(file_problem)
    if settings.api_key:
        line("✓", "api key", f"configured (from {resolved.origins.get('apiKey', '?')})")
    else:
        ok = False
        line(
            "✗",
            "api key",
            "missing: set " + " or ".join(API_KEY_ENV_VARS) + ", or the kimi.apiKey setting",
        )
    line(" ", "base url", settings.base_url)
    line(" ", "model", settings.model)
    for text in describe_roles(settings):
        line(" ", "role" if text.startswith("models.") else "fallback", text)
    tok_ok, tok_text = _tokenizer_line(settings)
    ok = ok and tok_ok
    line("✓" if tok_ok else "✗", "tokenizer", tok_text)
    if online:
        ok = _online(settings, line) and ok
    for problem in problems:
        ok = False
        line("!", "setting", problem)
    if as_json:
        out.write(json.dumps({"ok": ok, "checks": checks}, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write("All good.\n" if ok else "Problems found (see ✗ and ! above).\n")
    return 0 if ok else 1
