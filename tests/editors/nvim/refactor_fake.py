"""The fake Kimi API scripted for a refactor: `python -m tests.editors.nvim.refactor_fake KEY`.

The refactor agent's requests need a callable reply (the planner, then one worker per file),
which the fake's JSON script cannot express; this serves the fake from a thread with that
callable as its default reply, prints `READY <base url>` like `python -m tests.fake_kimi`, and
runs until SIGTERM. The replies follow tests/e2e/test_refactor.py: rename Config to Settings in
pkg/config.py and pkg/app.py.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from kimi_lsp.agent.fanout import PLAN_PROMPT
from tests.editors.nvim.fake_process import serve
from tests.fake_kimi import Reply, ToolCall

EDITS: dict[str, dict[str, Any]] = {
    "pkg/config.py": {"old": "class Config:", "new": "class Settings:"},
    "pkg/app.py": {"old": "Config", "new": "Settings", "replace_all": True},
}
# A file the refactor creates (the edit to a uri that does not exist yet).
CREATED = {"pkg/compat.py": "from pkg.config import Settings\n\nConfig = Settings\n"}
PLAN = {
    "plan": "Rename Config to Settings.",
    "files": [{"path": rel, "change": "rename"} for rel in EDITS]
    + [{"path": rel, "change": "create"} for rel in CREATED],
}


def respond(body: dict[str, Any]) -> Reply:
    messages = body["messages"]
    if messages[0]["content"] == PLAN_PROMPT:
        if not any(m["role"] == "tool" for m in messages):
            return Reply(
                reasoning="look around", tool_calls=[ToolCall("search", {"pattern": "Config"})]
            )
        return Reply(reasoning="plan", content=json.dumps(PLAN))
    found = re.search(r"^# Your file: (\S+)$", messages[1]["content"], re.MULTILINE)
    rel = found.group(1) if found else ""
    if rel in CREATED:
        call = ToolCall("create_file", {"path": rel, "content": CREATED[rel]})
    elif rel in EDITS:
        call = ToolCall("replace_in_file", {"path": rel, **EDITS[rel]})
    else:
        return Reply(content=f"unexpected worker file {rel!r}")
    return Reply(
        reasoning=f"edit {rel}",
        tool_calls=[
            call,
            ToolCall("finish", {"summary": f"renamed in {rel}"}),
        ],
    )


def main(argv: list[str]) -> int:
    return serve(respond, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
