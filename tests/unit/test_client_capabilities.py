"""What the client can do, answered from initialize's capabilities (False when unsaid)."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from kimi_lsp.lsp.client import ClientCapabilities

QUESTIONS = [
    "document_changes",
    "work_done_progress",
    "code_action_tags",
    "file_watching",
    "configuration_updates",
    "configuration_pull",
]


def test_a_client_that_says_nothing_can_do_nothing() -> None:
    client = ClientCapabilities(types.ClientCapabilities())
    assert [getattr(client, q) for q in QUESTIONS] == [False] * len(QUESTIONS)


def test_the_real_profiles_of_vs_code_and_neovim() -> None:
    vscode = ClientCapabilities(client_capabilities("visual-studio-code"))
    neovim = ClientCapabilities(client_capabilities("neovim"))
    assert [q for q in QUESTIONS if getattr(vscode, q)] == [
        "document_changes", "work_done_progress", "file_watching", "configuration_updates",
        "configuration_pull",
    ]  # fmt: skip
    assert [q for q in QUESTIONS if getattr(neovim, q)] == [
        "work_done_progress",
        "configuration_pull",
    ]


@pytest.mark.parametrize(
    ("capabilities", "question"),
    [
        (types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True))),
         "document_changes"),
        (types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True)),
         "work_done_progress"),
        (types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True)),
         "configuration_pull"),
        (types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(tag_support=types.CodeActionTagOptions(
                value_set=[types.CodeActionTag.LlmGenerated])))),
         "code_action_tags"),
    ],
)  # fmt: skip
def test_each_answer_reads_its_own_capability(
    capabilities: types.ClientCapabilities, question: str
) -> None:
    client = ClientCapabilities(capabilities)
    assert [q for q in QUESTIONS if getattr(client, q)] == [question]
