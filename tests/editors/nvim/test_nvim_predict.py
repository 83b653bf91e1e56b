"""Edit prediction in the Neovim plugin (issue 18), in real headless Neovim 0.11 against the real
server and the fake API (tests/editors/nvim/predict_fake.py answers each prediction request
from its content: ghost text from the end of the prefix, next edits by renaming `value` to
`amount` in every region).

Unlike test_nvim.py's scenarios (`nvim -l`), these run with `nvim --headless -S`: only then does
Neovim wait for keys in insert mode as it does for a user (under `-l` it would read stdin), so
TextChangedI, CursorMovedI and the completion menu behave as when typing. predict_lib.lua drives
the typing from a timer-resumed coroutine while Neovim sits in insert mode.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.editors.nvim.test_nvim import (
    Fake,
    Run,
    fake_api,
    pytestmark,  # noqa: F401  (skipped without Neovim 0.11, like test_nvim.py)
    run_scenario,
)

FAKE = "tests.editors.nvim.predict_fake"
GHOST_SOURCE = "def add(a, b):\n    return a + b\n\n\ndef adder(n):\n    return n\n\n"
RENAME_SOURCE = (
    "def scale(value, factor):\n"
    "    result = value * factor\n"
    "    print(result)\n"
    "    return result + value\n"
)
RENAMED = RENAME_SOURCE.replace("value", "amount")


def run_insert_scenario(name: str, tmp_path: Path, fake: Fake, files: dict[str, str]) -> Run:
    """run_scenario with `-S` instead of `-l` (see the module docstring)."""
    return run_scenario(name, tmp_path, fake, files=files, flag="-S")


def prefixes(fake: Fake) -> list[str]:
    """The continued prefix of each ghost-text request the fake received."""
    out = []
    for record in fake.requests():
        last = record["body"]["messages"][-1]
        if last["role"] == "assistant" and "<|region" not in last["content"]:
            out.append(last["content"])
    return out


def ghost(inline: str | None, lines: list[str], row: int, col: int) -> list[dict[str, Any]]:
    """One drawn suggestion as predict_lib.lua's P.ghost reports it (JSON drops nil keys)."""
    mark: dict[str, Any] = {"row": row, "col": col, "lines": lines}
    if inline is not None:
        mark.update(inline=inline, pos="inline", hl="KimiGhost")
    return [mark]


def test_ghost_text_while_typing(tmp_path: Path) -> None:
    with fake_api(tmp_path, [], module=FAKE) as fake:
        run = run_insert_scenario("predict_ghost", tmp_path, fake, {"calc.py": GHOST_SOURCE})
        data = run.data
        sent = prefixes(fake)
    body = ["    c = a * b", "    return c"]
    # Shown as the model continued "def mul(a, ": the first line inline at the cursor, the rest
    # as virtual lines under it.
    assert data["first"] == ghost("b):", body, row=7, col=11)
    assert data["requests_first"] == 1 and data["sent_first"] >= 1
    # The continued prefix is the buffer up to the cursor (the file's last, empty line typed on).
    assert sent[0].endswith("def adder(n):\n    return n\ndef mul(a, "), sent[0][-80:]
    # Typed through: shrunk at the new cursor, no request to the server nor to the model.
    assert data["typed"] == ghost(":", body, row=7, col=13)
    assert data["sent_typed"] == data["sent_first"]
    assert data["requests_typed"] == data["requests_first"]
    # Accept word (":"), then line (the next line), then <Tab> (the rest).
    assert data["word"] == ghost(None, body, row=7, col=14)
    assert data["line"] == ghost(None, ["    return c"], row=8, col=13)
    assert data["line_cursor"] == [8, 13]
    assert data["accepted"][6:] == ["def mul(a, b):", "    c = a * b", "    return c"]
    # The completion menu: the suggestion is hidden and <Tab> is the user's (next item).
    assert data["before_menu"][0]["inline"] == "d(1, 2)"
    assert data["menu_ghost"] == []
    menu = data["menu"]
    assert menu["pum"] == 1 and menu["ghost"] == []
    assert menu["after"] == menu["before"] + 1
    assert {"add", "adder"} <= set(menu["words"])
    assert menu["line"] == "x = " + menu["words"][menu["after"]]  # dedented after `return`
    # A cursor move dismisses without asking again.
    assert data["before_move"][0]["inline"] == "d(1, 2)"
    assert data["after_move"] == {"line": "x = ad", "sent": 0}
    assert data["before_mismatch"][0]["inline"] == "d(3, 4)"  # then "X" dismissed it
    # Nothing shown: <Tab> indents as the user's mapping says (expandtab in Python: spaces).
    assert data["tab_line"].strip() == "" and len(data["tab_line"]) > 0
    # "t = sq(|)" continued with "2) + 1": "2" drawn before the ")", " + 1" after it.
    assert data["closers"] == ghost("2", [], row=12, col=7) + ghost(" + 1", [], row=12, col=8)
    assert data["closers_line"] == "t = sq(2) + 1" and data["closers_cursor"] == [12, 13]
    tail = "def mul(a, b):\n    c = a * b\n    return c\nx = ad\nz = adX\nt = sq(2) + 1\n"
    assert data["text"].endswith(tail)


def test_next_edits_after_a_rename_accepted_hunk_by_hunk(tmp_path: Path) -> None:
    with fake_api(tmp_path, [], module=FAKE) as fake:
        run = run_insert_scenario("predict_next_edit", tmp_path, fake, {"scale.py": RENAME_SOURCE})
        data = run.data
        requests = fake.requests()
    # The other two uses, drawn as the inline edit's preview (changed rows, new lines).
    assert data["hunks"] == 2
    assert data["drawn"] == {
        "removed": [2, 4], "added": ["result = amount * factor", "return result + amount"],
    }  # fmt: skip
    assert {"ga", "gr", "gA", "gR", "]k"} <= set(data["maps"])
    # ]k jumps to the first suggested hunk (at its start), ga applies it; the other stays.
    assert data["jump1"] == [2, 13]
    assert data["after_one"] == RENAME_SOURCE.replace("value", "amount", 2).splitlines()
    assert data["drawn_one"] == {"removed": [4], "added": ["return result + amount"]}
    assert data["jump2"] == [4, 20]
    assert data["text"] == RENAMED
    assert data["left"] is True and data["marks"] == 0 and data["maps_after"] == 0
    assert data["prediction"]["accepted"] == 2 and data["prediction"]["rejected"] == 0
    # The prompt carried the user's edit as before/after text (the old name included).
    prompts = [json.dumps(r["body"]["messages"]) for r in requests if "<|region 1|>" in str(r)]
    assert prompts and all(
        "def scale(value, factor)" in p and "def scale(amount, factor)" in p for p in prompts
    )


def test_next_edits_rejected(tmp_path: Path) -> None:
    with fake_api(tmp_path, [], module=FAKE) as fake:
        files = {"scale.py": RENAME_SOURCE}
        run = run_insert_scenario("predict_next_reject", tmp_path, fake, files)
        data = run.data
    assert data["hunks"] == 2
    assert data["after_one"] == {"removed": [4], "added": ["return result + amount"]}
    assert data["after_all"] == {"removed": [], "added": []}
    assert data["text"] == RENAME_SOURCE.replace("value", "amount", 1)  # only the user's edit
    assert data["prediction"]["rejected"] == 2 and data["prediction"]["accepted"] == 0
    assert data["again"] == {"edits": 0}  # rejected edits are not suggested again


def test_predict_off_sends_nothing(tmp_path: Path) -> None:
    with fake_api(tmp_path, [], module=FAKE) as fake:
        run = run_insert_scenario("predict_off", tmp_path, fake, {"calc.py": GHOST_SOURCE})
        data = run.data
        sent = prefixes(fake)
    assert data["statusline_on"].endswith("predict:on")
    assert data["statusline_off"].endswith("predict:off")
    assert data["server_off"]["enabled"] is False
    off_line = "Prediction: off · 0 made, 0 shown, 0 accepted, 0 rejected · $0.0000"
    assert off_line in data["status_off"]  # :KimiStatus
    assert data["settings"]["kimi"]["prediction"]["enabled"] is True  # pushed back on
    # Off: typing asked nothing, of the server or the model.
    assert data["off"] == {"ghost": 0, "next_edit": 0, "requests": 0, "shown": []}
    assert not any(p.endswith("y = ad") for p in sent)
    # On again: ghost text for what is typed next, the server told.
    assert data["on"][0]["inline"] == "d(3, 4)"
    assert data["server_on"] is True
    [line] = [line for line in data["status_on"] if line.startswith("Prediction: on · ")]
    counts = re.search(r"(\d+) made, (\d+) shown", line)
    assert counts and int(counts[1]) >= 1 and int(counts[2]) >= 1, line  # the server's counts
    assert data["statusline_back"].endswith("predict:on")
