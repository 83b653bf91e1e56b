"""Regression tests for the unbounded growth the soak test found."""

from __future__ import annotations

from pathlib import Path

from kimi_lsp.chat.conversations import MAX_CONVERSATIONS, ConversationStore, Turn


def test_conversations_held_in_memory_are_bounded() -> None:
    store = ConversationStore(None)  # no cache directory: nothing is ever pruned from disk
    for _ in range(MAX_CONVERSATIONS + 30):
        store.get_or_create(None)  # e.g. chats cancelled before their first answer
    assert len(store._live) == MAX_CONVERSATIONS


def test_a_conversation_dropped_from_memory_is_read_back_from_disk(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    first = store.get_or_create("first")
    first.turns.append(Turn(user="q", assistant="a"))
    store.save(first)
    for n in range(MAX_CONVERSATIONS):
        store.get_or_create(f"other-{n}")
    assert "first" not in store._live
    again = store.get_or_create("first")
    assert [t.assistant for t in again.turns] == ["a"]
