"""Who may use a TCP listener: loopback hosts, the token file, and the initialize gate."""

from __future__ import annotations

import hmac
import ipaddress
import stat
from pathlib import Path
from typing import Any

TOKEN_OPTION = "tcpToken"


class TokenFileError(Exception):
    """The token file cannot be used; the message is one sentence for the person starting us."""


def is_loopback(host: str) -> bool:
    """Whether `host` only listens where other machines cannot connect (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def read_token_file(path: Path) -> str:
    """The token in `path` (surrounding whitespace stripped).

    Refused when others could read it (or replace it): a token they can read protects nothing.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise TokenFileError(f"The token file {path} is not a regular file.")
        if info.st_mode & 0o077:
            raise TokenFileError(
                f"The token file {path} is accessible by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}); make it private with chmod 600."
            )
        with path.open("rb") as handle:
            raw = handle.read(4097)
    except OSError as exc:
        raise TokenFileError(f"Cannot read the token file {path}: {exc.strerror}.") from None
    if len(raw) > 4096:
        raise TokenFileError(f"The token file {path} is over 4 KB; it should hold one token.")
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise TokenFileError(f"The token file {path} is not UTF-8 text.") from None
    if not token:
        raise TokenFileError(f"The token file {path} is empty.")
    return token


class Gate:
    """Admits a connection's first message only when it is `initialize` carrying the token.

    The token is removed from the message it admits, so neither the settings nor any log line
    built from initializationOptions ever holds it."""

    def __init__(self, token: str) -> None:
        self._token = token.encode("utf-8")

    def admits(self, message: Any) -> bool:
        if not isinstance(message, dict) or message.get("method") != "initialize":
            return False
        given = forget_token(message.get("params"))
        if not isinstance(given, str):
            return False
        # surrogatepass: a lone surrogate in the JSON must not raise before the comparison.
        return hmac.compare_digest(given.strip().encode("utf-8", "surrogatepass"), self._token)


def forget_token(params: Any) -> Any:
    """Remove tcpToken from initialize's params, returning it: past the gate nothing (the
    settings, pygls's debug log of the message) may see it."""
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    return options.pop(TOKEN_OPTION, None) if isinstance(options, dict) else None
