"""A faithful local fake of the Kimi (Moonshot) chat-completions API for tests."""

from .config import TEST_KEY, FakeConfig
from .records import RecordedRequest, Stats, ValidationError
from .script import ErrorReply, Fault, Reply, StreamFault, ToolCall
from .server import FakeKimi
from .tokens import estimate_completion_tokens, estimate_prompt_tokens
from .validate import DEFAULT_MODELS, PREFIX_STYLES, ModelSpec

__all__ = [
    "DEFAULT_MODELS",
    "PREFIX_STYLES",
    "TEST_KEY",
    "ErrorReply",
    "FakeConfig",
    "FakeKimi",
    "Fault",
    "ModelSpec",
    "RecordedRequest",
    "Reply",
    "Stats",
    "StreamFault",
    "ToolCall",
    "ValidationError",
    "estimate_completion_tokens",
    "estimate_prompt_tokens",
]
