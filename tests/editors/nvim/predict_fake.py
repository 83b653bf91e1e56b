"""The fake Kimi API answering edit predictions: `python -m tests.editors.nvim.predict_fake KEY`.

Which prediction request comes when depends on typing pauses, so the replies are computed from
each request instead of scripted in order: a next-edit request (regions between `<|region K|>`
marker lines in the last user message) is answered with every region rewritten as the user
would go on (`value` renamed to `amount`, the rename the scenario starts); a ghost-text request
(a prefix continuation) is answered with the continuation in GHOST for the end of its prefix,
or nothing. Serves from a thread, prints `READY <base url>` like `python -m tests.fake_kimi`,
runs until SIGTERM.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from tests.editors.nvim.fake_process import serve
from tests.fake_kimi import Reply

# The end of the text before the cursor -> what the "model" continues it with.
GHOST = {
    "def mul(a, ": "b):\n    c = a * b\n    return c\n",
    "x = ad": "d(1, 2)\n",
    "z = ad": "d(3, 4)\n",
    "y = ad": "d(5, 6)\n",
    # Rewrites the rest of the line (an auto-closed ")"): "2" before it, " + 1" after it.
    "t = sq(": "2) + 1\n",
    # The README's screenshot (tests/editors/nvim/screenshots.py).
    "def stdev(values": ": list[float]) -> float:\n    return math.sqrt(variance(values))\n",
}
REGION = re.compile(r"<\|region (\d+)\|>\n(.*?)<\|/region \1\|>\n?", re.DOTALL)


def rename(text: str) -> str:
    return re.sub(r"\bvalue\b", "amount", text.replace("<|cursor|>", ""))


def next_edit(prompt: str, prefix: str) -> str:
    regions = REGION.findall(prompt)
    answer = "".join(f"<|region {k}|>\n{rename(t)}<|/region {k}|>\n" for k, t in regions)
    # With prefix continuation the answer continues the prefix (`<|region 1|>\n`).
    return answer.removeprefix(prefix) if prefix and answer.startswith(prefix) else answer


def ghost(prefix: str) -> str:
    for end, continuation in GHOST.items():
        if prefix.endswith(end):
            return continuation
    return ""


def respond(body: dict[str, Any]) -> Reply:
    messages = body["messages"]
    last = messages[-1]
    prefix = last["content"] if last["role"] == "assistant" else ""
    user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if isinstance(user, str) and "<|region 1|>" in user:
        return Reply(content=next_edit(user, prefix))
    return Reply(content=ghost(prefix))


def main(argv: list[str]) -> int:
    return serve(respond, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
