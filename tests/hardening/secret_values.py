"""Real-looking secrets for the audit: an API key, a workspace of secret files, secret strings."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def api_key() -> str:
    """A Moonshot-looking key: `sk-` and 48 letters and digits."""
    return "sk-" + _random(_ALNUM, 48)


def strings() -> dict[str, str]:
    """One fresh value per kind of secret string the redaction must catch."""
    upper = string.ascii_uppercase + string.digits
    return {
        "aws": "AKIA" + _random(upper, 16),
        "aws_temp": "ASIA" + _random(upper, 16),  # a temporary (STS) access key id
        "github": "ghp_" + _random(_ALNUM, 36),
        "slack": f"xoxb-{_random(string.digits, 12)}-{_random(string.digits, 13)}-"
        + _random(_ALNUM, 24),
        "openai": "sk-" + _random(_ALNUM, 48),
        "pem": _random(_ALNUM + "+/", 64),
        "password": _random(_ALNUM + "!#%", 24),
    }


def source_with(values: dict[str, str], name: str) -> str:
    """An ordinary Python module holding every kind of secret string."""
    return (
        f'"""{name}: settings."""\n\n'
        f'AWS_ACCESS_KEY_ID = "{values["aws"]}"\n'
        f'STS_SESSION = ("{values["aws_temp"]}", "eu-west-1")\n'
        f'GITHUB_TOKEN = "{values["github"]}"\n'
        f'SLACK_BOT = "{values["slack"]}"\n'
        f'OPENAI_KEY = "{values["openai"]}"\n'
        f'password = "{values["password"]}"\n'
        'PRIVATE_KEY = """-----BEGIN RSA PRIVATE KEY-----\n'
        f"{values['pem']}\n{values['pem'][::-1]}\n"
        '-----END RSA PRIVATE KEY-----"""\n\n\n'
        "def connect(host):\n    return host\n"
    )


def secret_files(values: dict[str, str]) -> dict[str, str]:
    """Files that must never be read: each holds one or two of `values`."""
    pem = (
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{values['pem']}\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    return {
        ".env": f"OPENAI_API_KEY={values['openai']}\nDB_PASSWORD={values['password']}\n",
        ".env.local": f"GITHUB_TOKEN={values['github']}\n",
        "id_rsa": pem,
        "deploy/server.pem": pem,
        "creds.json": f'{{"aws_access_key_id": "{values["aws"]}"}}\n',
        "credentials.json": f'{{"slack": "{values["slack"]}"}}\n',
        ".npmrc": f"//registry.npmjs.org/:_authToken={values['github']}\n",
        ".pypirc": f"[pypi]\nusername = __token__\npassword = {values['password']}\n",
    }


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def needles(key: str, *groups: dict[str, str]) -> dict[str, str]:
    """What must appear nowhere: the key, its last 20 characters, and every secret value
    (the PEM body by a 24-character piece, which is what a partial leak would show)."""
    found = {"api key": key, "api key tail": key[-20:]}
    for index, group in enumerate(groups):
        for kind, value in group.items():
            found[f"{kind} #{index}"] = value[:24] if kind == "pem" else value
    return found
