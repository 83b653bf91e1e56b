"""Secret files: which files are never read into context, whatever their contents say."""

from __future__ import annotations

import re

# `.env*` holds secrets, except these documented templates (their text is still redacted).
ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template"})
_CREDENTIALS = (".netrc", "_netrc", ".pgpass", "credentials", "credentials.json")
_EXACT = dict.fromkeys((*_CREDENTIALS, ".git-credentials", ".dockercfg"), "credentials file")
_EXACT |= dict.fromkeys(
    ("secrets.yml", "secrets.yaml", "secrets.json", "secrets.toml"), "secrets file"
)
_EXACT |= {".htpasswd": "password file", ".vault-token": "token file"}
_SUFFIXES = {s: f"*{s}" for s in (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".env")}
_SUFFIXES |= {".kdbx": "password database", ".ppk": "private key", ".tfstate": "terraform state"}
_SUFFIXES |= {"-credentials.json": "credentials file"}
_SUFFIX_TUPLE = tuple(_SUFFIXES)
_KEY_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
_PREFIX_TUPLE = (".env", "service-account", *_KEY_PREFIXES)
# (parent directory, name) pairs that are credentials only in that place.
_IN_DIR = {(".docker", "config.json"), (".kube", "config")}
# Package-manager configs are secret only when they hold a token or password.
_HEAD_NAMES = frozenset({".npmrc", ".pypirc", ".yarnrc.yml", "pip.conf", "pip.ini", ".gemrc"})
_HEAD_SECRET = re.compile(
    rb"(?i)_authtoken|npmauth(?:token|ident)|_auth\s*[=:]|_password|password\s*[=:]"
    rb"|token\s*[=:]|://[^\s/@:]*:[^\s/@]+@"
)


# Every file name `secret_file_reason` could flag, lowercased, is one of SECRET_NAMES, starts
# with one of SECRET_PREFIXES or ends with one of SECRET_SUFFIXES: other files need no closer look.
SECRET_NAMES = frozenset((*_EXACT, *_HEAD_NAMES, *(name for _, name in _IN_DIR)))
SECRET_PREFIXES = _PREFIX_TUPLE
SECRET_SUFFIXES = _SUFFIX_TUPLE


def maybe_secret_file(name: str) -> bool:
    """False when `secret_file_reason` is None for every file of this name, whatever its
    directory and contents (a cheap test before calling it)."""
    low = name.lower()
    return low in SECRET_NAMES or low.startswith(SECRET_PREFIXES) or low.endswith(SECRET_SUFFIXES)


def needs_head(rel_path: str) -> bool:
    """Whether `secret_file_reason` needs the file's first bytes to decide (`.npmrc` and kin)."""
    return rel_path[rel_path.rfind("/") + 1 :].lower() in _HEAD_NAMES


def secret_file_reason(rel_path: str, head: bytes | None = None) -> str | None:
    """Why this file must never be read into context ("secret file (...)"), or None.

    `head` is the file's first bytes; for `.npmrc`-like names None counts as holding a token.
    """
    slash = rel_path.rfind("/")
    name = rel_path[slash + 1 :].lower()
    what = _file_kind(name, rel_path[:slash].lower() if slash > 0 else "", head)
    return None if what is None else f"secret file ({what})"


def _file_kind(name: str, parent: str, head: bytes | None) -> str | None:
    if name in _EXACT:
        return _EXACT[name]
    if name.startswith(_PREFIX_TUPLE):
        if name.startswith(".env"):
            if name == ".env" or (name.startswith(".env.") and name not in ENV_TEMPLATES):
                return ".env"
            if name.startswith(".envrc"):
                return ".envrc"
        elif name.startswith("service-account"):
            if name.endswith(".json"):
                return "service account key"
        elif not name.endswith(".pub"):
            return "private key"
    if name.endswith(_SUFFIX_TUPLE):
        for suffix, what in _SUFFIXES.items():
            if name.endswith(suffix):
                return what
    if name in _HEAD_NAMES:
        if head is None or _HEAD_SECRET.search(head):
            return f"{name} with credentials"
        return None
    if (parent.rsplit("/", 1)[-1], name) in _IN_DIR:
        return "credentials file"
    return None
