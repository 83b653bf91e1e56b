"""Edges of the secrets modules that the first mutation run found untested (docs/mutation.md):
secret files in nested directories, the configured keys a redactor uses, and which extra strings
are never used because a marker could contain them."""

from __future__ import annotations

import pytest

from kimi_lsp.secrets.files import needs_head, secret_file_reason
from kimi_lsp.secrets.redact import Redactor, redact

AWS_ID = "AKIA" + "Q3X7ZK2M9PLW4RTY"


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("a/b/.env", "secret file (.env)"),
        ("deploy/prod/.env.production", "secret file (.env)"),
        ("home/me/.kube/config", "secret file (credentials file)"),
        ("a/b/.docker/config.json", "secret file (credentials file)"),
        ("a/.kube/config", "secret file (credentials file)"),
        ("a/kube/config", None),
        ("a/b/id_ed25519", "secret file (private key)"),
        ("a/b/id_ed25519.pub", None),
    ],
)
def test_secret_files_in_nested_directories(rel: str, reason: str | None) -> None:
    assert secret_file_reason(rel) == reason


@pytest.mark.parametrize(
    ("rel", "needs"),
    [(".npmrc", True), ("a/b/.npmrc", True), ("a/.pypirc", True), ("a/b/npmrc", False)],
)
def test_which_files_need_their_first_bytes(rel: str, needs: bool) -> None:
    assert needs_head(rel) is needs


@pytest.mark.parametrize("extra", ["abc]defgh", "abc[defgh", "REDACTED", "[REDACTED:"])
def test_extra_strings_a_marker_could_hold_are_never_used(extra: str) -> None:
    # Replacing them would rewrite the markers themselves (redaction stays idempotent).
    text = f"value = {extra}\n"
    assert redact(text, extra=[extra], patterns=False).text == text


def test_a_redactor_removes_a_six_character_key() -> None:
    assert Redactor("k3y-42", patterns=False)("use k3y-42 here") == (
        "use [REDACTED:configured-secret] here",
        1,
    )


def test_a_redactor_without_patterns_keeps_other_secret_looking_strings() -> None:
    key = "sk-test-configured-0123456789"
    text, count = Redactor(key, patterns=False)(f"a = '{AWS_ID}'\nb = '{key}'\n")
    assert text == f"a = '{AWS_ID}'\nb = '[REDACTED:configured-secret]'\n" and count == 1
    text, count = Redactor(key, patterns=True)(f"a = '{AWS_ID}'\n")
    assert AWS_ID not in text and count == 1
