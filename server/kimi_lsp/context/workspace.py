"""Workspace file index: the files under the roots that may enter context, and why not others."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from ..limited_read import read_head
from ..protected_paths import is_git_name
from ..secrets.files import (
    SECRET_NAMES,
    SECRET_PREFIXES,
    SECRET_SUFFIXES,
    needs_head,
    secret_file_reason,
)
from .file_texts import FileTexts
from .ignore import Chain, FileFilter, RuleSet, decide, extend, file_filter, root_chain

MAX_EXCLUDED = 500  # excluded() lists at most this many files
HEAD_BYTES = 65536  # read from `.npmrc`-like files to see whether they hold a token
LARGE = "larger than maxFileSizeBytes"
LEAVES = "symlink leaving the workspace"
BINARY = "binary file"
IN_GIT = "excluded by default (.git/)"
_RULE_NAMES = (".gitignore", ".kimiignore", ".git")
_Stat = Callable[[], os.stat_result]  # DirEntry.stat during a walk, os.stat otherwise
_SCANDIR_FD = os.scandir in os.supports_fd  # not on Windows
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class FileEntry(NamedTuple):
    """An indexed file: absolute path, posix path relative to its root, size and mtime.

    A named tuple (immutable, and made three times faster than a frozen dataclass: a walk
    makes one per file) holding the path as a string; `path` makes the Path on demand."""

    file: str  # the absolute path, as a string
    rel: str
    root: Path
    size: int
    mtime_ns: int

    @property
    def path(self) -> Path:
        """The absolute path."""
        return Path(self.file)


@dataclass(slots=True)
class _Snapshot:
    """Everything a build or refresh produces; replaced whole, so readers never lock."""

    exclude: RuleSet | None
    entries: dict[str, FileEntry] = field(default_factory=dict)
    dirs: dict[str, Chain] = field(default_factory=dict)  # indexed directories and their rules
    excluded: list[tuple[str, str, str]] = field(default_factory=list)  # (path, shown, reason)
    ordered: list[FileEntry] | None = None

    def copy(self) -> _Snapshot:
        return _Snapshot(self.exclude, dict(self.entries), dict(self.dirs), list(self.excluded))


class WorkspaceIndex:
    """The files under the workspace roots that may enter context, and why others may not.

    `build()` and `refresh()` block on the file system (run them in a thread); they build new
    structures and swap them in, so every other method is safe to call from any thread.
    """

    def __init__(
        self, roots: Sequence[Path], *, exclude: Sequence[str] = (), max_file_size: int = 1_000_000
    ) -> None:
        resolved = {os.path.realpath(os.path.abspath(root)) for root in roots}
        self._roots = sorted(resolved, key=len, reverse=True)  # deepest first for root_of
        self._root_paths = {text: Path(text) for text in resolved}
        self._sorted_roots = [self._root_paths[text] for text in sorted(resolved)]
        self._max_size = max_file_size
        self._lock = threading.Lock()
        self._exclude = RuleSet(exclude) or None
        self._snap = _Snapshot(self._exclude)
        self._generation = 0
        self._texts = FileTexts()

    @property
    def generation(self) -> int:
        """Bumped on every change to the index."""
        return self._generation

    @property
    def roots(self) -> list[Path]:
        return list(self._sorted_roots)

    def build(self) -> None:
        """Walk every root from scratch (blocking; stat only, no file reads but ignore files)."""
        with self._lock:
            snap = _Snapshot(self._exclude)
            for root in sorted(self._roots):
                if os.path.isdir(root):
                    self._walk(snap, root, root, "", root_chain(root))
            self._publish(snap)

    def set_exclude(self, globs: Sequence[str]) -> None:
        """Replace the exclude setting's globs and rebuild (blocking)."""
        self._exclude = RuleSet(globs) or None
        self.build()

    def files(self) -> list[FileEntry]:
        """Every indexed file, sorted by (root, rel)."""
        snap = self._snap
        if snap.ordered is None:
            if len(self._roots) == 1:
                snap.ordered = sorted(snap.entries.values(), key=attrgetter("rel"))
            else:
                snap.ordered = sorted(snap.entries.values(), key=lambda e: (str(e.root), e.rel))
        return list(snap.ordered)

    def excluded(self) -> list[tuple[str, str]]:
        """(path, reason) of secret, over-size and escaping files seen (ignored files are not)."""
        return [(shown, reason) for _, shown, reason in self._snap.excluded]

    def lookup(self, path: Path | str) -> FileEntry | None:
        found = self._locate(path)
        return None if found is None else self._snap.entries.get(found[1])

    def contains(self, path: Path | str) -> bool:
        return self._locate(path) is not None

    def root_of(self, path: Path | str) -> Path | None:
        found = self._locate(path)
        return None if found is None else self._root_paths[found[0]]

    def check(self, path: Path | str) -> str | None:
        """Why this path may not be used in context, or None when it may."""
        reason, p, st = self._inspect(path)
        if reason is None and p is not None and st is not None and self._texts.is_binary(p, st):
            return BINARY
        return reason

    def read_text(self, path: Path | str) -> str | None:
        """The file's text, or None when check() refuses it, it is binary or unreadable.

        Binary: a NUL byte in the first 8 KiB, or more than 1% of it invalid UTF-8 (a few invalid
        bytes, as in a Latin-1 comment, become U+FFFD). Cached by (path, mtime, size).
        """
        reason, p, st = self._inspect(path)
        if reason is not None or p is None or st is None:
            return None
        return self._texts.read(p, st)

    def refresh(self, paths: Iterable[Path | str]) -> None:
        """Bring created, changed or deleted paths up to date (blocking). A changed
        `.gitignore`/`.kimiignore`/`.git/info/exclude` re-walks the directory it governs."""
        with self._lock:
            snap = self._snap.copy()
            changed = False
            for path in sorted({os.path.abspath(os.fspath(p)) for p in paths}):
                found = self._locate(path, follow=False)
                if found is None:
                    continue
                root, p = found
                parts = _rel(root, p).split("/")
                if parts[-3:] == [".git", "info", "exclude"]:
                    p = os.path.dirname(os.path.dirname(os.path.dirname(p)))
                elif _in_git("/".join(parts)):
                    continue
                elif parts[-1] in (".gitignore", ".kimiignore"):
                    p = os.path.dirname(p)
                changed |= self._refresh(snap, root, p)
            if changed:
                self._publish(snap)

    # --- walking -----------------------------------------------------------------------------

    def _publish(self, snap: _Snapshot) -> None:
        snap.ordered = None
        snap.excluded.sort()
        self._snap = snap
        self._generation += 1

    def _walk(self, snap: _Snapshot, root: str, start: str, start_rel: str, chain: Chain) -> None:
        """Index the directory `start` (already known not excluded) and everything under it."""
        stack = [(start, start_rel, chain)]
        filters: dict[int, tuple[Chain, FileFilter]] = {}  # by chain
        while stack:
            directory, rel, chain = stack.pop()
            # Listing an open directory makes `DirEntry.stat` look its name up there, not
            # resolve the whole path again for each file.
            fd = None
            try:
                if _SCANDIR_FD:
                    fd = os.open(directory, _DIR_FLAGS)
                with os.scandir(directory if fd is None else fd) as it:
                    entries = list(it)
            except OSError:
                if fd is not None:
                    os.close(fd)
                continue
            try:
                names = {e.name for e in entries}
                if rel:
                    if "pyvenv.cfg" in names:
                        continue  # a virtualenv
                    chain = extend(chain, directory, rel, names)
                snap.dirs[directory] = chain
                cached = filters.get(id(chain))
                if cached is not None and cached[0] is chain:
                    quick = cached[1]
                else:
                    quick = file_filter(snap.exclude, chain)
                    quick = quick.including(SECRET_NAMES, SECRET_PREFIXES, SECRET_SUFFIXES)
                    filters[id(chain)] = (chain, quick)
                stack += self._walk_entries(snap, root, chain, directory, rel, entries, quick)
            finally:
                if fd is not None:
                    os.close(fd)

    def _walk_entries(
        self,
        snap: _Snapshot,
        root: str,
        chain: Chain,
        directory: str,
        rel: str,
        entries: list[os.DirEntry[str]],
        quick: FileFilter,
    ) -> list[tuple[str, str, Chain]]:
        """Index one listed directory's files; returns its subdirectories still to walk.

        The hot loop of a walk (one pass per file of the workspace): attributes are read once
        into locals, and most files match no rule and have no secret-like name, so they skip
        `_visit_file` (the test below is `quick.may_exclude(name)`, inlined)."""
        exclude = snap.exclude
        indexed = snap.entries
        root_path = self._root_paths[root]
        max_size = self._max_size
        new_entry = tuple.__new__
        prefix = rel + "/" if rel else ""
        at = directory + os.sep
        slow = not quick.holds_in(rel)
        q_names, q_prefixes, q_suffixes, q_pattern = (
            quick.names,
            quick.prefixes,
            quick.suffixes,
            quick.pattern,
        )
        subdirectories: list[tuple[str, str, Chain]] = []
        for e in entries:
            name = e.name
            if name == ".git" or (name[:1] == "." and is_git_name(name)):
                continue
            try:
                if e.is_file(follow_symlinks=False):  # neither a symlink nor a directory
                    low = name.lower()
                    if (
                        slow
                        or low in q_names
                        or low.startswith(q_prefixes)
                        or low.endswith(q_suffixes)
                        or (q_pattern is not None and q_pattern.fullmatch(name) is not None)
                    ):
                        self._visit_file(snap, root, chain, at + name, prefix + name, e.stat)
                        continue
                    st = e.stat()
                    path = at + name
                    if st.st_size > max_size:
                        self._exclude_entry(snap, path, prefix + name, LARGE)
                    else:  # FileEntry(...), without its Python-level __new__
                        indexed[path] = new_entry(
                            FileEntry,
                            (path, prefix + name, root_path, st.st_size, st.st_mtime_ns),
                        )
                elif e.is_dir(follow_symlinks=False):
                    child = prefix + name
                    path = at + name
                    if path not in self._root_paths and not decide(
                        exclude, chain, child, name, True
                    ):
                        subdirectories.append((path, child, chain))
                elif e.is_symlink():
                    self._visit_link(snap, root, chain, at + name, prefix + name)
            except OSError:
                continue
        return subdirectories

    def _visit_file(
        self,
        snap: _Snapshot,
        root: str,
        chain: Chain,
        path: str,
        rel: str,
        stat_of: _Stat,
    ) -> None:
        """Index a file unless it is secret (listed), ignored or too large (listed)."""
        name = rel[rel.rfind("/") + 1 :]
        secret = _secret(rel, path)
        if secret:
            self._exclude_entry(snap, path, rel, secret)
        elif not decide(snap.exclude, chain, rel, name, False):
            st = stat_of()
            if st.st_size > self._max_size:
                self._exclude_entry(snap, path, rel, LARGE)
            else:
                entry = FileEntry(path, rel, self._root_paths[root], st.st_size, st.st_mtime_ns)
                snap.entries[path] = entry

    def _visit_link(self, snap: _Snapshot, root: str, chain: Chain, path: str, rel: str) -> None:
        """Index a symlink to a file inside the workspace (unless the target is a secret); list
        one leaving it. A link to a directory inside is skipped: its files are indexed where
        they really live."""
        is_dir = os.path.isdir(path)
        if decide(snap.exclude, chain, rel, rel.rsplit("/", 1)[-1], is_dir):
            return
        target = os.path.realpath(path)
        found = self._locate(target, follow=False)
        if found is None:
            if os.path.exists(target):
                self._exclude_entry(snap, path, rel, LEAVES)
        elif _in_git(_rel(*found)):
            self._exclude_entry(snap, path, rel, IN_GIT)  # `cfg -> .git/config`
        elif not is_dir and os.path.isfile(target):
            secret = _secret(_rel(*found), target)
            if secret:
                self._exclude_entry(snap, path, rel, secret)
            else:
                self._visit_file(snap, root, chain, path, rel, lambda: os.stat(path))

    def _exclude_entry(self, snap: _Snapshot, path: str, rel: str, reason: str) -> None:
        """List an excluded file, as `root-name/rel` when there are several roots."""
        if len(snap.excluded) < MAX_EXCLUDED:
            found = self._locate(path, follow=False) if len(self._roots) > 1 else None
            shown = f"{os.path.basename(found[0])}/{rel}" if found else rel
            snap.excluded.append((path, shown, reason))

    # --- single paths ------------------------------------------------------------------------

    def _locate(self, path: Path | str, follow: bool = True) -> tuple[str, str] | None:
        """(root, absolute path) of a path inside the workspace, trying its real path second."""
        p = os.path.abspath(os.fspath(path))
        for root in self._roots:
            if p == root or p.startswith(root + os.sep):
                return root, p
        if follow:
            real = os.path.realpath(p)
            if real != p:
                return self._locate(real, follow=False)
        return None

    def _inspect(self, path: Path | str) -> tuple[str | None, str | None, os.stat_result | None]:
        """(reason, absolute path, stat) of a path, all but the binary check."""
        found = self._locate(path)
        if found is None:
            return "outside the workspace", None, None
        root, p = found
        snap = self._snap
        if p not in snap.entries:
            reason = self._path_reason(snap, root, p)
            if reason:
                return reason, p, None
        try:
            st = os.stat(p)
        except OSError:
            return "no such file", p, None
        if not stat.S_ISREG(st.st_mode):
            return "not a file", p, None
        if st.st_size > self._max_size:
            return LARGE, p, st
        return None, p, st

    def _path_reason(self, snap: _Snapshot, root: str, p: str) -> str:
        """Why a path the index does not hold is excluded ("" when it is not), checking its
        directories from the root down as the walk would."""
        rel = _rel(root, p)
        if not rel:
            return "not a file"
        parts = rel.split("/")
        secret = _secret(rel, p)
        if secret:
            return secret
        chain = snap.dirs.get(root) or root_chain(root)
        directory, drel = root, ""
        for part in parts:
            if is_git_name(part):
                return IN_GIT
            drel = f"{drel}/{part}" if drel else part
            directory = os.path.join(directory, part)
            known = snap.dirs.get(directory)
            if known is not None:
                chain = known
                continue
            is_dir = drel != rel or os.path.isdir(directory)
            reason = decide(snap.exclude, chain, drel, part, is_dir)
            if reason:
                return reason
            if os.path.islink(directory):
                target = self._locate(os.path.realpath(directory), follow=False)
                if target is None:
                    return LEAVES
                if _in_git(_rel(*target)):
                    return IN_GIT  # `tools -> .git`: tools/config is .git/config
                if drel == rel:
                    return _secret(_rel(*target), p)
            if drel != rel:
                if os.path.exists(os.path.join(directory, "pyvenv.cfg")):
                    return "excluded by default (virtualenv)"
                names = {n for n in _RULE_NAMES if os.path.lexists(os.path.join(directory, n))}
                chain = extend(chain, directory, drel, names)
        return ""

    def _refresh(self, snap: _Snapshot, root: str, p: str) -> bool:
        """Forget `p` (and what was under it), then walk it again from its parent's rules."""
        old = (snap.entries.get(p), [item for item in snap.excluded if item[0] == p])
        was_dir = p in snap.dirs
        dropped = _drop(snap, p)
        if p == root:
            if os.path.isdir(root):
                self._walk(snap, root, root, "", root_chain(root))
            return True
        parent = os.path.dirname(p)
        chain = snap.dirs.get(parent)
        if chain is None:  # in a new directory (or an excluded one): walk its top new directory
            child = parent
            while child != root and os.path.dirname(child) not in snap.dirs:
                child = os.path.dirname(child)
            if child != root and os.path.dirname(child) in snap.dirs:
                return self._refresh(snap, root, child) or dropped
            return dropped
        rel = _rel(root, p)
        name = rel.rsplit("/", 1)[-1]
        try:
            if os.path.islink(p):
                self._visit_link(snap, root, chain, p, rel)
            elif os.path.isdir(p):
                if p not in self._root_paths and not decide(snap.exclude, chain, rel, name, True):
                    self._walk(snap, root, p, rel, chain)
                    return True
            elif os.path.isfile(p):
                self._visit_file(snap, root, chain, p, rel, lambda: os.stat(p))
        except OSError:
            pass
        if was_dir:
            return dropped
        return old != (snap.entries.get(p), [item for item in snap.excluded if item[0] == p])


def _rel(root: str, p: str) -> str:
    return p[len(root) + 1 :].replace(os.sep, "/") if p != root else ""


def _in_git(rel: str) -> bool:
    return any(is_git_name(part) for part in rel.split("/"))


def _secret(rel: str, path: str) -> str:
    head = read_head(path, HEAD_BYTES) if needs_head(rel) else None
    return secret_file_reason(rel, head) or ""


def _drop(snap: _Snapshot, p: str) -> bool:
    """Forget a path and, when it was a directory, everything under it."""
    changed = snap.entries.pop(p, None) is not None
    if snap.dirs.pop(p, None) is not None:
        changed = True
        under = p + os.sep
        for key in [k for k in snap.entries if k.startswith(under)]:
            del snap.entries[key]
        for key in [k for k in snap.dirs if k.startswith(under)]:
            del snap.dirs[key]
    kept = [item for item in snap.excluded if item[0] != p and not item[0].startswith(p + os.sep)]
    changed |= len(kept) != len(snap.excluded)
    snap.excluded[:] = kept
    return changed
