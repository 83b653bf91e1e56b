"""context/admission.py: which open documents may enter a prompt besides the focus (issue 16,
finding 4), judged on the editor's text where the disk's state does not apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimi_lsp.context.admission import open_document_reason
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.tokens.counter import TokenCounter

MAX_SIZE = 10_000


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> ContextEngine:
    root = tmp_path_factory.mktemp("admission") / "proj"
    for rel, text in {
        "app.py": "x = 1\n",
        ".gitignore": "build/\nlocal_*.py\n",
        ".kimiignore": "private/\n",
        "build/out.py": "y = 2\n",
        "private/notes.py": "z = 3\n",
        "local_dev.py": "w = 4\n",
        ".npmrc": "registry=https://registry.npmjs.org/\n",
        "build/.npmrc": "registry=https://registry.npmjs.org/\n",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    cache = tmp_path_factory.mktemp("admission-cache")
    counter = TokenCounter(env={"XDG_CACHE_HOME": str(cache), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"})
    counter.load()
    built = ContextEngine(counter)
    built.configure([root], ["*.generated.py"], MAX_SIZE)
    built.build_index()
    return built


def _reason(engine: ContextEngine, rel: str, text: str = "code = 1\n") -> str | None:
    root = engine.index.roots[0]
    return open_document_reason(engine, (root / rel).as_uri(), text, MAX_SIZE)


def test_a_workspace_file_passes_even_before_it_is_saved(engine: ContextEngine) -> None:
    assert _reason(engine, "app.py") is None
    assert _reason(engine, "pkg/never_saved.py") is None  # no file on disk yet


def test_ignored_and_excluded_documents_are_kept_out(engine: ContextEngine) -> None:
    assert _reason(engine, "build/out.py") == "ignored by .gitignore"
    assert _reason(engine, "local_dev.py") == "ignored by .gitignore"
    assert _reason(engine, "private/notes.py") == "ignored by .kimiignore"
    assert _reason(engine, "ui.generated.py") == "excluded by the exclude setting"
    assert _reason(engine, ".git/config") == "excluded by default (.git/)"


def test_outside_the_workspace_and_non_file_buffers_are_kept_out(
    engine: ContextEngine, tmp_path: Path
) -> None:
    outside = (tmp_path / "notes.py").as_uri()
    assert open_document_reason(engine, outside, "n = 1\n", MAX_SIZE) == "outside the workspace"
    untitled = open_document_reason(engine, "untitled:Untitled-1", "u = 1\n", MAX_SIZE)
    assert untitled == "untitled buffer"
    other = open_document_reason(engine, "vscode-notebook-cell:/x#1", "c = 1\n", MAX_SIZE)
    assert other == "vscode-notebook-cell: buffer (not a file)"


def test_secret_files_by_name_or_by_the_editors_text(engine: ContextEngine) -> None:
    assert _reason(engine, ".env") == "secret file (.env)"
    assert _reason(engine, "deploy/id_rsa") == "secret file (private key)"
    # .npmrc is secret only when it holds a token: the editor's text is judged too (the one
    # on disk has none), and a copy never saved counts as holding one (the safe side).
    clean = "registry=https://registry.npmjs.org/\n"
    assert _reason(engine, ".npmrc", clean) is None
    token = "//registry.npmjs.org/:_authToken=abc123\n"
    assert _reason(engine, ".npmrc", token) == "secret file (.npmrc with credentials)"
    assert _reason(engine, "sub/.npmrc", clean) == "secret file (.npmrc with credentials)"
    assert _reason(engine, "build/.npmrc", clean) is not None  # ignored, whatever it holds


def test_binary_or_large_editor_text_is_kept_out(engine: ContextEngine) -> None:
    assert _reason(engine, "blob.py", "a\0b") == "binary file"
    assert _reason(engine, "big.py", "x" * (MAX_SIZE + 1)) == "larger than maxFileSizeBytes"
    assert _reason(engine, "wide.py", "é" * (MAX_SIZE // 2 + 1)) == "larger than maxFileSizeBytes"
