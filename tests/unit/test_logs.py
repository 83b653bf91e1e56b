"""Logging: secrets are scrubbed from every record; debug never reaches the client as type 5."""

from __future__ import annotations

import logging

import pytest

from kimi_lsp.logs import ClientLogHandler, SecretFilter, lsp_message_type

KEY = "mk-0123456789abcdefXYZ"


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("pygls", logging.INFO, __file__, 1, msg, args, exc_info)


def test_configured_key_is_removed_from_message_args_and_traceback() -> None:
    f = SecretFilter()
    f.set_secrets({KEY, None, "ab"})
    record = _record("params %s", {"initializationOptions": {"k": KEY}})
    f.filter(record)
    assert KEY not in record.getMessage() and "[REDACTED]" in record.getMessage()
    try:
        raise RuntimeError(f"failed with {KEY}")
    except RuntimeError as exc:
        record = _record("boom", exc=exc)
    f.filter(record)
    assert record.exc_text and KEY not in record.exc_text


@pytest.mark.parametrize(
    "text",
    [
        '{"apiKey": "whatever-secret-value"}',
        "Authorization: Bearer abcdefghijklmnop",
        "key sk-abcdefghijklmnopqrstu used",
        "api_key=hunter2hunter2",
    ],
)
def test_key_shaped_strings_are_masked_before_the_key_is_known(text: str) -> None:
    out = SecretFilter().redact(text)
    assert "[REDACTED]" in out
    for secret in ("whatever-secret-value", "abcdefghijklmnop", "hunter2hunter2"):
        assert secret not in out


def test_ordinary_text_is_untouched() -> None:
    text = "Initialized for Neovim 0.11; position encoding utf-8"
    assert SecretFilter().redact(text) == text


def test_message_types_never_debug() -> None:
    assert [lsp_message_type(lv) for lv in (40, 30, 20, 10, 5)] == [1, 2, 3, 4, 4]


def test_client_handler_levels_and_reentrancy() -> None:
    sent: list[tuple[int, str]] = []
    handler = ClientLogHandler(lambda kind, text: sent.append((kind, text)), logging.INFO)
    handler.emit(logging.LogRecord("kimi_lsp.x", logging.INFO, "", 1, "ours", None, None))
    handler.emit(logging.LogRecord("pygls.x", logging.INFO, "", 1, "theirs", None, None))
    handler.emit(logging.LogRecord("pygls.x", logging.WARNING, "", 1, "warn", None, None))
    assert [text for _, text in sent] == ["ours", "warn"]

    def failing(kind: int, text: str) -> None:
        handler.emit(logging.LogRecord("kimi_lsp", logging.ERROR, "", 1, "again", None, None))
        raise BrokenPipeError

    handler = ClientLogHandler(failing)
    handler.emit(logging.LogRecord("kimi_lsp", logging.ERROR, "", 1, "first", None, None))
