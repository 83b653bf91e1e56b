"""What the connected client can do, read from its initialize capabilities in one place."""

from __future__ import annotations

from lsprotocol import types


class ClientCapabilities:
    """Questions about `initialize`'s client capabilities, each answered False when unsaid."""

    def __init__(self, capabilities: types.ClientCapabilities) -> None:
        self._caps = capabilities

    @property
    def document_changes(self) -> bool:
        """Versioned edits in workspace/applyEdit (VS Code yes, Neovim 0.11 only if asked)."""
        workspace = self._caps.workspace
        edit = workspace.workspace_edit if workspace else None
        return bool(edit and edit.document_changes)

    @property
    def work_done_progress(self) -> bool:
        window = self._caps.window
        return bool(window and window.work_done_progress)

    @property
    def code_action_tags(self) -> bool:
        document = self._caps.text_document
        action = document.code_action if document else None
        return bool(action and action.tag_support)

    @property
    def file_watching(self) -> bool:
        """Dynamic registration of workspace/didChangeWatchedFiles."""
        workspace = self._caps.workspace
        watched = workspace.did_change_watched_files if workspace else None
        return bool(watched and watched.dynamic_registration)

    @property
    def configuration_updates(self) -> bool:
        """Dynamic registration of workspace/didChangeConfiguration."""
        workspace = self._caps.workspace
        did_change = workspace.did_change_configuration if workspace else None
        return bool(did_change and did_change.dynamic_registration)

    @property
    def configuration_pull(self) -> bool:
        """workspace/configuration requests."""
        workspace = self._caps.workspace
        return bool(workspace and workspace.configuration)

    @property
    def inline_completion(self) -> bool:
        """textDocument/inlineCompletion (LSP 3.18): the client shows ghost text."""
        document = self._caps.text_document
        return bool(document and document.inline_completion)
