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


# ---------------------------------------------------------------- private keys and token edges

MATERIAL = "MIIEowIBAAKCAQEAx4k9Qw2Lm7Zp4Rt8Yu1Io3PaSdFgHjKlZxCvBnMqWeRtYuIoP"
BEGIN, END = "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"
KEY_BLOCK = f"{BEGIN}\n{MATERIAL}\n{END}"
PEM_MARK = "[REDACTED:private-key]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"x\n{KEY_BLOCK}\ny", f"x\n{PEM_MARK}\ny"),
        (f"{KEY_BLOCK}{KEY_BLOCK}\n", f"{PEM_MARK}{PEM_MARK}\n"),  # back to back
        (f"{BEGIN} {END} then\n{KEY_BLOCK}\n", f"{BEGIN} {END} then\n{PEM_MARK}\n"),
        (f"{BEGIN}\n{KEY_BLOCK}\nmid\n{KEY_BLOCK}\n", f"{PEM_MARK}\nmid\n{PEM_MARK}\n"),
        (f"x\n{BEGIN}\n{MATERIAL}\n", f"x\n{PEM_MARK}"),  # cut off before its END
    ],
)
def test_private_key_blocks(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        f"use {BEGIN} ... {END} markers",  # prose about keys: no material between
        f"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123 then {BEGIN} {END} prose",  # material only before
        f"{BEGIN} -----END ABCDEFGHIJKLMNOPQRSTUV PRIVATE KEY----- prose",
    ],
)
def test_key_markers_without_key_material_are_left_alone(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "key xk-proj1A2b3C4d5E6f7G8h9I0jKlMnOpQr",  # not `sk-`
        "k-proj1A2b3C4d5E6f7G8h9I0jKlMnOpQr is",  # no `s` before the text's first `k-`
        "key ask-proj1A2b3C4d5E6f7G8h9I0jKlMnOpQr",  # `sk-` inside a word
        "key _sk-proj1A2b3C4d5E6f7G8h9I0jKlMnOpQr",
        "key Xk_live_4eC39HqLyjWDarjtT1zdp7dc",  # Stripe keys are sk_/rk_ only
    ],
)
def test_key_prefixes_inside_words_are_left_alone(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-11111111111111111111A", "key [REDACTED:api-key]"),  # `A` is a letter too
        ("key sk-1abcdefghijklmnopqrstuv", "key [REDACTED:api-key]"),  # its digit comes first
        ("x = sk_live_4eC39HqLyjWDarjtT1zdp7dc", "x = [REDACTED:stripe-key]"),
        ('password = "sk-proj1A2b3C4d5E6f7G8h9I0jKlMnOpQr"', 'password = "[REDACTED:api-key]"'),
        ('token = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"', 'token = "[REDACTED:stripe-key]"'),
        ('token = "GetCallerIdentity2Request"', 'token = "[REDACTED:token]"'),  # has a digit
        ("token = Zx9qWe7rTy5uIo3p+/==", "token = [REDACTED:token]"),
        ('token = "abcdefg1abcdefg1"', 'token = "[REDACTED:token]"'),  # at the entropy floor
    ],
)
def test_keys_at_the_edges_are_redacted_by_their_own_kind(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "line",
    [
        'token = "/etc/Zx9qWe7rTy5uIo3p"',
        'token = "./Zx9qWe7rTy5uIo3p"',
        'token = "../Zx9qWe7rTy5uIo3p"',
        'token = "~/Zx9qWe7rTy5uIo3p"',
        'token = "settings.SECRET_KEY_Zx9q"',
        'token = "GetCallerIdentityRequest"',
        "token = access_token_value_here",
    ],
)
def test_paths_names_and_words_assigned_to_secret_names_are_left_alone(line: str) -> None:
    assert redact(line).text == line


def test_longer_extra_strings_go_first_and_values_keep_text_order() -> None:
    result = redact("k: secretvalue123 and secretvalue", extra=["secretvalue", "secretvalue123"])
    assert result.text == "k: [REDACTED:configured-secret] and [REDACTED:configured-secret]"
    assert result.values == {"configured-secret": ["secretvalue123", "secretvalue"]}


def test_lone_surrogates_survive_redaction() -> None:
    # Text from a client may hold lone surrogates (an editor's broken UTF-16): kept as they are.
    aws = "AKIA" + "Q3X7ZK2M9PLW4RTY"
    result = redact(f'x = "\udcff" {aws} "\ud800"')
    assert result.text == 'x = "\udcff" [REDACTED:aws-access-key-id] "\ud800"'
    assert result.values == {"aws-access-key-id": [aws]}
    assert redact(f"{aws}\udcff").values == {"aws-access-key-id": [aws]}
    url = redact("DATABASE_URL=postgres://app:s3cr3t\udcffP4ss@db/app")
    assert url.text == "DATABASE_URL=postgres://app:[REDACTED:url-password]@db/app"
    assert url.values == {"url-password": ["s3cr3t\udcffP4ss"]}


# ---------------------------------------------------------------- every variant each pattern names

A36 = "Zx9qWe7rTy5uIo3pLm2nBv4cXz6aSd8fGh1j"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        *[(f"{prefix}_{A36}", "github-token") for prefix in ("ghp", "gho", "ghu", "ghs", "ghr")],
        ("github_pat_" + "Zx9qWe7rTy5uIo3pLm2nBv", "github-token"),  # 22: the shortest
        *[(f"xox{c}-1234567890", "slack-token") for c in "abeprs"],  # 10: the shortest
        ("sk_test_" + "4eC39HqLyjWDarjt", "stripe-key"),  # test keys too; 16: the shortest
        ("sk-" + "proj1A2b3C4d5E6f7G8h", "api-key"),  # 20: the shortest
        ("pypi-AgE" + "Zx9qWe7rTy5uIo3pLm2nBv4cXz6aSd8fGh1jKl0m", "pypi-token"),  # 40
        ("eyJ" + "hbGciOiJ.eyJz.abcd", "jwt"),  # 8, 4 and 4: the shortest parts
    ],
)
def test_every_prefix_and_the_shortest_length_of_each_token(value: str, kind: str) -> None:
    assert redact(f"t = '{value}'").text == f"t = '[REDACTED:{kind}]'"


@pytest.mark.parametrize("path", ["services", "workflows", "triggers"])
def test_every_kind_of_slack_webhook(path: str) -> None:
    # 20 characters after the kind: the shortest that counts.
    text = f"u = 'https://hooks.slack.com/{path}/T0000/B0000/XXXXXXXX'"
    assert redact(text).text == "u = 'https://[REDACTED:slack-webhook]'"


def test_a_bearer_token_of_the_shortest_length() -> None:
    assert redact("Authorization: Bearer Zx9qWe7rTy5uIo3p").kinds == ("bearer-token",)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('PWD = "Zx9qWe7rTy5u"', "password"),
        ('SECRET = "Zx9qWe7rTy5uIo3pLm2n"', "secret"),
        ('DB_CREDENTIAL = "Zx9qWe7rTy5uIo3pLm2n"', "credential"),
        ('AUTH = "Zx9qWe7rTy5uIo3pLm2n"', "auth"),
        ('password: t = "Zx9qWe7rTy5u"', "password"),  # a one-letter type annotation
        ('password: t="Zx9qWe7rTy5u"', "password"),  # ... right before its `=`
        *[(f'password = {p}"Zx9qWe7rTy5u"', "password") for p in "rbuf"],
        *[(f"password = {p}'Zx9qWe7rTy5u'", "password") for p in "rbuf"],
    ],
)
def test_secret_names_in_capitals_and_prefixed_string_literals(line: str, kind: str) -> None:
    result = redact(line)
    assert result.kinds == (kind,) and "Zx9qWe7rTy5u" not in result.text


# ---------------------------------------------------------------- assigned names and overlaps


@pytest.mark.parametrize(
    "line",
    [
        '[REDACTED:password]: "Zx9qWe7rTy5u"',  # the name is a marker's kind, not a variable
        '[REDACTED:a] [REDACTED:password]: "Zx9qWe7rTy5u"',
        'tokenizer = "Zx9qWe7rTy5uIo3pLm2n"',  # the name goes on: not a secret name
        'tokenss = "Zx9qWe7rTy5uIo3pLm2n"',
        'password = "x9[REDACTED:api-key]7Q"',  # a marker inside: already redacted
        "token = xqzvbnmkwrtplkjhgfds",  # an unquoted identifier
    ],
)
def test_names_that_are_not_secret_names_and_values_already_redacted(line: str) -> None:
    assert redact(line).text == line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('[REDACTED:api-key] and password = "Zx9qWe7rTy5u"',
         '[REDACTED:api-key] and password = "[REDACTED:password]"'),
        ('password = "Zx9qWe7rTy5u" # [REDACTED:token]',
         'password = "[REDACTED:password]" # [REDACTED:token]'),
        ('tokens = "Zx9qWe7rTy5uIo3pLm2n"', 'tokens = "[REDACTED:token]"'),
        ('tokensFoo = "Zx9qWe7rTy5uIo3pLm2n"', 'tokensFoo = "[REDACTED:token]"'),
        ('AWS_ACCESS_KEY = "Zx9qWe7rTy5uIo3pLm2n"',
         'AWS_ACCESS_KEY = "[REDACTED:aws-secret-access-key]"'),
        ("t = 'ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ'", "t = '[REDACTED:github-token]'"),
        ("authhf_Zx9qWe7rTy5uIo3pLm2nBv4cXz6aSd8fGh = 1",
         "auth[REDACTED:huggingface-token] = 1"),  # two scan hits in a row
    ],
)  # fmt: skip
def test_secrets_next_to_markers_plurals_and_in_a_row(line: str, expected: str) -> None:
    assert redact(line).text == expected


def test_the_longest_of_overlapping_secrets_wins_and_later_ones_still_count() -> None:
    aws = "AKIA" + "Q3X7ZK2M9PLW4RTY"
    # A key id that is only the start of a longer secret value: the whole value goes.
    assert redact(f'secret = "{aws}extra123"').text == 'secret = "[REDACTED:secret]"'
    text = f'{BEGIN}\n{MATERIAL}\npassword = "Zx9qWe7rTy5u"\n{END}\nkey {aws}'
    assert redact(text).text == f"{PEM_MARK}\nkey [REDACTED:aws-access-key-id]"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        # a marker opened 40 bytes before the name still covers it; 41 bytes before, not
        ("[REDACTED:" + "x" * 30 + 'password]: "Zx9qWe7rTy5u"', None),
        ("[REDACTED:" + "x" * 31 + 'password]: "Zx9qWe7rTy5u"', "password"),
        # `aws` within 24 bytes before `key` names an AWS secret access key; further, not
        ('aws_prod_account_access_key = "Zx9qWe7rTy5uIo3pLm2n"', "aws-secret-access-key"),
        ('aws_prod_accounts_access_key = "Zx9qWe7rTy5uIo3pLm2n"', "access-key"),
    ],
)
def test_how_far_back_a_name_looks(line: str, kind: str | None) -> None:
    assert redact(line).kinds == (() if kind is None else (kind,))
