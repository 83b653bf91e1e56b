"""Bare pygls language server with no features: the baseline for bench/plumbing.py."""

from lsprotocol.types import TextDocumentSyncKind
from pygls.lsp.server import LanguageServer


def main() -> None:
    """Serve LSP over stdio with pygls defaults and incremental text sync (like kimi-lsp)."""
    server = LanguageServer("bare", "0", text_document_sync_kind=TextDocumentSyncKind.Incremental)
    server.start_io()


if __name__ == "__main__":
    main()
