"""A BPE file's verified tokens in rank order, kept once parsed: later processes skip parsing."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import struct
import tempfile
from pathlib import Path

from ..secrets.at_rest import private_directory

log = logging.getLogger(__name__)

# The file: MAGIC, a header, then the tokens as one marshalled list (reading it back costs
# ~3 ms for 100K tokens; a marshalled dict ~13 ms, a dict built from the list ~7 ms).
MAGIC = b"kimi-lsp parsed BPE ranks\n"
FORMAT_VERSION = 1
# format version, marshal's version, the BPE file's sha256 and size, the payload's sha256,
# the number of tokens
_HEADER = struct.Struct("<HH32sQ32sQ")


def read(path: Path, source_sha256: bytes, source_size: int) -> list[bytes] | None:
    """The tokens stored for the BPE file with this sha256 and size; None when there are none,
    or they are of another file or format, or the file is damaged (its payload's sha256 is
    checked before unmarshalling, which is not meant for arbitrary bytes)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    start = len(MAGIC) + _HEADER.size
    if len(blob) < start or not blob.startswith(MAGIC):
        return None
    version, marshal_version, sha, size, payload_sha, count = _HEADER.unpack_from(blob, len(MAGIC))
    if (version, marshal_version, sha, size) != (
        FORMAT_VERSION,
        marshal.version,
        source_sha256,
        source_size,
    ):
        return None
    payload = memoryview(blob)[start:]
    if hashlib.sha256(payload).digest() != payload_sha:
        log.debug("%s is damaged; it will be written again", path)
        return None
    try:
        tokens = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return tokens if type(tokens) is list and len(tokens) == count else None


def write(path: Path, source_sha256: bytes, source_size: int, tokens: list[bytes]) -> bool:
    """Store `tokens` (verified, in rank order) for the BPE file with this sha256 and size:
    atomically (a reader sees the old file or the whole new one), readable by the user only.
    False when it could not be written (counting works without it)."""
    payload = marshal.dumps(tokens)
    header = _HEADER.pack(
        FORMAT_VERSION,
        marshal.version,
        source_sha256,
        source_size,
        hashlib.sha256(payload).digest(),
        len(tokens),
    )
    temporary = None
    try:
        private_directory(path.parent)  # its parents too (mkdir gives them the umask's mode)
        # mkstemp creates the file 0600 whatever the umask
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(MAGIC + header)
            handle.write(payload)
        os.replace(temporary, path)
    except OSError as exc:
        log.debug("Could not store the parsed BPE ranks in %s: %s", path, exc)
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        return False
    return True
