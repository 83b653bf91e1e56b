"""Gitignore-style patterns compiled for matching one directory entry at a time during a walk."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_GLOB_CHARS = frozenset("*?[\\")
_POSIX_CLASSES = {
    "[:alnum:]": "a-zA-Z0-9",
    "[:alpha:]": "a-zA-Z",
    "[:digit:]": "0-9",
    "[:lower:]": "a-z",
    "[:upper:]": "A-Z",
    "[:space:]": " \\t\\n\\r\\f\\v",
    "[:xdigit:]": "0-9A-Fa-f",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern line: `!` negates it, a trailing `/` limits it to directories."""

    pattern: str
    index: int
    negated: bool
    dir_only: bool


def _parse(line: str) -> tuple[str, bool, bool] | None:
    """(glob, negated, dir_only) of a pattern line, or None for blanks and comments."""
    line = line.rstrip("\r\n")
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "  # "foo\ " keeps its escaped trailing space
    if not stripped or stripped.startswith("#"):
        return None
    negated = stripped.startswith("!")
    if negated:
        stripped = stripped[1:]
    dir_only = stripped.endswith("/")
    glob = stripped.rstrip("/")
    return (glob, negated, dir_only) if glob else None


def _class(body: str) -> str:
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    for name, chars in _POSIX_CLASSES.items():
        body = body.replace(name, "\0" + chars + "\0")
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\0":
            end = body.index("\0", i + 1)
            out.append(body[i + 1 : end])
            i = end
        elif c == "\\" and i + 1 < len(body):
            i += 1
            out.append(re.escape(body[i]))
        elif c == "-" and 0 < i < len(body) - 1:
            out.append("-")
        else:
            out.append(re.escape(c))
        i += 1
    return ("[^/\\0" if negate else "[") + "".join(out) + "]"


def _segment(part: str) -> str:
    """Regex for one path segment: `*` and `?` never match `/`."""
    out: list[str] = []
    i = 0
    n = len(part)
    while i < n:
        c = part[i]
        if c == "*":
            while i + 1 < n and part[i + 1] == "*":
                i += 1
            out.append("[^/\\0]*")
        elif c == "?":
            out.append("[^/\\0]")
        elif c == "[":
            j = i + 1
            if j < n and part[j] in "!^":
                j += 1
            if j < n and part[j] == "]":
                j += 1
            while j < n and part[j] != "]":
                j += 2 if part[j] == "\\" else 1
            if j >= n:
                out.append(re.escape(c))  # no closing bracket: a literal "["
            else:
                out.append(_class(part[i + 1 : j]))
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(part[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


_ANY = "[^\\0]+"  # any characters, "/" included, but never the directory mark
_DIRS = "(?:[^\\0]+/)?"  # zero or more leading directories


def _path_regex(glob: str) -> str:
    """Regex for an anchored pattern matched against the whole relative path."""
    parts: list[str] = []
    for part in glob.split("/"):
        if not (part == "**" and parts and parts[-1] == "**"):
            parts.append(part)
    out = ""
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if part == "**":
            out += (
                (_ANY if i == 0 else "/" + _ANY) if i == last else _DIRS if i == 0 else "/" + _DIRS
            )
            continue
        if i > 0 and parts[i - 1] != "**":
            out += "/"
        out += _segment(part)
    return out


class RuleSet:
    """The patterns of one source (a `.gitignore`, `.kimiignore`, setting), in file order.

    `match(rel, name, is_dir)` returns the last rule matching the entry (git's precedence), where
    `rel` is the entry's path relative to the source's directory and `name` its last segment.
    Plain names and `*.ext` patterns are looked up in dicts; the rest share one regex per kind.
    """

    __slots__ = (
        "_file_dirs",
        "_file_names",
        "_file_prefixes",
        "_file_suffixes",
        "_name_rx",
        "_names",
        "_path_heads",
        "_path_items",
        "_path_rx",
        "_paths",
        "_suffix_rules",
        "_suffixes",
        "rules",
    )

    def __init__(self, lines: Iterable[str]) -> None:
        self.rules: list[Rule] = []
        self._names: dict[str, list[Rule]] = {}
        self._paths: dict[str, list[Rule]] = {}
        self._suffix_rules: list[tuple[str, Rule]] = []
        name_rx: list[tuple[str, Rule]] = []
        path_rx: list[tuple[str, Rule]] = []
        heads: set[str] | None = set()  # the first segments of the path regexes' paths
        # What a file (not a directory) could match: names, suffixes, and the directories (exact,
        # or that and everything below) where a path pattern could match one.
        file_names: set[str] = set()
        file_suffixes: list[str] = []
        self._file_dirs: set[str] = set()
        self._file_prefixes: list[str] = []
        for line in lines:
            parsed = _parse(line)
            if parsed is None:
                continue
            glob, negated, dir_only = parsed
            rule = Rule(line.strip(), len(self.rules), negated, dir_only)
            self.rules.append(rule)
            anchored = "/" in glob
            if glob.startswith("**/") and "/" not in glob[3:] and "**" not in glob[3:]:
                glob, anchored = glob[3:], False  # "**/foo" is "foo"
            glob = glob.removeprefix("/")
            plain = _GLOB_CHARS.isdisjoint(glob)
            if not anchored and plain:
                self._names.setdefault(glob, []).append(rule)
                if not dir_only:
                    file_names.add(glob)
            elif not anchored and glob.startswith("*") and _GLOB_CHARS.isdisjoint(glob[1:]):
                self._suffix_rules.append((glob[1:], rule))
                if not dir_only:
                    file_suffixes.append(glob[1:])
            elif not anchored:
                name_rx.append((_segment(glob), rule))
            else:
                if plain:
                    self._paths.setdefault(glob, []).append(rule)
                else:
                    path_rx.append((_path_regex(glob), rule))
                    head = glob.split("/", 1)[0]
                    heads = None if heads is None or not _GLOB_CHARS.isdisjoint(head) else heads
                    if heads is not None:
                        heads.add(head)
                if not dir_only:
                    self._add_file_dir(glob)
        self._suffixes = tuple(s for s, _ in self._suffix_rules)
        self._name_rx = _combine(name_rx)
        # Compiled when first needed: most paths cannot match (their first segment is none of
        # `heads`), and `re` compiles a long alternation slowly.
        self._path_items = path_rx
        self._path_heads = None if heads is None else frozenset(heads)
        self._path_rx: _Combined | None = None
        self._file_names = frozenset(file_names)
        self._file_suffixes = tuple(dict.fromkeys(file_suffixes))

    def _add_file_dir(self, glob: str) -> None:
        """Note where an anchored pattern could match a file: in one directory when its
        directory part is literal, else anywhere under the literal directories it starts with."""
        *dirs, last = glob.split("/")
        literal: list[str] = []
        for part in dirs:
            if not _GLOB_CHARS.isdisjoint(part):
                break
            literal.append(part)
        if len(literal) == len(dirs) and last != "**":
            self._file_dirs.add("/".join(literal))
        else:
            self._file_prefixes.append("/".join(literal))

    def file_rules_in(self, directory: str) -> bool:
        """Whether an anchored pattern could match a file directly in `directory` (its path
        relative to the rules' base, "" for the base itself)."""
        if directory in self._file_dirs:
            return True
        return any(
            not prefix or directory == prefix or directory.startswith(prefix + "/")
            for prefix in self._file_prefixes
        )

    @classmethod
    def from_file(cls, path: Path) -> RuleSet | None:
        """The rules of an ignore file, or None when it is missing, unreadable or empty."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        rules = cls(text.splitlines())
        return rules if rules.rules else None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def match(self, rel: str, name: str, is_dir: bool) -> Rule | None:
        """The last rule that matches this entry, or None."""
        best: Rule | None = None
        if self._names and name in self._names:
            best = _last(self._names[name], is_dir)
        if self._suffixes and name.endswith(self._suffixes):
            for suffix, rule in reversed(self._suffix_rules):
                if best is not None and rule.index < best.index:
                    break
                if name.endswith(suffix) and (is_dir or not rule.dir_only):
                    best = rule
                    break
        if self._name_rx is not None:
            best = _better(best, self._name_rx, name + "\0" if is_dir else name)
        if self._paths and rel in self._paths:
            found = _last(self._paths[rel], is_dir)
            if found is not None and (best is None or found.index > best.index):
                best = found
        if self._path_items and (
            self._path_heads is None or rel.partition("/")[0] in self._path_heads
        ):
            if self._path_rx is None:
                self._path_rx = _combine(self._path_items)
                if self._path_rx is None:  # every pattern is malformed
                    self._path_items = []
                    return best
            best = _better(best, self._path_rx, rel + "\0" if is_dir else rel)
        return best


# A combined regex tries the patterns last-first; each alternative is one group, so the group
# that matched names the rule. A directory is matched with a NUL appended (no path holds one,
# and no translated wildcard matches one), which dir-only patterns require.
_Combined = tuple[re.Pattern[str], list[Rule]]
_DIR_MARK = "\\0"


def _combine(items: list[tuple[str, Rule]]) -> _Combined | None:
    if not items:
        return None
    ordered = items[::-1]
    alternatives = [
        f"({rx}{_DIR_MARK if rule.dir_only else _DIR_MARK + '?'})" for rx, rule in ordered
    ]
    try:
        return re.compile("|".join(alternatives)), [rule for _, rule in ordered]
    except re.error:
        valid = []
        for rx, rule in ordered:
            try:
                re.compile(rx)
            except re.error:
                continue  # git ignores a malformed pattern; so do we
            valid.append((rx, rule))
        return _combine(valid[::-1]) if len(valid) < len(ordered) else None


def _better(best: Rule | None, combined: _Combined, subject: str) -> Rule | None:
    m = combined[0].fullmatch(subject)
    if m is None or m.lastindex is None:
        return best
    found = combined[1][m.lastindex - 1]
    return found if best is None or found.index > best.index else best


def _last(rules: list[Rule], is_dir: bool) -> Rule | None:
    for rule in reversed(rules):
        if is_dir or not rule.dir_only:
            return rule
    return None


# Excluded unless a `!pattern` in a .gitignore, .kimiignore or the exclude setting re-includes it.
# Always excluded: `.git`, and any directory holding `pyvenv.cfg` (a virtualenv, whatever its name).
DEFAULT_EXCLUDES = (
    *("node_modules/", "bower_components/", ".venv/", "venv/", "site-packages/", "dist-packages/"),
    *("__pycache__/", ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".hypothesis/", ".tox/"),
    *(".nox/", "dist/", "build/", "target/", "out/", ".next/", ".nuxt/", ".svelte-kit/", ".turbo/"),
    *(
        ".parcel-cache/",
        "coverage/",
        "htmlcov/",
        "*.egg-info/",
        ".eggs/",
        ".gradle/",
        ".terraform/",
    ),
    *(".idea/", ".vs/", ".DS_Store", "Thumbs.db", "*.min.js", "*.min.css", "*.map"),
    *("*.pyc", "*.pyo", "*.class", "*.o", "*.obj", "*.so", "*.dylib", "*.dll", "*.exe"),
    # Lock files: large, machine-written, rarely worth their tokens.
    *("package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "Cargo.lock", "go.sum"),
    *("poetry.lock", "Pipfile.lock", "uv.lock", "composer.lock", "Gemfile.lock"),
)
DEFAULTS = RuleSet(DEFAULT_EXCLUDES)


@dataclass(frozen=True, slots=True)
class Source:
    """One ignore file (or the defaults) and the directory its patterns are relative to."""

    rules: RuleSet
    base: str  # directory under the root its patterns are relative to ("" for the root)
    prefix: str  # for a file above the root: the root's path relative to it, plus "/"
    reason: str  # "" for the defaults, which name the pattern instead


Chain = tuple[Source, ...]  # the sources in force in a directory, highest precedence first


def decide(exclude: RuleSet | None, chain: Chain, rel: str, name: str, is_dir: bool) -> str:
    """Why the rules exclude an entry ("" when they do not): the exclude setting first, then
    the deepest ignore file with a matching pattern (a `!pattern` there re-includes)."""
    if exclude is not None:
        rule = exclude.match(rel, name, is_dir)
        if rule is not None:
            return "" if rule.negated else "excluded by the exclude setting"
    for source in chain:
        sub = rel[len(source.base) + 1 :] if source.base else source.prefix + rel
        rule = source.rules.match(sub, name, is_dir)
        if rule is not None:
            if rule.negated:
                return ""
            return source.reason or f"excluded by default ({rule.pattern})"
    return ""


@dataclass(frozen=True, slots=True)
class FileFilter:
    """The file names the rules in force in a directory could exclude. A file whose lowercased
    name is not in `names`, starts with none of `prefixes`, ends with none of `suffixes` and
    whose name does not fully match `pattern` matches no rule (`decide` returns ""), so a walk
    need not call `decide` for it; but only in a directory where `holds_in` is true (no anchored
    pattern could match a file there). Lowercased, the test lets through a few names no rule
    excludes (`decide` then says so), never one a rule does."""

    names: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    pattern: re.Pattern[str] | None
    anchored: tuple[tuple[RuleSet, str, str], ...]  # (rules, base, prefix) with anchored rules

    def may_exclude(self, name: str) -> bool:
        low = name.lower()
        return (
            low in self.names
            or low.startswith(self.prefixes)
            or low.endswith(self.suffixes)
            or (self.pattern is not None and self.pattern.fullmatch(name) is not None)
        )

    def holds_in(self, rel: str) -> bool:
        """Whether the name test is enough for the files directly in the directory `rel`."""
        child = f"{rel}/x" if rel else "x"  # a file in the directory, placed for each source
        for rules, base, prefix in self.anchored:
            sub = child[len(base) + 1 :] if base else prefix + child
            if rules.file_rules_in(sub.rpartition("/")[0]):
                return False
        return True

    def including(
        self, names: Iterable[str], prefixes: Iterable[str], suffixes: Iterable[str]
    ) -> FileFilter:
        """This filter letting through these (lowercase) names, prefixes and suffixes too."""
        return FileFilter(
            self.names | frozenset(names),
            tuple(dict.fromkeys((*self.prefixes, *prefixes))),
            tuple(dict.fromkeys((*self.suffixes, *suffixes))),
            self.pattern,
            self.anchored,
        )


def file_filter(exclude: RuleSet | None, chain: Chain) -> FileFilter:
    """The filter for the files of a directory with these rules in force."""
    sources = [(s.rules, s.base, s.prefix) for s in chain]
    if exclude is not None:
        sources.append((exclude, "", ""))
    names: set[str] = set()
    suffixes: dict[str, None] = {}
    patterns: list[str] = []
    for rules, _, _ in sources:
        names.update(name.lower() for name in rules._file_names)
        suffixes.update(dict.fromkeys(suffix.lower() for suffix in rules._file_suffixes))
        if rules._name_rx is not None:
            patterns.append(rules._name_rx[0].pattern)
    pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
    anchored = tuple(item for item in sources if item[0]._file_dirs or item[0]._file_prefixes)
    return FileFilter(frozenset(names), (), tuple(suffixes), pattern, anchored)


def _posix_rel(path: str, start: str) -> str:
    return os.path.relpath(path, start).replace(os.sep, "/")


def _sources(directory: str, base: str, prefix: str, shown: str) -> list[Source]:
    """The .kimiignore then .gitignore of a directory (the former wins at the same level)."""
    out = []
    for name in (".kimiignore", ".gitignore"):
        rules = RuleSet.from_file(Path(directory, name))
        if rules:
            out.append(Source(rules, base, prefix, f"ignored by {shown}{name}"))
    return out


def root_chain(root: str) -> Chain:
    """The rules in force at a root: its own ignore files; those of the directories above it up
    to its git repository's top (none when it is in no repository); that repository's
    `.git/info/exclude`; the defaults."""
    chain = _sources(root, "", "", "")
    above: list[Source] = []
    top: str | None = root if os.path.exists(os.path.join(root, ".git")) else None
    parent = root
    while top is None:
        parent, child = os.path.dirname(parent), parent
        if parent == child:
            above = []  # in no repository: the ignore files above do not apply
            break
        above += _sources(
            parent, "", _posix_rel(root, parent) + "/", _posix_rel(parent, root) + "/"
        )
        if os.path.exists(os.path.join(parent, ".git")):
            top = parent
    chain += above
    if top is not None:
        rules = RuleSet.from_file(Path(top, ".git", "info", "exclude"))
        if rules:
            prefix = "" if top == root else _posix_rel(root, top) + "/"
            shown = _posix_rel(os.path.join(top, ".git", "info", "exclude"), root)
            chain.append(Source(rules, "", prefix, f"ignored by {shown}"))
    return (*chain, Source(DEFAULTS, "", "", ""))


def extend(chain: Chain, directory: str, rel: str, names: set[str]) -> Chain:
    """The rules in force inside `directory` (named `names`): its own first, then its parent's."""
    if not ({".gitignore", ".kimiignore", ".git"} & names):
        return chain
    own = _sources(directory, rel, "", rel + "/")
    if ".git" in names:  # a nested repository's own excludes
        rules = RuleSet.from_file(Path(directory, ".git", "info", "exclude"))
        if rules:
            own.append(Source(rules, rel, "", f"ignored by {rel}/.git/info/exclude"))
    return (*own, *chain)
