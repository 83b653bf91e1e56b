"""The kimi-k2.6 model client: streamed calls, retries, queueing, usage and typed errors."""

from .client import ModelClient
from .errors import ModelRequestError
from .limiter import FairLimiter
from .retry import RetryPolicy
from .types import (
    Completed,
    ContentDelta,
    ModelRequest,
    ModelResult,
    Purpose,
    ReasoningDelta,
    StreamEvent,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageTotals,
)

__all__ = [
    "Completed",
    "ContentDelta",
    "FairLimiter",
    "ModelClient",
    "ModelRequest",
    "ModelRequestError",
    "ModelResult",
    "Purpose",
    "ReasoningDelta",
    "RetryPolicy",
    "StreamEvent",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "UsageTotals",
]
