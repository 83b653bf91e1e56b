"""Files kimi-lsp keeps on disk: directories 0700, files 0600, written atomically."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path, tighten: bool = True) -> None:
    """Create `path` and its missing parents readable by the user only (`mkdir(parents=True)`
    would give the parents the umask's mode); with `tighten`, also make an existing `path`
    0700 when it is ours but looser (made by an older kimi-lsp) — not for a directory the user
    named (a log file's), which is theirs to set.

    Existing parents are left alone: ~/.cache and the XDG dirs belong to the user's system,
    not to us. A directory owned by someone else is not changed either."""
    missing = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=DIRECTORY_MODE)
    # On Windows the profile directory's ACL already keeps other users out.
    if not tighten or os.name != "posix":
        return
    info = os.stat(path)
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.geteuid():
        os.chmod(path, DIRECTORY_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, mode 0600: through a unique temporary file in the
    same directory (two writers never share one), fsync'd, then `os.replace`, so a reader
    (another editor's server) sees the old file or the whole new one, never a mix."""
    private_directory(path.parent)
    # mkstemp creates the file 0600 whatever the umask
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
