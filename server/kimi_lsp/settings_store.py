"""The live settings of one server: client settings over env vars over the user file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from .config import (
    Resolved,
    Source,
    client_section,
    env_source,
    file_source,
    resolve,
    user_config_path,
)

log = logging.getLogger(__name__)

Listener = Callable[[Resolved], None]


class SettingsStore:
    """Keeps each source apart so a later update replaces only its own layer."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._init_options: Mapping[str, Any] = {}
        self._client: Mapping[str, Any] = {}
        self._listeners: list[Listener] = []
        self.current: Resolved = self._resolve()[0]

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)
        listener(self.current)

    def set_initialization_options(self, payload: Any) -> list[str]:
        """Apply initializationOptions; returns problems worth showing to the user."""
        section, problem = _section(payload, "initializationOptions")
        self._init_options = section
        return self._update(problem)

    def set_client_settings(self, payload: Any) -> list[str]:
        """Apply the `kimi` section pushed or pulled from the client."""
        section, problem = _section(payload, "the kimi settings section")
        self._client = section
        return self._update(problem)

    def sources(self) -> tuple[list[Source], str | None]:
        """The layers, highest priority first, and a problem reading the user file if any."""
        # Two layers, not one merged dict: an object-valued setting (contextBudget) given
        # partly in each merges key by key like everywhere else.
        layers = [
            Source("client settings", self._client),
            Source("initializationOptions", self._init_options),
            env_source(self._env),
        ]
        file_layer, problem = file_source(user_config_path(self._env))
        if file_layer is not None:
            layers.append(file_layer)
        return layers, problem

    def _resolve(self) -> tuple[Resolved, list[str]]:
        layers, problem = self.sources()
        return resolve(layers, self._env), [problem] if problem else []

    def _update(self, problem: str | None) -> list[str]:
        resolved, extra = self._resolve()
        self.current = resolved
        for listener in self._listeners:
            try:
                listener(resolved)
            except Exception:
                log.exception("A settings listener failed")
        problems = ([problem] if problem else []) + extra + resolved.problems
        for text in problems:
            log.warning("%s", text)
        return problems


def _section(payload: Any, where: str) -> tuple[Mapping[str, Any], str | None]:
    if payload is None:
        return {}, None
    if not isinstance(payload, Mapping):
        return {}, f"Ignored {where}: expected an object of kimi settings."
    # A settings object without a kimi section means the user has no kimi settings there.
    return client_section(payload) or {}, None
