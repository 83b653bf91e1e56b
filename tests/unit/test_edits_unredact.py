"""A reply that echoes `[REDACTED:…]` markers gets the user's real secrets back, or is refused."""

from __future__ import annotations

import pytest

from kimi_lsp.edits.unredact import restore_secrets
from kimi_lsp.errors import RequestFailedError
from kimi_lsp.secrets.redact import redact

AWS = "AKIA" + "Q3X7ZK2M9PLW4RTY"
GITHUB = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed9Cb8"
KEY = "sk-test-configured-0123456789"
ORIGINAL = f'AWS_KEY = "{AWS}"\nTOKEN = "{GITHUB}"\nCLIENT = make("{KEY}")\n'


def test_markers_the_model_kept_get_their_values_back() -> None:
    seen = redact(ORIGINAL, extra=[KEY]).text
    assert AWS not in seen and GITHUB not in seen and KEY not in seen
    reply = seen.replace("AWS_KEY", "aws_key: str").replace("TOKEN", "token: str")
    restored = restore_secrets(reply, ORIGINAL, KEY, patterns=True)
    assert restored == ORIGINAL.replace("AWS_KEY", "aws_key: str").replace("TOKEN", "token: str")


def test_a_reply_without_markers_is_untouched() -> None:
    assert restore_secrets("x = 1\n", ORIGINAL, KEY, patterns=True) == "x = 1\n"


def test_dropping_a_secret_is_fine_when_nothing_is_ambiguous() -> None:
    seen = redact(ORIGINAL, extra=[KEY]).text
    reply = "\n".join(line for line in seen.splitlines() if "TOKEN" not in line) + "\n"
    restored = restore_secrets(reply, ORIGINAL, KEY, patterns=True)
    assert GITHUB not in restored and AWS in restored and KEY in restored


@pytest.mark.parametrize(
    "reply",
    [
        'A = "[REDACTED:aws-access-key-id]"\nB = "[REDACTED:aws-access-key-id]"\n',  # one more
        'X = "[REDACTED:slack-token]"\n',  # a kind the original did not hide
    ],
)
def test_markers_that_cannot_be_placed_are_refused(reply: str) -> None:
    with pytest.raises(RequestFailedError, match="cannot tell which value goes where"):
        restore_secrets(reply, ORIGINAL, KEY, patterns=True)


def test_two_different_values_of_a_kind_with_one_kept_is_refused() -> None:
    other = "AKIA" + "ZZ3X7ZK2M9PLW4RT"
    original = f'A = "{AWS}"\nB = "{other}"\n'
    reply = 'A = "[REDACTED:aws-access-key-id]"\n'
    with pytest.raises(RequestFailedError):
        restore_secrets(reply, original, None, patterns=True)
