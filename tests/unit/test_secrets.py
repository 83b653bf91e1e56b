"""Secrets never leave: secret files are refused, secret-looking strings replaced by markers."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.secrets import patterns
from kimi_lsp.secrets import redact as secrets
from kimi_lsp.secrets.checks import pem_spans
from kimi_lsp.secrets.files import maybe_secret_file, needs_head, secret_file_reason
from kimi_lsp.secrets.redact import KINDS, MARKER, Redactor, redact

# Fake values in real formats (AWS's and GitHub's documented examples and the like), built by
# concatenation so this file itself does not look like it leaks keys.
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_TEMP_ID = "ASIA" + "Y3FQ7XKZ2M9PLW4R"  # a temporary (STS) access key id
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
GHP = "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a"
GHO = "gho_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hI6"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_HOOK = "hooks.slack.com/services/" + "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
OPENAI = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
MOONSHOT = "sk-" + "9aB8cD7eF6gH5iJ4kL3mN2oP1qR0sT9uV8wX7yZ6aB5cD4eF"
GOOGLE = "AIza" + "SyA1234567890abcdefghijklmnopqrstuv"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
JWT = (
    "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_BODY = (
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
)
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + PEM_BODY + "-----END RSA PRIVATE KEY-----"
NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GITLAB = "glpat-" + "xY9zA8bC7dE6fG5hI4jK"
HF = "hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"[:34]
PYPI = "pypi-AgEIcHlwaS5vcmc" + "CJGI4ZjE5ZTUzLTZiNzYtNDU4Yi1hNzIyLWQ5YWQ1ZjM0NmM2OQ"

# (line with {} where the secret goes, the secret, the marker kind)
SECRET_LINES = [
    ("AWS_ACCESS_KEY_ID={}", AWS_ID, "aws-access-key-id"),
    ("AWS_ACCESS_KEY_ID={}", AWS_TEMP_ID, "aws-access-key-id"),
    ("aws_secret_access_key = {}", AWS_SECRET, "aws-secret-access-key"),
    ("GITHUB_TOKEN={}", GHP, "github-token"),
    ('oauth: "{}"', GHO, "github-token"),
    ('pat = "{}"', GITHUB_PAT, "github-token"),
    ('SLACK_BOT_TOKEN="{}"', SLACK, "slack-token"),
    ('webhook = "https://{}"', SLACK_HOOK, "slack-webhook"),
    ('client = OpenAI(api_key="{}")', OPENAI, "api-key"),
    ("MOONSHOT_API_KEY={}", MOONSHOT, "api-key"),
    ("kimi --key {} chat", MOONSHOT, "api-key"),
    ('maps_key = "{}"', GOOGLE, "google-api-key"),
    ('stripe.api_key = "{}"', STRIPE, "stripe-key"),
    ('headers = {{"Authorization": "Bearer {}"}}', JWT, "jwt"),
    ("DATABASE_URL=postgres://app:{}@db.internal:5432/app", "s3cr3t-P4ss", "url-password"),
    ('password = "{}"', "Tr0ub4dor&3xyz", "password"),
    ('"client_secret": "{}",', "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "secret"),
    ("DB_PASSWORD: {}", "hunter2-Xq9!zz", "password"),
    ('secretKey := "{}"', "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==", "secret"),
    ("export API_TOKEN={}", "tok_8f7e6d5c4b3a2918f7e6d5c4", "token"),
    (
        'curl -H "Authorization: Bearer {}" https://api.example.com',
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "bearer-token",
    ),
    ('const apiKey = "{}";', "Q2xhdWRlQ29kZXIxMjM0NTY3ODkw", "api-key"),
    ('password: str = "{}"', "Sup3r-S3cret!", "password"),
    ("settings['DB_PASS'] = '{}'", "pa55w0rd!Xyz", "password"),
    ('auth_token: "{}"', "4f3c2b1a09f8e7d6c5b4a3928176", "token"),
    ('private_key = "{}"', "3f1e9a7c5b3d1f0e8c6a4b2d0f9e7c5a3b1d9f7e5c3a1b0d", "private-key"),
    ("//registry.npmjs.org/:_authToken={}", NPM, "npm-token"),
    ("NPM_TOKEN: {}", NPM, "npm-token"),
    ('gitlab = Gitlab(url, private_token="{}")', GITLAB, "gitlab-token"),
    ("huggingface-cli login --token {}", HF, "huggingface-token"),
    ("twine upload -p {} dist/*", PYPI, "pypi-token"),
    ("[pypi]\nusername = __token__\npassword = {}", "s3cr3t-pypi-pass", "password"),
    ("key:\n{}\n", PEM, "private-key"),
]


@pytest.mark.parametrize(("line", "secret", "kind"), SECRET_LINES)
def test_each_sample_is_redacted_and_no_part_of_it_survives(
    line: str, secret: str, kind: str
) -> None:
    text = line.format(secret)
    result = redact(text)
    assert secret not in result.text
    for chunk in (secret[i : i + 12] for i in range(0, len(secret) - 12, 6)):
        assert chunk not in result.text
    assert f"[REDACTED:{kind}]" in result.text
    assert result.count >= 1 and kind in result.kinds and kind in KINDS


@pytest.mark.parametrize("key_id", [AWS_ID, AWS_TEMP_ID], ids=["AKIA", "ASIA"])
@pytest.mark.parametrize(
    "line",
    ['session = ("{}", region)', "{}", "creds: {} expires at noon", "aws sts get ... -> {}"],
)
def test_long_term_and_temporary_aws_key_ids_are_redacted_anywhere(line: str, key_id: str) -> None:
    """AKIA (long-term) and ASIA (temporary, STS) access key ids, where no name says "key": only
    the AWS pattern can catch them (narrowing it to AKIA lets ASIA keys reach the API)."""
    result = redact(line.format(key_id))
    assert key_id not in result.text and key_id[4:] not in result.text
    assert result.kinds == ("aws-access-key-id",)
    assert result.text == line.format("[REDACTED:aws-access-key-id]")


def test_aws_ids_that_are_not_access_keys_are_left_alone() -> None:
    """The pattern means access key ids only: a role's or a user's unique id is no secret."""
    for prefix in ("AROA", "AIDA"):
        text = f"principal = {prefix}Y3FQ7XKZ2M9PLW4R"
        assert redact(text).text == text


def test_a_connection_string_keeps_its_scheme_user_and_host() -> None:
    result = redact("DATABASE_URL=postgres://app:s3cr3t-P4ss@db.internal:5432/app")
    assert result.text == "DATABASE_URL=postgres://app:[REDACTED:url-password]@db.internal:5432/app"


ORDINARY_LINES = [
    "token = get_token()",
    "password = input()",
    'api_key = os.environ["KEY"]',
    'api_key = os.getenv("KIMI_API_KEY", "")',
    'password = "changeme"',
    'api_key = "<your key>"',
    'secret = "xxx"',
    'SECRET_KEY = "your-secret-key-here-change-me"',
    'token_type = "bearer"',
    'auth_url = "https://auth.example.com/oauth2/token"',
    'TOKEN_ENV = "KIMI_API_KEY"',
    'tokenizer = load_tokenizer("cl100k_base")',
    'author = "Jane Doe <jane@example.com>"',
    "if password == other_password:",
    "def check_password(password: str) -> bool:",
    'password_field = "password_confirmation"',
    "secret_key = settings.SECRET_KEY",
    'headers = {"Authorization": f"Bearer {token}"}',
    "git clone git@github.com:org/repo.git",
    'name = "task-management-service-configuration-v2"',
    "for token in tokens:",
    "self.token = token",
    'sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    "const apiKey = process.env.API_KEY;",
    "api_key: str | None = None",
    'password: str = field(default="")',
    "PASSWORD_MIN_LENGTH = 12",
    '"token": token,',
    "access_token = response.json()['access_token']",
    "token = tokens.pop()",
    "secret = generate_secret(32)",
    'PRIVATE_KEY_PATH = "~/.ssh/id_ed25519"',
    'token_url = "/oauth/token"',
    'password = getpass.getpass("Password: ")',
    'secret_name = "prod/db/credentials"',
    'AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"',
    'url = "postgres://user:password@localhost/db"',
    'DB_PASSWORD: "${DB_PASSWORD}"',
    "private_key: PKCS7PrivateKeyTypes,",
    'ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"',
    'PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"  # and its END marker, no key between',
    "https://docs.example.com/a/b?c=d#e",
]


@pytest.mark.parametrize("line", ORDINARY_LINES)
def test_ordinary_code_is_not_touched(line: str) -> None:
    result = redact(line)
    assert (result.text, result.count, result.kinds) == (line, 0, ())


def test_an_open_document_loses_every_secret_and_keeps_its_code() -> None:
    document = "\n".join(
        [
            '"""Settings for the payments service."""',
            "import os",
            "",
            f'STRIPE_KEY = "{STRIPE}"',
            "TIMEOUT = 30",
            f"AWS = {{'id': '{AWS_ID}', 'secret': '{AWS_SECRET}'}}",
            'def connect(url: str = "postgres://svc:Pg-9x!long@db:5432/pay") -> None:',
            "    token = os.environ.get('TOKEN')",
            f"    return client(token=token, fallback='{GHP}')",
            f"KEY = '''\n{PEM}\n'''",
        ]
    )
    result = redact(document)
    for secret in (STRIPE, AWS_ID, AWS_SECRET, "Pg-9x!long", GHP, PEM_BODY.splitlines()[0]):
        assert secret not in result.text
    for code in ("import os", "TIMEOUT = 30", "token = os.environ.get('TOKEN')", "def connect("):
        assert code in result.text
    assert result.count == 6


def test_a_key_block_cut_off_by_a_window_is_redacted_to_the_end() -> None:
    window = "x = 1\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEM_BODY
    assert redact(window).text == "x = 1\n[REDACTED:private-key]"


def test_the_configured_key_goes_even_with_patterns_off() -> None:
    key = "kimi-" + "test-key-0123456789"
    text = f"KIMI_API_KEY={key}\nprint('{key}')\nAWS={AWS_ID}\n"
    off = redact(text, extra=[key], patterns=False)
    assert key not in off.text and off.count == 2 and off.kinds == ("configured-secret",)
    assert AWS_ID in off.text  # `redactSecrets: false` turns the patterns off, not the key
    on = redact(text, extra=[key])
    assert key not in on.text and AWS_ID not in on.text
    assert on.kinds == ("aws-access-key-id", "configured-secret")


def test_empty_or_tiny_extra_strings_are_ignored() -> None:
    assert redact("a b c", extra=["", "a"], patterns=False).text == "a b c"


def test_adversarial_input_is_left_alone() -> None:
    # Near-misses of every shape the patterns look for; none is a secret (a value over 500
    # characters is not a credential). Speed on these is measured in bench/unit_speed.py.
    code = "def f(x):\n    token = compute(x)  # the auth token\n    return x + 1\n" * 40_000
    for text in (
        code,
        "-----BEGIN RSA PRIVATE KEY-----" * 20_000,
        "password=" + "a" * 200_000,
        "sk-" * 100_000,
        "eyJ" + "a" * 100_000 + "." + "b" * 100_000,
    ):
        result = redact(text)
        assert (result.count, result.text) == (0, text)


SECRET_FILES = [
    (".env", ".env"),
    ("app/.env.production", ".env"),
    (".env.local", ".env"),
    (".envrc", ".envrc"),
    ("deploy/prod.env", "*.env"),
    ("certs/server.pem", "*.pem"),
    ("tls/server.key", "*.key"),
    ("keystore.p12", "*.p12"),
    ("cert.pfx", "*.pfx"),
    ("android/release.jks", "*.jks"),
    ("app.keystore", "*.keystore"),
    (".ssh/id_rsa", "private key"),
    ("id_ed25519", "private key"),
    ("keys/id_ecdsa_backup", "private key"),
    (".netrc", "credentials file"),
    (".pgpass", "credentials file"),
    (".aws/credentials", "credentials file"),
    ("gcloud/credentials.json", "credentials file"),
    (".git-credentials", "credentials file"),
    ("service-account-prod.json", "service account key"),
    ("ci/deploy-credentials.json", "credentials file"),
    (".htpasswd", "password file"),
    ("vault.kdbx", "password database"),
    ("config/secrets.yml", "secrets file"),
    ("secrets.json", "secrets file"),
    (".docker/config.json", "credentials file"),
    ("terraform.tfstate", "terraform state"),
]


@pytest.mark.parametrize(("rel", "what"), SECRET_FILES)
def test_secret_files(rel: str, what: str) -> None:
    assert secret_file_reason(rel) == f"secret file ({what})"


@pytest.mark.parametrize(
    "rel",
    [
        ".env.example",
        "config/.env.sample",
        ".env.template",
        ".ssh/id_rsa.pub",
        "id_ed25519.pub",
        "main.py",
        "config.json",
        "src/keys.py",
        "docs/environment.md",
        "public_key.txt",
        "credentials.py",
        "service-account.md",
    ],
)
def test_ordinary_files_are_not_secret(rel: str) -> None:
    assert secret_file_reason(rel) is None


@pytest.mark.parametrize("name", [".npmrc", ".pypirc", ".yarnrc.yml", "pip.conf"])
def test_package_manager_configs_are_secret_only_with_credentials(name: str) -> None:
    assert needs_head(f"sub/{name}")
    assert secret_file_reason(name) is not None  # unread: assume the worst
    assert secret_file_reason(name, b"registry=https://registry.npmjs.org/\n") is None
    for head in (
        b"//registry.npmjs.org/:_authToken=" + NPM.encode(),
        b"_auth=dXNlcjpwYXNz\n",
        b"[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc\n",
        b"npmAuthToken: abc123\n",
        b"[global]\nindex-url = https://user:s3cret@pypi.example.com/simple\n",
    ):
        assert secret_file_reason(name, head) == f"secret file ({name} with credentials)"
    assert not needs_head("main.py")


# Secrets that say what they are wherever they stand, for the property tests.
PLANTED = [
    AWS_ID,
    GHP,
    GITHUB_PAT,
    SLACK,
    OPENAI,
    MOONSHOT,
    GOOGLE,
    STRIPE,
    JWT,
    NPM,
    GITLAB,
    HF,
    PYPI,
]
noise = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60
) | st.sampled_from(
    ['password = "', "token: ", "-----BEGIN RSA PRIVATE KEY-----", "://u:", "@h", "'", '"', "="]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(noise, st.sampled_from(PLANTED)), max_size=8), noise)
def test_planted_secrets_never_survive_and_redaction_is_idempotent(
    pieces: list[tuple[str, str]], tail: str
) -> None:
    text = "".join(f"{before}\n{secret}\n" for before, secret in pieces) + tail
    once = redact(text)
    for _, secret in pieces:
        assert secret not in once.text
    assert redact(once.text).text == once.text


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(min_size=6, max_size=20), max_size=2), st.booleans())
def test_redact_never_raises_and_is_idempotent(text: str, extra: list[str], patterns: bool) -> None:
    once = redact(text, extra=extra, patterns=patterns)
    assert redact(once.text, extra=extra, patterns=patterns).text == once.text
    assert set(once.kinds) <= set(KINDS)
    for secret in extra:
        if (
            "[" not in secret
            and "]" not in secret
            and secret not in "".join(map(MARKER.format, KINDS))
        ):
            assert secret not in once.text


# --- the shared scans find what one scan per family finds ---------------------------------------


def one_scan_per_family(buf: bytes) -> list[tuple[int, int, int, str]]:
    """What `_spans` must return: each family's matches found by its own search loop."""
    low = buf.lower()
    spans = pem_spans(buf) if b"PRIVATE KEY" in buf else []
    for rx, lowered, lead, check in patterns.PASSES:
        subject = low if lowered else buf
        pos = 0
        while (m := rx.search(subject, pos)) is not None:
            start = m.start() - len(lead)
            span = None
            if start >= 0 and subject.startswith(lead, start):
                span = check(buf, m, start)
            if span is None:
                pos = m.start() + 1
            else:
                spans.append(span)
                pos = m.end()
    return spans


# Anchors of every family, in several cases, and what stands around them.
FRAGMENTS = [
    *("AKIA", "ASIA", "akia", "ghp_", "gho_", "github_pat_", "xoxb-", "XOXP-", "sk-", "SK-"),
    *("sk_live_", "rk_test_", "AIza", "npm_", "glpat-", "hf_", "pypi-AgE", "pypi-age", "eyJ"),
    *("EYJ", "hooks.slack.com/services/", "hooks.slack.com/", "://", "https://u:", "@", "/"),
    *("bearer ", "Bearer\t", "pass", "PASS", "passwd", "passphrase", "pwd", "secret", "Secret"),
    *("token", "TOKEN", "key", "api_key", "api-key", "apiKey", "access_key", "privatekey"),
    *("credential", "auth", "authorization", "Authorization: ", "PRIVATE KEY", "[REDACTED:token]"),
    *("-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", PEM_BODY[:40]),
    *(" = ", "=", ":", ": ", ":=", "=>", "==", '"', "'", "`", "\n", " ", "-", "_", ".", "]"),
    *("(", "#", ",", "$", "{", "}", "a1B2c3D4e5F6g7H8i9J0", "ABCDEFGHIJ0123456789", "xyzw"),
    *("Tr0ub4dor&3xyz", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "abcdefghijklmnopqrstuvwxyzABCDEFGH"),
]
NAMES = ["pass", "password", "pwd", "DB_PASSWD", "secret", "client_secret", "token", "authToken"]
NAMES += ["api_key", "x-api-key", "accessKey", "private_key", "credential", "auth", "Authorization"]
VALUES = ["Tr0ub4dor&3xyz", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "hunter2-Xq9!zz", "get()", "x"]
assignments = st.tuples(
    st.sampled_from(NAMES),
    st.sampled_from(["", "_x", '"', "']"]),
    st.sampled_from([" = ", "=", ": ", ":=", " => ", ": str = ", "=="]),
    st.sampled_from(["", '"', "'", "`", "b'"]),
    st.sampled_from(VALUES),
).map("".join)
fragments = st.lists(
    st.sampled_from(FRAGMENTS) | st.sampled_from(PLANTED) | assignments | noise, max_size=24
)


@settings(max_examples=1000, deadline=None)
@given(fragments)
def test_the_shared_scans_find_what_one_scan_per_family_finds(pieces: list[str]) -> None:
    buf = "".join(pieces).encode("utf-8", "surrogatepass")
    assert secrets._spans(buf) == one_scan_per_family(buf)


def test_the_shared_scans_agree_on_the_samples_and_real_code() -> None:
    samples = [line.format(secret) for line, secret, _ in SECRET_LINES]
    samples += [*ORDINARY_LINES, PEM, PEM[:60], "\n".join(PLANTED)]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    samples += [p.read_text("utf-8", "replace") for p in sorted(stdlib.glob("*.py"))[::10]]
    for text in samples:
        buf = text.encode("utf-8", "surrogatepass")
        assert secrets._spans(buf) == one_scan_per_family(buf), text[:80]


def test_every_family_is_found_by_a_shared_scan() -> None:
    families = {index for _, _, fams in patterns.LOCATOR_TABLE for index, _, _ in fams}
    assert families == {*range(len(patterns.PASSES)), patterns.PEM}


# --- a cheap test before secret_file_reason ----------------------------------------------------

NAME_PARTS = [
    *(".env", ".ENV", ".envrc", ".env.example", "id_rsa", "ID_RSA", "id_ed25519", ".pub", ".pem"),
    *(".key", ".P12", ".kdbx", ".ppk", ".tfstate", "-credentials.json", "credentials", ".json"),
    *("service-account", ".netrc", "_netrc", ".npmrc", ".pypirc", "pip.conf", "config", ".docker"),
    *("secrets.yml", ".htpasswd", ".vault-token", ".dockercfg", "main", ".py", "x", "-", "/"),
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(NAME_PARTS), min_size=1, max_size=4).map("".join))
def test_no_secret_file_gets_past_the_cheap_test(rel: str) -> None:
    name = rel.rsplit("/", 1)[-1]
    for head in (None, b"", b"_authToken=abc\n"):
        if secret_file_reason(rel, head) is not None:
            assert maybe_secret_file(name), rel
    for known, _ in SECRET_FILES:
        assert maybe_secret_file(known.rsplit("/", 1)[-1])


def test_a_password_that_happens_to_contain_a_template_marker_is_still_redacted() -> None:
    # The secrets audit's random passwords found it: one in ~170 contains "%s".
    for value in ("jnhQvlEl4e%syUSqkPkLhdl5", "q%sXXqYWWrYs5HIO#4tA7Zgi"):
        assert value not in redact(f'password = "{value}"\n').text
    for template in ("%s", "${DB_PASSWORD}", "{password}", "pw-%s-x"):
        assert template in redact(f'password = "{template}"\n').text


def test_the_keys_of_other_endpoints_are_removed_like_the_main_one() -> None:
    """A role's or fallback's key (from its apiKeyEnv) typed into a prompt never leaves: the
    redactor knows every configured key, with patterns off too."""
    from kimi_lsp.config import Source, resolve

    env = {"RELAY_KEY": "relaykey-0123456789zyxwvut", "EDIT_KEY": "editkey-9876543210abcdefg"}
    values = {
        "apiKey": "mainkey-abcdefghij0123456789",
        "models": {
            "edit": {"model": "m", "baseUrl": "http://127.0.0.1:9/v1", "apiKeyEnv": "EDIT_KEY"}
        },
        "fallback": [
            {"model": "kimi-k2.6", "baseUrl": "https://relay.example/v1", "apiKeyEnv": "RELAY_KEY"}
        ],
    }
    configured = resolve([Source("client", values)], env=env).settings
    text = f"keys: {configured.api_key} {env['RELAY_KEY']} {env['EDIT_KEY']}"
    for with_patterns in (True, False):
        out, count = Redactor(configured.api_key, with_patterns, configured.api_keys())(text)
        assert count == 3 and not any(v in out for v in (*env.values(), configured.api_key or "x"))
