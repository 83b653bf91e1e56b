"""Workspace index: gitignore semantics, defaults, secrets, binaries, symlinks, refresh."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.context import workspace
from kimi_lsp.context.ignore import DEFAULTS, FileFilter, RuleSet, Source, decide, file_filter
from kimi_lsp.context.workspace import WorkspaceIndex


def make(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def indexed(root: Path, **options: object) -> WorkspaceIndex:
    index = WorkspaceIndex([root], **options)  # type: ignore[arg-type]
    index.build()
    return index


def rels(index: WorkspaceIndex) -> set[str]:
    return {entry.rel for entry in index.files()}


def test_nested_gitignores_apply_to_their_directory_and_below(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            ".gitignore": "*.log\n/top.txt\n",
            "a.log": "",
            "top.txt": "",
            "main.py": "",
            "sub/.gitignore": "!keep.log\nlocal/\n",
            "sub/keep.log": "",
            "sub/b.log": "",
            "sub/top.txt": "",
            "sub/local/x.py": "",
            "local/x.py": "",
        },
    )
    index = indexed(tmp_path)
    assert rels(index) == {
        ".gitignore",
        "main.py",
        "sub/.gitignore",
        "sub/keep.log",  # re-included by the deeper file
        "sub/top.txt",  # "/top.txt" is anchored to the root
        "local/x.py",  # sub's "local/" applies under sub only
    }
    assert index.check(tmp_path / "a.log") == "ignored by .gitignore"
    assert index.check(tmp_path / "sub/local/x.py") == "ignored by sub/.gitignore"
    assert index.check(tmp_path / "sub/b.log") == "ignored by .gitignore"


@pytest.mark.parametrize(
    ("gitignore", "included"),
    [
        ("logs/\n!logs/keep.log\n", False),  # the directory is excluded: no way back in
        ("logs\n!logs/keep.log\n", False),
        ("logs/*\n!logs/keep.log\n", True),  # only its contents are: the file comes back
        ("logs/**\n!logs/keep.log\n", True),
    ],
)
def test_a_file_cannot_be_reincluded_under_an_excluded_directory(
    tmp_path: Path, gitignore: str, included: bool
) -> None:
    make(tmp_path, {".gitignore": gitignore, "logs/keep.log": "", "logs/other.log": ""})
    index = indexed(tmp_path)
    assert ("logs/keep.log" in rels(index)) is included
    assert "logs/other.log" not in rels(index)
    reason = index.check(tmp_path / "logs/keep.log")
    assert (reason is None) is included
    if not included:
        assert reason == "ignored by .gitignore"


def test_anchored_directory_and_double_star_patterns(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            ".gitignore": "\n".join(
                [
                    "# comment",
                    "cache/",  # directories only
                    "/root-only.txt",
                    "docs/*.tmp",  # a slash inside anchors to this directory
                    "**/gen/**",
                    "a/**/z.txt",
                    "\\#literal",
                    "[ab]?.md",
                    "trailing.txt   ",
                ]
            ),
            "cache/x.py": "",
            "pkg/cache/x.py": "",
            "pkg/cache.py": "",
            "lib/cache": "",  # a file: "cache/" matches directories only
            "root-only.txt": "",
            "pkg/root-only.txt": "",
            "docs/a.tmp": "",
            "docs/deep/a.tmp": "",
            "x/gen/out.py": "",
            "gen.py": "",
            "a/z.txt": "",
            "a/b/c/z.txt": "",
            "b/a/z.txt": "",
            "#literal": "",
            "ax.md": "",
            "cx.md": "",
            "trailing.txt": "",
        },
    )
    assert rels(indexed(tmp_path)) == {
        ".gitignore",
        "pkg/cache.py",
        "lib/cache",
        "pkg/root-only.txt",
        "docs/deep/a.tmp",
        "gen.py",
        "b/a/z.txt",
        "cx.md",
    }


def git(root: Path, *args: str) -> bytes:
    """Run git in `root` with no user or system configuration."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1"}
    env["XDG_CONFIG_HOME"] = str(root)
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, env=env
    ).stdout


def git_listing(root: Path) -> set[str]:
    """The untracked files git does not ignore."""
    if not (root / ".git").exists():
        git(root, "init", "-q")
    out = git(root, "ls-files", "--others", "--exclude-standard", "-z")
    return {name for name in out.decode().split("\0") if name}


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@needs_git
def test_the_index_agrees_with_git(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            ".gitignore": "*.log\n!important.log\nscratch/\ndata/*\n!data/keep/\n/*.tmp\n",
            "important.log": "",
            "debug.log": "",
            "a.tmp": "",
            "sub/a.tmp": "",
            "scratch/x.py": "",
            "data/raw.csv": "",
            "data/keep/k.csv": "",
            "src/.gitignore": "*.gen.py\n!keep.gen.py\nfixtures/**/big/\n",
            "src/a.gen.py": "",
            "src/keep.gen.py": "",
            "src/main.py": "",
            "src/fixtures/x/big/blob.txt": "",
            "src/fixtures/x/small/ok.txt": "",
            "src/deep/.gitignore": "!*.log\n",
            "src/deep/trace.log": "",
            "scratch2/.gitignore": "!x.py\n",
            "notes/todo.md": "",
            "notes/private.md": "",
        },
    )
    git(tmp_path, "init", "-q")
    (tmp_path / ".git/info/exclude").write_text("notes/private.md\n")
    assert rels(indexed(tmp_path)) == git_listing(tmp_path)


VOCABULARY = [
    *("*.log", "!keep.log", "/a.txt", "a.txt", "docs/", "!docs/", "docs/*", "!docs/keep.md"),
    *("**/tmp", "tmp/", "src/**/x.py", "*.py", "!src/*.py", "[ab].txt", "?.md", "\\#x", "sub"),
    *("sub/", "!sub/keep.log", "**/*.md", "docs/**", "!**/keep.*", "*", "!*/", "deep/", "!deep"),
    *("x.*", "!x.py", "/src/", "src/deep", "**/sub/**", "!sub/sub/", "*.txt  ", "\\!neg"),
]
TREE = [
    *("a.txt", "b.txt", "c.txt", "keep.log", "x.log", "x.py", "#x", "!neg", "a.md", "docs/a.md"),
    *("docs/keep.md", "docs/tmp/t.md", "src/x.py", "src/deep/x.py", "src/deep/y.md"),
    *("src/deep/keep.log", "sub/keep.log", "sub/z.py", "sub/sub/q.md", "tmp/t.txt"),
]
patterns = st.lists(st.sampled_from(VOCABULARY), max_size=6)


@needs_git
@settings(max_examples=40, deadline=None)
@given(patterns, patterns, patterns)
def test_random_ignore_files_agree_with_git(top: list[str], src: list[str], sub: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make(root, {name: "" for name in TREE})
        for where, lines in (("", top), ("src/", src), ("sub/", sub)):
            make(root, {f"{where}.gitignore": "\n".join(lines) + "\n"})
        assert rels(indexed(root)) == git_listing(root)


def test_git_info_exclude_has_the_lowest_precedence(tmp_path: Path) -> None:
    make(tmp_path, {".git/info/exclude": "*.csv\n", ".gitignore": "!keep.csv\n"})
    make(tmp_path, {"a.csv": "", "keep.csv": "", "a.py": ""})
    index = indexed(tmp_path)
    assert rels(index) == {".gitignore", "keep.csv", "a.py"}
    assert index.check(tmp_path / "a.csv") == "ignored by .git/info/exclude"
    assert index.check(tmp_path / ".git/config") == "excluded by default (.git/)"


def test_gitignores_above_the_root_apply_inside_a_repository(tmp_path: Path) -> None:
    make(tmp_path, {"repo/.gitignore": "*.tmp\n/pkg/skip.py\n", "repo/pkg/a.tmp": ""})
    make(tmp_path, {"repo/pkg/a.py": "", "repo/pkg/skip.py": "", "plain/.gitignore": "*.py\n"})
    make(tmp_path, {"plain/pkg/a.py": ""})
    (tmp_path / "repo/.git").mkdir()
    index = indexed(tmp_path / "repo/pkg")
    assert rels(index) == {"a.py"}
    assert index.check(tmp_path / "repo/pkg/a.tmp") == "ignored by ../.gitignore"
    # No repository above: a stray .gitignore up there is not ours to honour.
    assert rels(indexed(tmp_path / "plain/pkg")) == {"a.py"}


def test_kimiignore_works_like_a_gitignore_and_wins_at_its_level(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            ".gitignore": "generated/\n",
            ".kimiignore": "!generated/\nfixtures/\n",
            "generated/api_pb2.py": "",
            "fixtures/big.json": "",
            "sub/.kimiignore": "*.sql\n",
            "sub/dump.sql": "",
            "dump.sql": "",
        },
    )
    index = indexed(tmp_path)
    assert rels(index) == {
        ".gitignore",
        ".kimiignore",
        "sub/.kimiignore",
        "generated/api_pb2.py",
        "dump.sql",
    }
    assert index.check(tmp_path / "fixtures/big.json") == "ignored by .kimiignore"
    assert index.check(tmp_path / "sub/dump.sql") == "ignored by sub/.kimiignore"


def test_the_exclude_setting(tmp_path: Path) -> None:
    make(tmp_path, {"data/a.csv": "", "b.csv": "", "main.py": "", "build/gen.py": ""})
    index = indexed(tmp_path, exclude=["*.csv", "!build/"])
    assert rels(index) == {"main.py", "build/gen.py"}  # "!build/" overrides a default
    assert index.check(tmp_path / "b.csv") == "excluded by the exclude setting"
    generation = index.generation
    index.set_exclude(["main.py"])
    assert rels(index) == {"data/a.csv", "b.csv"}
    assert index.generation > generation


def test_defaults_and_virtualenvs(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "src/app.py": "",
            "node_modules/lib/index.js": "",
            ".venv/lib/site.py": "",
            "venv/lib/site.py": "",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/site.py": "",
            "my-env/pyvenv.cfg": "",
            "my-env/bin/activate": "",
            "env2/readme.md": "",  # no pyvenv.cfg: an ordinary directory
            "__pycache__/app.cpython-311.pyc": b"\0",
            "pkg.egg-info/PKG-INFO": "",
            "build/out.js": "",
            "dist/out.js": "",
            "target/debug/app": "",
            "web/app.min.js": "",
            "web/app.js.map": "",
            "package-lock.json": "{}",
            "Cargo.lock": "",
            ".git/HEAD": "ref: refs/heads/main\n",
        },
    )
    index = indexed(tmp_path)
    assert rels(index) == {"src/app.py", "env2/readme.md"}
    assert index.check(tmp_path / "env/lib/site.py") == "excluded by default (virtualenv)"
    assert (
        index.check(tmp_path / "node_modules/lib/index.js") == "excluded by default (node_modules/)"
    )
    assert index.check(tmp_path / "package-lock.json") == "excluded by default (package-lock.json)"
    assert index.excluded() == []  # ignored files are not listed


def test_secret_files_are_listed_and_refused_even_unsaved(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            ".gitignore": ".env\n",
            ".env": "API_KEY=x\n",
            ".env.example": "API_KEY=\n",
            "certs/server.pem": "",
            ".npmrc": "//registry.npmjs.org/:_authToken=abc\n",
            "web/.npmrc": "save-exact=true\n",
        },
    )
    index = indexed(tmp_path)
    assert rels(index) == {".gitignore", ".env.example", "web/.npmrc"}
    assert index.excluded() == [
        (".env", "secret file (.env)"),
        (".npmrc", "secret file (.npmrc with credentials)"),
        ("certs/server.pem", "secret file (*.pem)"),
    ]
    assert index.read_text(tmp_path / ".env") is None
    assert index.check(tmp_path / "pkg/.env.local") == "secret file (.env)"  # an unsaved document


def test_binary_and_oversize_files(tmp_path: Path) -> None:
    latin1 = ("x = 1  # caf\xe9\n" + "y = 2\n" * 100).encode("latin-1")
    make(
        tmp_path,
        {
            "image.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            "latin1.py": latin1,
            "noise.bin": bytes(range(128, 256)) * 4,
            "big.txt": "x" * 2000,
            "bom.py": b"\xef\xbb\xbfprint(1)\n",
            "ok.py": "print('h\xe9')\n",
        },
    )
    index = indexed(tmp_path, max_file_size=1000)
    assert "big.txt" not in rels(index)
    assert ("big.txt", "larger than maxFileSizeBytes") in index.excluded()
    assert index.check(tmp_path / "big.txt") == "larger than maxFileSizeBytes"
    for name in ("image.png", "noise.bin"):
        assert name in rels(index)  # binary detection is lazy, at read time
        assert index.check(tmp_path / name) == "binary file"
        assert index.read_text(tmp_path / name) is None
    text = index.read_text(tmp_path / "latin1.py")
    assert text is not None and text.startswith("x = 1  # caf\ufffd\n")
    assert index.read_text(tmp_path / "bom.py") == "print(1)\n"
    assert index.read_text(tmp_path / "ok.py") == "print('h\xe9')\n"
    assert index.check(tmp_path / "ok.py") is None


symlinks = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="symlinks")


@symlinks
def test_symlinks_inside_are_followed_and_those_leaving_are_listed(tmp_path: Path) -> None:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    make(root, {"src/real.py": "print(1)\n", ".env": "K=v\n"})
    make(outside, {"secret.py": "", "lib/x.py": ""})
    (root / "alias.py").symlink_to(root / "src/real.py")
    (root / "src-link").symlink_to(root / "src")
    (root / "notes.txt").symlink_to(root / ".env")
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "escape-dir").symlink_to(outside / "lib")
    (root / "broken.py").symlink_to(root / "missing.py")
    index = indexed(root)
    assert rels(index) == {"src/real.py", "alias.py"}  # the directory link is not walked twice
    alias = index.lookup(root / "alias.py")
    assert alias is not None and alias.path == root.resolve() / "alias.py"
    assert index.read_text(root / "alias.py") == "print(1)\n"
    listed = dict(index.excluded())
    assert listed["escape.py"] == listed["escape-dir"] == "symlink leaving the workspace"
    assert listed["notes.txt"] == "secret file (.env)"
    assert index.check(root / "escape.py") == "symlink leaving the workspace"
    assert index.check(root / "escape-dir/x.py") == "symlink leaving the workspace"
    assert index.read_text(root / "escape-dir/x.py") is None
    assert index.check(outside / "secret.py") == "outside the workspace"


def test_refresh_after_create_modify_delete(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": "a = 1\n", "b.py": ""})
    index = indexed(tmp_path)
    assert index.read_text(tmp_path / "a.py") == "a = 1\n"
    generation = index.generation

    make(tmp_path, {"new/deep/c.py": "c\n"})
    index.refresh([tmp_path / "new/deep/c.py"])
    assert "new/deep/c.py" in rels(index) and index.generation == generation + 1

    (tmp_path / "a.py").write_text("a = 22\n")
    os.utime(tmp_path / "a.py", ns=(1_000_000_000, 1_000_000_000))
    index.refresh([tmp_path / "a.py"])
    entry = index.lookup(tmp_path / "a.py")
    assert entry is not None and (entry.size, entry.mtime_ns) == (7, 1_000_000_000)
    assert index.read_text(tmp_path / "a.py") == "a = 22\n"  # not the cached text

    (tmp_path / "b.py").unlink()
    shutil.rmtree(tmp_path / "new")
    index.refresh([tmp_path / "b.py", tmp_path / "new"])
    assert rels(index) == {"a.py"}

    generation = index.generation
    index.refresh([tmp_path / "a.py", tmp_path / "b.py", Path("/elsewhere/x.py")])
    assert index.generation == generation  # nothing changed


def test_refresh_after_editing_a_gitignore(tmp_path: Path) -> None:
    make(tmp_path, {"pkg/gen/a.py": "", "pkg/b.py": "", "pkg/c.log": ""})
    index = indexed(tmp_path)
    assert rels(index) == {"pkg/gen/a.py", "pkg/b.py", "pkg/c.log"}
    make(tmp_path, {"pkg/.gitignore": "gen/\n*.log\n"})
    index.refresh([tmp_path / "pkg/.gitignore"])
    assert rels(index) == {"pkg/.gitignore", "pkg/b.py"}
    (tmp_path / "pkg/.gitignore").write_text("*.log\n")
    index.refresh([tmp_path / "pkg/.gitignore"])
    assert rels(index) == {"pkg/.gitignore", "pkg/b.py", "pkg/gen/a.py"}
    (tmp_path / "pkg/.gitignore").unlink()
    index.refresh([tmp_path / "pkg/.gitignore"])
    assert rels(index) == {"pkg/gen/a.py", "pkg/b.py", "pkg/c.log"}
    make(tmp_path, {".git/info/exclude": "pkg/b.py\n"})
    index.refresh([tmp_path / ".git/info/exclude"])
    assert rels(index) == {"pkg/gen/a.py", "pkg/c.log"}


def test_refresh_inside_an_ignored_directory_changes_nothing(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": "", "node_modules/x/index.js": ""})
    index = indexed(tmp_path)
    generation = index.generation
    make(tmp_path, {"node_modules/y/index.js": ""})
    index.refresh([tmp_path / "node_modules/y/index.js"])
    assert rels(index) == {"a.py"} and index.generation == generation


def test_files_are_sorted_and_deterministic_across_roots(tmp_path: Path) -> None:
    names = ["b.py", "a/z.py", "a.py", "A.py", "a/b/c.py", "_x.py", "a-b.py"]
    make(tmp_path / "two", {name: "" for name in names})
    make(tmp_path / "one", {name: "" for name in reversed(names)})
    first = WorkspaceIndex([tmp_path / "two", tmp_path / "one"])
    second = WorkspaceIndex([tmp_path / "one", tmp_path / "two"])
    first.build()
    second.build()
    listed = [(str(e.root), e.rel) for e in first.files()]
    assert listed == sorted(listed) and len(listed) == 2 * len(names)
    assert first.files() == second.files()
    assert (
        first.roots == second.roots == [(tmp_path / "one").resolve(), (tmp_path / "two").resolve()]
    )


def test_nested_roots_hold_each_file_once(tmp_path: Path) -> None:
    make(tmp_path, {"a.py": "", "inner/b.py": ""})
    index = WorkspaceIndex([tmp_path, tmp_path / "inner"])
    index.build()
    by_root = {(e.root.name, e.rel) for e in index.files()}
    assert by_root == {(tmp_path.name, "a.py"), ("inner", "b.py")}
    make(tmp_path, {"inner/.env": "K=v\n"})
    index.refresh([tmp_path / "inner/.env"])
    assert index.excluded() == [("inner/.env", "secret file (.env)")]
    assert index.root_of(tmp_path / "inner/b.py") == (tmp_path / "inner").resolve()
    assert index.contains(tmp_path / "a.py") and not index.contains(tmp_path.parent / "x.py")


def test_check_reasons(tmp_path: Path) -> None:
    make(tmp_path, {".gitignore": "out.txt\n", "out.txt": "", "ok.py": "", "dir/x.py": ""})
    index = indexed(tmp_path)
    assert index.check(tmp_path / "ok.py") is None
    assert index.check(str(tmp_path / "ok.py")) is None
    assert index.check(tmp_path.parent / "elsewhere.py") == "outside the workspace"
    assert index.check(tmp_path / "out.txt") == "ignored by .gitignore"
    assert index.check(tmp_path / "missing.py") == "no such file"
    assert index.check(tmp_path / "dir") == "not a file"
    # A file created since the build is checked by the same rules.
    make(tmp_path, {"later.py": "", "later/x.txt": "", "out.txt.bak": ""})
    assert index.check(tmp_path / "later/x.txt") is None


def test_excluded_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "MAX_EXCLUDED", 3)
    make(tmp_path, {f"k{i}.pem": "" for i in range(10)})
    assert len(indexed(tmp_path).excluded()) == 3


def test_build_swaps_so_readers_never_see_a_half_built_index(tmp_path: Path) -> None:
    make(tmp_path, {f"d{i}/f{j}.py": "" for i in range(20) for j in range(20)})
    index = indexed(tmp_path)
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            for _ in range(10):
                index.build()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=rebuild)
    thread.start()
    sizes = set()
    while thread.is_alive():
        sizes.add(len(index.files()))
        assert index.check(tmp_path / "d3/f4.py") is None
    thread.join()
    assert not errors and sizes <= {400}


def test_rule_set_matches_like_pathspec_on_files() -> None:
    pathspec = pytest.importorskip("pathspec")
    patterns = ["*.py", "!keep.py", "/top/*.txt", "docs/**/index.md", "**/tmp", "a?c", "[!x]y.z"]
    ours = RuleSet(patterns)
    theirs = pathspec.GitIgnoreSpec.from_lines(patterns)
    paths = ["a.py", "keep.py", "d/keep.py", "top/a.txt", "x/top/a.txt", "docs/index.md"]
    paths += ["docs/a/b/index.md", "q/tmp", "tmp", "abc", "a/abc", "ay.z", "xy.z", "d/by.z"]
    for path in paths:
        rule = ours.match(path, path.rsplit("/", 1)[-1], False)
        assert (rule is not None and not rule.negated) == theirs.match_file(path), path


# --- the walk's fast path: files no rule could exclude skip `decide` ---------------------------

CASED = [*VOCABULARY, "*.PY", "Makefile", "/A.txt", "docs/*.MD", "*.Log", "!*.Log", "[A-Z]*.cfg"]
NAMES = ["a.txt", "A.txt", "x.py", "x.PY", "keep.log", "x.Log", "Makefile", "makefile", "#x"]
NAMES += ["!neg", "a.md", "R.cfg", "r.cfg", "tmp", "package-lock.json", "PACKAGE-LOCK.JSON"]
DIRS = ["", "src", "src/deep", "docs", "sub", "sub/sub", "tmp", "other/docs"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(CASED), max_size=6),
    st.lists(st.sampled_from(CASED), max_size=6),
    st.lists(st.sampled_from(CASED), max_size=4),
    st.sampled_from(["", "up/"]),
)
def test_a_file_the_filter_lets_by_matches_no_rule(
    top: list[str], src: list[str], setting: list[str], above: str
) -> None:
    # The root's ignore file (or one above the root, whose patterns see `above` + rel), src's
    # own, the defaults, and the exclude setting.
    chains = {
        "": (Source(RuleSet(top), "", above, "top"), Source(DEFAULTS, "", "", "")),
    }
    chains["src"] = (Source(RuleSet(src), "src", "", "src"), *chains[""])
    exclude = RuleSet(setting) or None
    for directory in DIRS:
        chain = chains["src"] if directory.startswith("src") else chains[""]
        quick = file_filter(exclude, chain)
        for name in NAMES:
            rel = f"{directory}/{name}" if directory else name
            if quick.holds_in(directory) and not quick.may_exclude(name):
                assert decide(exclude, chain, rel, name, False) == "", (rel, top, src, setting)


TREE_FILES = [*TREE, "A.TXT", "X.PY", "Makefile", "docs/X.MD", "R.cfg", "lib/x.so", "Cargo.lock"]
TREE_FILES += [".env", "cfg/.ENV.local", "certs/server.PEM", "id_rsa", "id_rsa.pub", "deep/.npmrc"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(CASED), max_size=6),
    st.lists(st.sampled_from(CASED), max_size=6),
    st.lists(st.sampled_from(CASED), max_size=3),
)
def test_the_fast_path_indexes_and_lists_what_decide_would(
    top: list[str], src: list[str], setting: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make(root, {name: "token=abc\n" for name in TREE_FILES})
        make(root, {".gitignore": "\n".join(top) + "\n", "src/.gitignore": "\n".join(src)})
        fast = indexed(root, exclude=setting)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(FileFilter, "holds_in", lambda self, rel: False)
            slow = indexed(root, exclude=setting)
        assert fast.files() == slow.files()
        assert fast.excluded() == slow.excluded()


def test_path_patterns_apply_under_their_first_directory_only() -> None:
    rules = RuleSet(["/src/*.o", "docs/**/tmp", "[z-a]/bad/*.x", "/src/keep*.o"])
    assert rules.match("src/a.o", "a.o", False) == rules.rules[0]
    assert rules.match("src/keep1.o", "keep1.o", False) == rules.rules[3]
    assert rules.match("docs/a/b/tmp", "tmp", True) == rules.rules[1]
    for rel in ("lib/src/a.o", "a.o", "src", "x/docs/tmp", "z/bad/q.x"):
        assert rules.match(rel, rel.rsplit("/", 1)[-1], False) is None
    assert RuleSet(["/[z-a]/*.x"]).match("q/a.x", "a.x", False) is None  # malformed: ignored
