"""What an inline edit asks the model: the prompt and the assistant prefix that shapes the reply."""

from __future__ import annotations


def edit_prompt(instruction: str, where: str) -> str:
    """The user turn of an inline edit; `where` names the selection (e.g. "lines 3-9")."""
    return (
        f"Rewrite the selection ({where}) as instructed below. Reply with the complete "
        "replacement for exactly the selected text, in one fenced code block, keeping its "
        f"indentation. Instruction: {instruction}"
    )


def opening(language: str, original: str, starts_line: bool) -> str:
    """The assistant prefix that forces the reply's shape: a fence and the indentation."""
    indent = original[: len(original) - len(original.lstrip(" \t"))] if starts_line else ""
    return f"```{language}\n{indent}"
