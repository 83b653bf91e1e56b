"""Usage numbers read from the API's various usage shapes, and their cost under the pricing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import Pricing
from .types import Usage

PER_MILLION = 1_000_000


def cost(prompt_tokens: int, cached_tokens: int, completion_tokens: int, pricing: Pricing) -> float:
    """Cached prompt tokens at the cache-hit price, the rest of the prompt at the input price."""
    cached = max(0, min(cached_tokens, prompt_tokens))
    uncached = prompt_tokens - cached
    total = (
        uncached * pricing.input_per_million
        + cached * pricing.cached_input_per_million
        + completion_tokens * pricing.output_per_million
    )
    return total / PER_MILLION


def field_of(obj: Any, name: str) -> Any:
    """A field of a mapping or an SDK model, including the model's undeclared extra fields."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        extra = getattr(obj, "model_extra", None)
        if isinstance(extra, Mapping):
            value = extra.get(name)
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def cached_tokens_of(raw: Any) -> int:
    """Moonshot's `usage.cached_tokens`, else `usage.prompt_tokens_details.cached_tokens`."""
    direct = field_of(raw, "cached_tokens")
    if direct is not None:
        return _int(direct)
    return _int(field_of(field_of(raw, "prompt_tokens_details"), "cached_tokens"))


def usage_from(raw: Any, pricing: Pricing) -> Usage:
    """Build `Usage` (with its cost) from a usage mapping or SDK object; None gives zeros."""
    prompt = _int(field_of(raw, "prompt_tokens"))
    completion = _int(field_of(raw, "completion_tokens"))
    cached = min(cached_tokens_of(raw), prompt)
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=cached,
        completion_tokens=completion,
        cost=cost(prompt, cached, completion, pricing),
        currency=pricing.currency,
    )


def merge_usage(first: Any, second: Any) -> Any:
    """Of two reports of the same request's usage, the more detailed one (never a sum)."""
    if first is None:
        return second
    if second is None:
        return first
    return second if cached_tokens_of(second) >= cached_tokens_of(first) else first
