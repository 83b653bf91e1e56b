"""The texts of the slash commands answered without the model (/cost, /context)."""

from __future__ import annotations

from typing import Any

from ..context.plan import ContextPlan


def cost_text(usage: dict[str, Any]) -> str:
    """/cost: the session's usage (`UsageTotals.to_wire()`)."""
    return (
        f"This session: {usage['requests']} request(s), {usage['promptTokens']} prompt tokens "
        f"({usage['cachedTokens']} from the cache), {usage['completionTokens']} output tokens, "
        f"{usage['cost']:.4f} {usage['currency']}."
    )


def context_text(
    total: int,
    budget: int,
    tokenizer: str,
    history_messages: int,
    dropped: int,
    plan: ContextPlan | None,
    whole_window: bool = False,
) -> str:
    """/context: what the next request would send, section by section (/context all: what it
    would send with the whole window)."""
    which = (
        "the whole window"
        if whole_window
        else "the chat budget; start a message with /context all for the whole window"
    )
    lines = [
        f"The next chat request would send about {total} tokens of {budget} ({which}; "
        f"tokenizer: {tokenizer}).",
        f"- {history_messages} earlier message(s) of this conversation"
        + (f" ({dropped} older turn(s) dropped to fit)" if dropped else ""),
    ]
    for section in (plan.stable() + plan.volatile()) if plan else []:
        where = f" {section.uri}" if section.uri else ""
        cut = ", truncated" if section.truncated else ""
        lines.append(f"- {section.kind}{where}: {section.tokens} tokens ({section.reason}{cut})")
    for uri, reason in plan.excluded if plan else []:
        lines.append(f"- left out {uri}: {reason}")
    return "\n".join(lines)
