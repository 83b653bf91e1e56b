"""The fake's configuration: keys, models, continuation styles and wire-format options."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .dialects import DIALECTS
from .script import Reply, Scripted
from .validate import DEFAULT_MODELS, PREFIX_STYLES, ModelSpec, Rules

TEST_KEY = "sk-test-fake"


@dataclass
class FakeConfig:
    """Everything about the fake that is not per-request scripting."""

    api_keys: Sequence[str] | None = (TEST_KEY,)
    """Accepted `Authorization: Bearer` keys; None accepts any non-empty key."""
    models: Sequence[ModelSpec] = DEFAULT_MODELS
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    prefix_styles: Sequence[str] = ("partial",)
    """Continuation styles this endpoint understands (see `validate.PREFIX_STYLES`)."""
    unaccepted_prefix: Literal["plain", "repeat", "reject"] = "plain"
    """What a continuation flag the endpoint does not understand does: ignored and the reply is
    sent as scripted (`plain`), ignored and the reply repeats the prefix (`repeat`), or 400."""
    repeat_prefix: bool = False
    """Fault mode (vLLM-like relays): every continuation reply starts by repeating the prefix."""
    tool_call_id_style: str = "functions.name:N"
    """`functions.name:N`, `name:N`, `name_N`, or a `str.format` pattern with {name} and {n}."""
    sse_framing: Literal["chunked", "close"] = "chunked"
    """Streams use chunked encoding (connection kept alive) or end by closing the connection."""
    strict_sampling: bool = True
    """Reject top_p, n and the penalties even when they carry the fixed values (whether the
    API takes them is unknown: the stricter reading; temperature keeps its documented rule)."""
    default_max_tokens: int = 0
    """Output tokens assumed for the context-window check when the request sets none."""
    default_reply: Scripted = field(default_factory=lambda: Reply(content="ok"))
    """Served when the script queue is empty."""
    dialect: Literal["moonshot", "llamacpp", "vllm"] = "moonshot"
    """Which server to imitate: Moonshot's API, llama-cpp-python's or vLLM's server (see
    `dialects`)."""
    runaway_tokens: int = 2_048
    """llamacpp: how long an answer without `max_tokens` runs on (its context filling up)."""
    honor_include_usage: bool = True
    """False: the endpoint ignores `stream_options.include_usage` (as some relays do), so a
    stream's usage is only in the finishing chunk's `choices[0].usage`."""
    check_issued_ids: bool = True
    """moonshot: refuse a history whose assistant tool calls carry ids the fake never sent."""
    issued_tool_call_ids: Sequence[str] = ()
    """Ids taken as already issued (histories a test writes by hand)."""
    bound_output: bool = False
    """moonshot: cut answers at the request's `max_completion_tokens` (or `max_tokens`) as the
    real API does; off by default, so scripted replies are sent whole."""

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {self.dialect!r}; known: {DIALECTS}")
        unknown = set(self.prefix_styles) - set(PREFIX_STYLES)
        if unknown:
            raise ValueError(f"unknown prefix style(s) {sorted(unknown)}; known: {PREFIX_STYLES}")

    def rules(self) -> Rules:
        return Rules(
            models={m.id: m for m in self.models},
            prefix_styles=frozenset(self.prefix_styles),
            strict_sampling=self.strict_sampling,
            default_max_tokens=self.default_max_tokens,
            dialect=self.dialect,
            runaway_tokens=self.runaway_tokens,
            bound_output=self.bound_output,
        )
