"""1,000 randomized trials of typing while an inline edit streams: no keystroke is ever lost."""

from __future__ import annotations

import random
import string
import time
from collections import Counter
from typing import Any

import pytest

from tests.fake_kimi import FakeKimi, Reply

from .servers import env_int, raw_server, run_seed, running_fake
from .typing_client import Edit, Editor, merged, offset, rebase
from .wire import RawServer

pytestmark = pytest.mark.serial

TRIALS = env_int("KIMI_TYPING_TRIALS", 1_000)
LINES = [f"v{i:02d} = {100 + i}\n" for i in range(10)]
DOCUMENT = "".join(LINES)
LEAKS = ("Traceback", "NoneType", "object has no attribute")


class Trial:
    """One inline edit (apply, or preview then accept) with keystrokes at random moments."""

    def __init__(self, n: int, rng: random.Random, server: RawServer, fake: FakeKimi) -> None:
        self.n, self.rng, self.server, self.fake = n, rng, server, fake
        self.mode = rng.choice(["apply", "preview"])
        self.editor = Editor(server, f"file:///typing/t{n}.txt", DOCUMENT)
        self.moments = {m for m in ("queued", "gated", "streaming", "on_apply", "before_accept")
                        if rng.random() < 0.4}  # fmt: skip
        self.log: list[str] = [f"trial {n}: mode {self.mode}, moments {sorted(self.moments)}"]

    def on_notification(self, method: str, params: Any) -> None:
        """Typing when the first preview of this edit arrives (the model is still writing)."""
        mine = method == "kimi/editPreview" and params["uri"] == self.editor.uri
        if mine and not self.typed_while_streaming:
            self.typed_while_streaming = True
            self.keystrokes("streaming")

    def keystrokes(self, moment: str) -> None:
        for _ in range(self.rng.randint(1, 3)):
            self.editor.type(self.random_edit())
        self.log.append(f"{moment}: typed -> {self.editor.text!r}")

    def random_edit(self) -> Edit:
        text = self.editor.text
        at = self.rng.randint(0, len(text))
        if self.rng.random() < 0.6 or len(text) < 4:
            marker = "Z" + "".join(self.rng.choices(string.ascii_uppercase, k=3))
            return (at, at, marker)
        at = min(at, len(text) - 1)
        return (at, min(len(text), at + self.rng.randint(1, 3)), "")

    def run(self, requests_so_far: int) -> str:
        rng, editor = self.rng, self.editor
        editor.open()
        first, last = sorted(rng.sample(range(len(LINES)), 2))
        new = "".join(
            f"v{i:02d} = {rng.randint(0, 999)}\n" if rng.random() < 0.5 else LINES[i]
            for i in range(first, last + 1)
        )
        gate = f"typing-{self.n}" if "gated" in self.moments else None
        streaming = "streaming" in self.moments
        self.fake.enqueue(
            Reply(content=new + "```", gate=gate, chunks=rng.randint(2, 5) if streaming else
                  rng.randint(1, 4), chunk_delay=0.002 if streaming else 0)
        )  # fmt: skip
        self.typed_while_streaming = not streaming
        self.log.append(f"lines {first}-{last} -> {new!r}")
        if "on_apply" in self.moments:
            editor.on_apply = lambda: self.keystrokes("on_apply")
        params = {
            "textDocument": {"uri": editor.uri},
            "range": {"start": {"line": first, "character": 0},
                      "end": {"line": last + 1, "character": 0}},
            "instruction": "renumber",
            "mode": self.mode,
        }  # fmt: skip
        msg_id = self.server.request("kimi/inlineEdit", params)
        if "queued" in self.moments:
            self.keystrokes("queued")
        if gate is not None:
            self.fake.wait_for_blocking(lambda: len(self.fake.chat_requests) > requests_so_far)
            self.keystrokes("gated")
            self.check_sync()  # the server has every keystroke before the model answers
            self.fake.open_gate(gate)
        response = self.server.wait(msg_id, 20)
        outcome, snapshot_version, hunks = self.outcome(response)
        self.check_final(outcome, snapshot_version, hunks)
        self.check_sync()
        editor.close()
        return outcome

    def outcome(self, response: dict[str, Any]) -> tuple[str, int | None, list[Edit]]:
        self.log.append(f"response: {response}")
        if "error" in response:
            error = response["error"]
            assert error["code"] == -32803, self.explain(f"unexpected error {error}")
            assert error["data"]["kind"] == "stale_document", self.explain(str(error))
            assert not any(leak in error["message"] for leak in LEAKS), self.explain("leak")
            assert "typing is untouched" in error["message"], self.explain("unclear refusal")
            return "refused", None, []
        result = response["result"]
        version = result["version"]
        snapshot = self.editor.texts[version]
        hunks = [
            (offset(snapshot, e["range"]["start"]["line"], e["range"]["start"]["character"]),
             offset(snapshot, e["range"]["end"]["line"], e["range"]["end"]["character"]),
             e["newText"])
            for e in result["edits"]
        ]  # fmt: skip
        applied = result["applied"]
        reason = result.get("reason")
        if self.mode == "preview":
            if "before_accept" in self.moments:
                self.keystrokes("before_accept")
            answer = self.server.call("kimi/acceptEdit", {"editId": result["editId"]})
            self.log.append(f"accept: {answer}")
            applied, reason = answer["applied"], answer.get("reason")
        if applied:
            return "applied", version, hunks
        assert isinstance(reason, str) and reason.strip(), self.explain("no reason given")
        return "not applied", version, hunks

    def check_final(self, outcome: str, version: int | None, hunks: list[Edit]) -> None:
        editor = self.editor
        if outcome != "applied":
            assert not editor.applied_edits, self.explain("refused, yet something was applied")
            return
        assert version is not None and len(editor.applied_edits) == 1, self.explain("one apply")
        before_apply = editor.texts[editor.version - 1]
        typed_later = [m for v, (_, _, m) in editor.user_edits if v > version and m]
        for marker in typed_later:
            if marker in before_apply:  # not deleted again by the user
                assert marker in editor.text, self.explain(f"keystroke {marker} was lost")
        user = [edit for v, edit in editor.user_edits if v > version]
        expected = {
            merged(before_apply, moved)
            for first in (True, False)
            if (moved := rebase(hunks, user, first)) is not None
        }
        assert expected, self.explain("applied although the typing overlapped the model's hunks")
        assert editor.text in expected, self.explain(f"expected one of {expected}")

    def check_sync(self) -> None:
        state = self.server.call("kimi/documentState", {"textDocument": {"uri": self.editor.uri}})
        assert state["text"] == self.editor.text, self.explain("server and editor disagree")

    def explain(self, problem: str) -> str:
        return "\n".join([problem, *self.log, f"final: {self.editor.text!r}"])


@pytest.fixture(scope="module")
def fake() -> Any:
    with running_fake() as handle:
        yield handle


def test_typing_while_inline_edits_stream_never_loses_a_keystroke(fake: FakeKimi) -> None:
    base = run_seed("KIMI_TYPING_SEED")
    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    with raw_server(fake) as server:
        trial: Trial | None = None

        def on_request(method: str, params: Any) -> Any:
            if method != "workspace/applyEdit":
                return None
            assert trial is not None
            return trial.editor.apply_edit(params)

        server.on_request = on_request
        server.on_notification = lambda method, params: (
            trial and trial.on_notification(method, params)
        )
        for n in range(TRIALS):
            trial = Trial(n, random.Random(base + n), server, fake)
            try:
                outcomes[trial.run(len(fake.chat_requests))] += 1
            except (AssertionError, TimeoutError) as exc:
                raise AssertionError(f"seed {base + n} (KIMI_TYPING_SEED={base}): {exc}") from None
        assert not server.tracebacks()
        assert not server.handler_errors
    elapsed = time.monotonic() - started
    print(f"\ntyping: {TRIALS} trials in {elapsed:.1f} s, seed {base}: {dict(outcomes)}")
    assert outcomes["applied"] > TRIALS // 4  # the trials do exercise the rebase, not only refusals
