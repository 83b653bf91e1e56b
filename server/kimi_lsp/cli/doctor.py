"""`kimi-lsp doctor`: a readable health report of the configuration and, optionally, the API."""

from __future__ import annotations

import json
import platform
from typing import TextIO

from .. import __version__
from ..config import API_KEY_ENV_VARS, Settings, user_config_path
from ..settings_store import SettingsStore


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


def check_endpoint(settings: Settings, timeout: float = 10.0) -> tuple[bool, str]:
    """GET {baseUrl}/models with the key; returns (ok, sentence). Never prints the key."""
    import httpx2

    url = settings.base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    try:
        response = httpx2.get(url, headers=headers, timeout=timeout)
    except httpx2.HTTPError as exc:
        return False, f"could not reach {url}: {type(exc).__name__}: {exc}"
    if response.status_code == 401:
        return False, (
            "the endpoint answered 401: the key is rejected. Keys of api.moonshot.ai and "
            "api.moonshot.cn are not interchangeable: check the key matches the base URL."
        )
    if response.status_code >= 400:
        from ..model.errors import scrub  # an error body may echo the key

        text = scrub(response.text, settings.api_key)[:200]
        return False, f"the endpoint answered HTTP {response.status_code}: {text}"
    try:
        ids = [m.get("id") for m in response.json().get("data", [])]
    except (ValueError, AttributeError):
        return False, "the endpoint answered, but not with a JSON model list"
    if settings.model not in ids:
        shown = ", ".join(str(i) for i in ids[:8]) or "none"
        return False, f"the endpoint answers, but does not list model {settings.model} ({shown})"
    return True, f"the endpoint answers and lists {settings.model}"


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
    tok_ok, tok_text = _tokenizer_line(settings)
    ok = ok and tok_ok
    line("✓" if tok_ok else "✗", "tokenizer", tok_text)
    if online:
        if settings.api_key:
            end_ok, end_text = check_endpoint(settings)
        else:
            end_ok, end_text = False, "not checked: no API key"
        ok = ok and end_ok
        line("✓" if end_ok else "✗", "endpoint", end_text)
    for problem in problems:
        ok = False
        line("!", "setting", problem)
    if as_json:
        out.write(json.dumps({"ok": ok, "checks": checks}, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write("All good.\n" if ok else "Problems found (see ✗ and ! above).\n")
    return 0 if ok else 1
