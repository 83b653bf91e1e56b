"""Edges of the secrets modules that the first mutation run found untested (docs/mutation.md):
secret files in nested directories, the configured keys a redactor uses, which extra strings are
never used because a marker could contain them, and how private files are written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kimi_lsp.secrets import at_rest
from kimi_lsp.secrets.files import needs_head, secret_file_reason
from kimi_lsp.secrets.redact import Redactor, redact

AWS_ID = "AKIA" + "Q3X7ZK2M9PLW4RTY"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


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


# ---------------------------------------------------------------- files kept on disk


@posix_only
def test_a_directory_another_process_made_meanwhile_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = tmp_path / "made"
    made.mkdir(mode=0o700)
    real_is_dir = Path.is_dir
    # The check runs before the other process's mkdir; ours then finds the directory there.
    monkeypatch.setattr(Path, "is_dir", lambda self: self != made and real_is_dir(self))
    at_rest.private_directory(made)
    assert stat.S_IMODE(os.stat(made).st_mode) == 0o700


@posix_only
@pytest.mark.parametrize(("mode", "after"), [(0o755, 0o700), (0o655, 0o700), (0o500, 0o500)])
def test_only_group_or_other_bits_make_our_directory_tightened(
    tmp_path: Path, mode: int, after: int
) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    os.chmod(directory, mode)
    at_rest.private_directory(directory)
    assert stat.S_IMODE(os.stat(directory).st_mode) == after


@posix_only
def test_a_directory_someone_else_owns_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "theirs"
    directory.mkdir()
    os.chmod(directory, 0o755)
    monkeypatch.setattr(at_rest.os, "geteuid", lambda: os.stat(directory).st_uid + 1)
    at_rest.private_directory(directory)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o755


def test_the_temporary_file_is_hidden_beside_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved: list[str] = []
    real_replace = os.replace

    def replace(source: str, target: Path) -> None:
        moved.append(source)
        real_replace(source, target)

    monkeypatch.setattr(at_rest.os, "replace", replace)
    target = tmp_path / "conv.json"
    at_rest.write_private(target, b"{}")
    [temporary] = moved
    # Beside the target (os.replace is atomic only within one filesystem), hidden, and named
    # so that a directory watcher or a listing can tell it from a conversation.
    assert Path(temporary).parent == tmp_path
    assert Path(temporary).name.startswith(".conv.json.") and temporary.endswith(".tmp")
    assert target.read_bytes() == b"{}"


def test_a_failed_write_leaves_no_temporary_file_and_keeps_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def replace(source: str, target: Path) -> None:
        raise OSError("replace failed")

    monkeypatch.setattr(at_rest.os, "replace", replace)
    with pytest.raises(OSError, match="replace failed"):
        at_rest.write_private(tmp_path / "conv.json", b"{}")
    assert list(tmp_path.iterdir()) == []

    def unlink(path: str) -> None:
        raise OSError("unlink failed")

    monkeypatch.setattr(at_rest.os, "unlink", unlink)
    with pytest.raises(OSError, match="replace failed"):
        at_rest.write_private(tmp_path / "conv.json", b"{}")


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize(
    "word", ["password", "pass", "passwd", "secret", "PASS", "Passwd", "SECRET"]
)
def test_a_url_whose_password_is_a_placeholder_word_is_left_alone(word: str) -> None:
    text = f"DATABASE_URL=postgres://app:{word}@db.internal/app"
    assert redact(text).text == text


@pytest.mark.parametrize("value", ["abababababababab12", "aaaabbbb11112222"])
def test_a_bearer_value_with_digits_but_little_entropy_is_left_alone(value: str) -> None:
    text = f"Authorization: Bearer {value}"
    assert redact(text).text == text


@pytest.mark.parametrize("value", ["abcdefghijklmnopqrstuvwxyz", "ZxqWeRtYuIoPLmNb"])
def test_a_bearer_value_without_digits_is_left_alone(value: str) -> None:
    text = f"Authorization: Bearer {value}"
    assert redact(text).text == text


def test_a_bearer_value_at_exactly_the_entropy_floor_is_a_secret() -> None:
    # Eight symbols, each twice: exactly 3 bits per character, the floor itself.
    assert redact("Authorization: Bearer abcdefg1abcdefg1").kinds == ("bearer-token",)


def test_a_value_exactly_four_fifths_words_reads_as_words() -> None:
    # 16 letters of words in 20 characters: at the 0.8 threshold, so not a key.
    text = 'secret = "abcdefghijklmnop____"'
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('api_key = "Zx9qWe7rTy5uIo3pLm2n"', "api-key"),
        ('access_key = "Zx9qWe7rTy5uIo3pLm2n"', "access-key"),
        ('AccessKey: "Zx9qWe7rTy5uIo3pLm2n"', "access-key"),
        ('private_key = "Zx9qWe7rTy5uIo3pLm2n"', "private-key"),
        # only the eight bytes before `key` name it: an `api` further back does not
        ('apiaccesskey = "Zx9qWe7rTy5uIo3pLm2n"', "access-key"),
    ],
)
def test_a_key_is_named_by_what_precedes_it(line: str, kind: str) -> None:
    assert redact(line).kinds == (kind,)


# ---------------------------------------------------------------- assigned values


@pytest.mark.parametrize(
    "line",
    [
        'password = "[REDACTED:configured-secret]"',  # already a marker: redaction is idempotent
        'password = "x1x1x1x1x1x1"',  # two symbols: a placeholder
        'password = "<Zx9qWe7rTy5u>"',  # <...>: a placeholder
        'password = "ftp://Zx9qWe7rTy5u"',  # a URL (its password part has its own pattern)
        'password = "Zx9q\tWe7rTy5u"',  # whitespace: prose, not a password
        'password = "Zx9qWe7"',  # under 8 characters
        'token = "Zx9qWe7rTy5u"',  # under 16 characters for a token
    ],
)
def test_assigned_values_that_are_not_secrets(line: str) -> None:
    assert redact(line).text == line


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('password = "x1yx1yx1yx1y"', "password"),  # three symbols are enough
        ('password = "<x9Qw2Lm7Zp4"', "password"),  # only one angle bracket
        ('password = "x9Qw2Lm7Zp4>"', "password"),
        ('password = "Zx9qWe7rTy5uIo3p%s"', "password"),  # 16 random characters around %s
        ('password = "abcdefg1%sabcdefg1"', "password"),  # ... at exactly the entropy floor
        ('password = "Zx9qWe7r"', "password"),  # exactly 8 characters
        ('token = "Zx9qWe7rTy5uIo3p"', "token"),  # exactly 16 characters
    ],
)
def test_assigned_values_at_the_edges_that_are_secrets(line: str, kind: str) -> None:
    result = redact(line)
    assert result.kinds == (kind,) and result.text.endswith(f'"[REDACTED:{kind}]"')
