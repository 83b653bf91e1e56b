"""Kimi K2's tokenizer: split pattern, reserved special tokens, chat format, tiktoken encoding."""

from __future__ import annotations

from typing import Any

# Mergeable ranks in moonshotai/Kimi-K2.6's `tiktoken.model`; the 256 specials follow them.
KIMI_RANK_COUNT = 163_584
KIMI_SPECIAL_COUNT = 256
ENCODING_NAME = "kimi-k2"

# The split pattern of the model repo's tokenization_kimi.py, verbatim. tiktoken's engine
# (fancy-regex over Rust's regex) accepts the `[...&&[^\p{Han}]]` class intersections as
# written; tests/unit/test_tokens.py checks on mixed Latin/CJK/Greek/Korean text that tiktoken
# splits exactly like Python's `regex` module in V1 mode (intersection semantics) and like a
# lookahead rewrite `(?:(?!\p{Han})[...])`, so `&` is never read as a literal there.
KIMI_PATTERN_PARTS = (
    r"""[\p{Han}]+""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*"""
    r"""[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+"""
    r"""[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
)
KIMI_PATTERN = "|".join(KIMI_PATTERN_PARTS)

# Named specials by offset from the first special id (163584 in the real file); the rest of
# the 256 are `<|reserved_token_{id}|>`, as tokenization_kimi.py names them.
NAMED_SPECIALS = {
    0: "[BOS]",
    1: "[EOS]",
    2: "<|im_end|>",
    3: "<|im_user|>",
    4: "<|im_assistant|>",
    6: "<|start_header_id|>",
    7: "<|end_header_id|>",
    9: "[EOT]",
    10: "<|im_system|>",
    11: "<|tool_calls_section_begin|>",
    12: "<|tool_calls_section_end|>",
    13: "<|tool_call_begin|>",
    14: "<|tool_call_argument_begin|>",
    15: "<|tool_call_end|>",
    17: "<|im_middle|>",
    254: "[UNK]",
    255: "[PAD]",
}

ROLE_MARKERS = {
    "system": "<|im_system|>",
    "user": "<|im_user|>",
    "assistant": "<|im_assistant|>",
    "tool": "<|im_system|>",
}


def kimi_special_tokens(rank_count: int = KIMI_RANK_COUNT) -> dict[str, int]:
    """The 256 special tokens, numbered right after the mergeable ranks."""
    return {
        NAMED_SPECIALS.get(offset, f"<|reserved_token_{rank_count + offset}|>"): rank_count + offset
        for offset in range(KIMI_SPECIAL_COUNT)
    }


def build_kimi_encoding(ranks: dict[bytes, int]) -> Any:
    """A `tiktoken.Encoding` for verified Kimi ranks (imports tiktoken: call off the loop)."""
    import tiktoken

    specials = kimi_special_tokens(len(ranks))
    return tiktoken.Encoding(
        name=ENCODING_NAME,
        pat_str=KIMI_PATTERN,
        mergeable_ranks=ranks,
        special_tokens=specials,
        explicit_n_vocab=len(ranks) + len(specials),
    )


def message_frame(role: str, name: str | None = None) -> str:
    """The text the chat template wraps around one message's content, specials included:
    `<|im_user|>user<|im_middle|>` … `<|im_end|>` (a named message shows its name)."""
    marker = ROLE_MARKERS.get(role, "<|im_system|>")
    return f"{marker}{name or role}<|im_middle|><|im_end|>"


# What the server appends to every request: the assistant's header to generate after.
GENERATION_PROMPT = "<|im_assistant|>assistant<|im_middle|>"

# Around an assistant message's tool calls and each call; a tool result's content prefix.
TOOL_CALLS_FRAME = "<|tool_calls_section_begin|><|tool_calls_section_end|>"
TOOL_CALL_FRAME = "<|tool_call_begin|><|tool_call_argument_begin|><|tool_call_end|>"
THINK_FRAME = "<think></think>"


def tool_result_prefix(tool_call_id: str) -> str:
    return f"## Return of {tool_call_id}\n"
