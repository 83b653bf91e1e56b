"""What a request is for (chat, edit, refactor, prediction): shared by context/ and model/."""

from __future__ import annotations

from typing import Literal

# The purpose picks the system prompt and the context's shape (context/) and whether the model
# thinks under `thinking: "auto"` (model/). A continuation is not a purpose: a request with a
# `prefix` continues an answer, whatever it is for.
Purpose = Literal["chat", "edit", "refactor", "prediction"]
