"""Logging: stderr or a file, a bridge to window/logMessage, and a filter that hides secrets."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

LOGGER_NAME = "kimi_lsp"
_MASK = "[REDACTED]"

# Shapes of credentials that may reach a log line before the configured key is known
# (pygls logs whole messages, and initializationOptions may carry the key).
_GENERIC_SECRETS = re.compile(
    r"""(?ix)
    (?P<kv>(["']?(?:api_?key|apikey|authorization|password|secret|token)["']?\s*[:=]\s*["']?)
        (?:bearer\s+)?)[^\s"',}]{6,}
    | \bbearer\s+[A-Za-z0-9._~+/=-]{8,}
    | \bsk-[A-Za-z0-9_-]{16,}
    """
)


class SecretFilter(logging.Filter):
    """Rewrites every record so that configured secrets and key-shaped strings never appear."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()

    def set_secrets(self, secrets: set[str | None]) -> None:
        # Short strings would mask ordinary words; real keys are long.
        self._secrets = frozenset(s for s in secrets if s and len(s) >= 6)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return _GENERIC_SECRETS.sub(
            lambda m: (m.group("kv") or "") + _MASK if m.group("kv") else _MASK, text
        )

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


# LSP MessageType values; Debug (5) is never sent: pytest-lsp 1.0.1 crashes on it.
_LSP_TYPES = ((logging.ERROR, 1), (logging.WARNING, 2), (logging.INFO, 3))


def lsp_message_type(level: int) -> int:
    """Map a logging level to an LSP MessageType (Log=4 for anything below INFO)."""
    for threshold, kind in _LSP_TYPES:
        if level >= threshold:
            return kind
    return 4


class ClientLogHandler(logging.Handler):
    """Forwards records to the client as window/logMessage via a send callback.

    kimi_lsp's own records are forwarded from `level`, other libraries' only from WARNING.
    Re-entrant records (sending failed and logged again) are dropped.
    """

    def __init__(self, send: Callable[[int, str], None], level: int = logging.INFO) -> None:
        super().__init__(level=logging.DEBUG)
        self._send = send
        self._own_level = level
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        own = record.name == LOGGER_NAME or record.name.startswith(LOGGER_NAME + ".")
        if record.levelno < (self._own_level if own else logging.WARNING):
            return
        if getattr(self._busy, "active", False):
            return
        self._busy.active = True
        try:
            self._send(lsp_message_type(record.levelno), self.format(record))
        except Exception:
            pass  # the client is gone or the transport is closed: stderr/file still has it
        finally:
            self._busy.active = False


class LogSetup:
    """Owns the handlers installed on the root logger, so secrets can be updated in one place."""

    def __init__(self, level: str = "INFO", log_file: Path | None = None) -> None:
        self.filter = SecretFilter()
        self.level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        self._handlers: list[logging.Handler] = []
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        handler: logging.Handler
        if log_file is not None:
            _create_private(log_file)
            handler = logging.FileHandler(log_file, encoding="utf-8")
        else:
            handler = logging.StreamHandler()  # stderr: stdout belongs to the protocol
        handler.setFormatter(formatter)
        self._add(handler)

        root = logging.getLogger()
        root.setLevel(min(self.level, logging.INFO))
        logging.getLogger(LOGGER_NAME).setLevel(self.level)
        # pygls logs every message body at INFO: costly on the typing path, and noisy.
        logging.getLogger("pygls").setLevel(
            logging.DEBUG if self.level <= logging.DEBUG else logging.WARNING
        )

    def _add(self, handler: logging.Handler) -> None:
        handler.addFilter(self.filter)
        logging.getLogger().addHandler(handler)
        self._handlers.append(handler)

    def bridge_to_client(self, send: Callable[[int, str], None]) -> ClientLogHandler:
        """Start forwarding records to the client (after `initialize`)."""
        handler = ClientLogHandler(send, level=max(self.level, logging.INFO))
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self._add(handler)
        return handler

    def unbridge(self) -> None:
        """Stop forwarding records to the client (a TCP client left; the next gets its own)."""
        for handler in [h for h in self._handlers if isinstance(h, ClientLogHandler)]:
            logging.getLogger().removeHandler(handler)
            self._handlers.remove(handler)

    def close(self) -> None:
        root = logging.getLogger()
        for handler in self._handlers:
            root.removeHandler(handler)
            handler.close()
        self._handlers.clear()


def _create_private(log_file: Path) -> None:
    """Create the log file 0600 (and missing directories 0700) before logging opens it: with
    DEBUG it holds message bodies (source code, chat text). An existing file and existing
    directories keep the mode the user gave them."""
    from .secrets.at_rest import FILE_MODE, private_directory

    private_directory(log_file.parent, tighten=False)
    os.close(os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE))
