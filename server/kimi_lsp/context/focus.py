"""Where the user is (a Focus), and the one builder of the context request that follows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..documents import Position, Range, TextDocument
from ..errors import InvalidInputError
from ..purpose import Purpose

if TYPE_CHECKING:
    from .builder import ContextRequest, OpenDocument
    from .slices import Slice

__all__ = ["Focus", "Location", "request_for_focus"]


@dataclass(frozen=True, slots=True)
class Location:
    """A span of a file the editor pointed at (an LSP Location: where a definition is)."""

    uri: str
    range: Range


@dataclass(frozen=True, slots=True)
class Focus:
    """Where the user is: a document and a selection or cursor (all optional)."""

    uri: str | None = None
    range: Range | None = None
    position: Position | None = None
    diagnostics: tuple[str, ...] = ()
    # Where the editor's other language servers say the identifiers near the cursor are
    # defined (v2 `definitions`); read into slices by whoever builds the request.
    definitions: tuple[Location, ...] = ()


def request_for_focus(
    purpose: Purpose,
    focus: Focus,
    instruction: str,
    current: OpenDocument | None,
    *,
    positions: TextDocument | None = None,
    secret_reason: str | None = None,
    recent: Sequence[OpenDocument] = (),
    reserved_tokens: int = 0,
    definitions: Sequence[Slice] = (),
) -> ContextRequest:
    """The request of `purpose` focused where the user is.

    `current` is the focused document's text (None without a document); `positions` maps the
    focus's range to offsets into that text (None when it cannot, e.g. a document read from
    disk: then only the focus's position, if any, gives the cursor line).
    `secret_reason` says the focused document is a secret file: its text never enters a
    prompt, so an edit of it is refused here. `definitions` are the focus's locations,
    already read (and checked) into slices.
    """
    # Loaded with the first request, not at start-up (the builder brings the tokenizer).
    from .builder import ContextRequest
    from .prompt import SYSTEM_PROMPTS

    if secret_reason is not None and purpose == "edit":
        name = (focus.uri or "").rsplit("/", 1)[-1]
        raise InvalidInputError(
            f"{name} is a {secret_reason}: kimi never sends secret files to the model, "
            "so it cannot edit this one."
        )
    selection = None
    cursor_line = None
    if focus.uri is not None:
        if focus.range is not None and positions is not None:
            selection = positions.range_to_offsets(focus.range)
            cursor_line = focus.range.start.line
        elif focus.position is not None:
            cursor_line = focus.position.line
    return ContextRequest(
        purpose=purpose,
        instruction=instruction,
        system_prompt=SYSTEM_PROMPTS[purpose],
        current=current,
        selection=selection,
        cursor_line=cursor_line,
        diagnostics=focus.diagnostics,
        recent=tuple(recent),
        reserved_tokens=reserved_tokens,
        secret_reason=secret_reason,
        definitions=tuple(definitions),
    )
