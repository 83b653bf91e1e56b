"""Ghost text's parts: the grid-aligned window, typing through, supersede, the stable context,
the params, and the engine with a scripted model."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from kimi_lsp.config import PredictionSettings, Settings
from kimi_lsp.documents import DocumentStore, Position, Range, TextChange, TextDocument
from kimi_lsp.errors import ErrorKind, InvalidInputError, RequestFailedError
from kimi_lsp.lsp.features.inline_completion import parse_params
from kimi_lsp.model.types import ModelRequest, ModelResult, Usage
from kimi_lsp.predict.context_cache import StableContext, import_signature
from kimi_lsp.predict.ghost import GhostRequest, GhostText
from kimi_lsp.predict.ghost_prompt import GRID, Limits, messages, window
from kimi_lsp.predict.ghost_trim import unfenced
from kimi_lsp.predict.meter import PredictionMeter
from kimi_lsp.predict.scheduler import Scheduler
from kimi_lsp.predict.suggestions import Suggestion, SuggestionCache
from kimi_lsp.secrets.redact import Redactor

KEY = "sk-" + "k" * 40
BIG = "".join(f"line_{i} = {i}\n" for i in range(2_000))


def doc_of(text: str) -> TextDocument:
    return TextDocument("file:///w/m.py", "python", 1, text)


# -- the window ----------------------------------------------------------------------------


def test_the_window_starts_on_the_grid_and_ends_at_the_cursor() -> None:
    doc = doc_of(BIG)
    win = window(doc, 100, 5, Limits.for_budget(4000))
    assert win.first % GRID == 0 and win.first <= 100 - 32
    assert win.prefix.startswith(f"line_{win.first} = ") and win.prefix.endswith("\nline_")
    assert win.suffix.startswith("100 = 100\nline_101")
    assert win.last % GRID == 0 and win.last >= 100 + 16


def test_consecutive_windows_share_the_prefix_while_typing_a_line() -> None:
    doc = doc_of(BIG)
    limits = Limits.for_budget(4000)
    one, two = window(doc, 500, 3, limits), window(doc, 500, 6, limits)
    assert two.prefix.startswith(one.prefix) and one.suffix.endswith(two.suffix[-20:])
    assert (one.first, one.last) == (two.first, two.last)


def test_the_window_stays_within_the_budget_on_long_lines() -> None:
    doc = doc_of(("x" * 500 + "\n") * 200)
    limits = Limits.for_budget(4000)
    win = window(doc, 150, 250, limits)
    assert len(win.prefix) <= limits.prefix_chars and len(win.suffix) <= limits.suffix_chars
    assert win.prefix.endswith("x" * 250)


def test_messages_put_the_stable_context_first_and_the_suffix_in_the_user_message() -> None:
    win = window(doc_of("def f():\n    return 1\n"), 1, 4, Limits.for_budget(4000))
    system, user = messages("SYSTEM.", "## imports", "m.py", "python", win)
    assert system["content"].startswith("SYSTEM.") and system["content"].endswith("## imports")
    assert "m.py (python)" in user["content"] and "return 1" in user["content"]


# -- typing through -------------------------------------------------------------------------


def made_at(doc: TextDocument, line: int, index: int, text: str) -> Suggestion:
    content = doc.line(line)
    above = doc.line(line - 1) if line else ""
    return Suggestion(
        text, False, line, content[:index], content[index:], doc.line_count, above,
        doc.line(line + 1),
    )  # fmt: skip


def type_into(doc: TextDocument, line: int, index: int, text: str) -> None:
    at = doc.position_from_index(line, index)
    doc.apply(TextChange(Range(at, at), text))


def test_typed_through_across_a_line_break_and_back() -> None:
    doc = doc_of("def f():\n    \nprint(f())\n")
    cache = SuggestionCache()
    cache.add(doc.uri, made_at(doc, 1, 4, "x = 1\n    return x"))
    type_into(doc, 1, 4, "x = 1\n    re")
    hit = cache.find(doc.uri, doc.line, doc.line_count, 2, 6)
    assert hit is not None and (hit.typed, hit.text) == ("x = 1\n    re", "turn x")
    doc.apply(TextChange(Range(Position(2, 5), Position(2, 6)), ""))  # a backspace
    back = cache.find(doc.uri, doc.line, doc.line_count, 2, 5)
    assert back is not None and back.text == "eturn x"
    assert cache.find(doc.uri, doc.line, doc.line_count, 1, 3) is None  # before its start


def test_an_edit_elsewhere_or_other_text_is_not_typing_through() -> None:
    doc = doc_of("a = 1\nb = \nc = 3\n")
    cache = SuggestionCache()
    cache.add(doc.uri, made_at(doc, 1, 4, "2"))
    type_into(doc, 1, 4, "7")
    assert cache.find(doc.uri, doc.line, doc.line_count, 1, 5) is None
    doc2 = doc_of("a = 1\nb = \nc = 3\n")
    cache.add(doc2.uri, made_at(doc2, 1, 4, "22"))
    type_into(doc2, 2, 0, "#")  # the next line changed
    type_into(doc2, 1, 4, "2")
    assert cache.find(doc2.uri, doc2.line, doc2.line_count, 1, 5) is None


def test_the_cache_keeps_the_latest_suggestions_per_document() -> None:
    cache = SuggestionCache()
    doc = doc_of("x\n")
    for i in range(20):
        cache.add(doc.uri, made_at(doc, 0, 1, f" = {i}"))
    assert len(cache) == 8
    hit = cache.find(doc.uri, doc.line, doc.line_count, 0, 1)
    assert hit is not None and hit.text == " = 19"
    cache.forget(doc.uri)
    assert len(cache) == 0


# -- supersede ------------------------------------------------------------------------------


async def test_a_newer_turn_answers_the_older_with_the_default_and_cancels_its_work() -> None:
    superseded = []
    scheduler = Scheduler(on_superseded=lambda: superseded.append(1))
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    async def quick() -> str:
        return "new"

    first = scheduler.begin("u")
    older = asyncio.ensure_future(scheduler.run("u", first, slow, "empty"))
    await started.wait()
    second = scheduler.begin("u")
    assert await scheduler.run("u", second, quick, "empty") == "new"
    assert await older == "empty" and cancelled.is_set() and superseded == [1]
    assert scheduler.in_flight() == 0


async def test_cancelling_the_request_itself_still_raises() -> None:
    scheduler = Scheduler()
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    call = asyncio.ensure_future(scheduler.run("u", scheduler.begin("u"), slow, "empty"))
    await started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


# -- the stable context ----------------------------------------------------------------------


async def test_the_stable_context_is_built_once_per_set_of_imports() -> None:
    built: list[int] = []
    tasks: list[asyncio.Task[None]] = []
    now = [0.0]

    async def compute(uri: str, doc: TextDocument) -> str:
        built.append(doc.version)
        return f"context v{doc.version}"

    stable = StableContext(
        compute, lambda c: tasks.append(asyncio.ensure_future(c)), lambda: now[0]
    )
    doc = doc_of("import os\n\nx = 1\n")
    assert stable.get(doc.uri, doc) == ""  # not ready: the request goes without it
    await asyncio.gather(*tasks)
    assert stable.get(doc.uri, doc) == "context v1" and stable.ready(doc.uri)
    doc.version = 2
    type_into(doc, 2, 5, "2")  # no import changed
    now[0] += 60
    assert stable.get(doc.uri, doc) == "context v1" and built == [1]
    doc.version = 3
    type_into(doc, 0, 9, ", sys")
    assert stable.get(doc.uri, doc) == "context v1"  # the new one is on its way
    await asyncio.gather(*tasks)
    assert stable.get(doc.uri, doc) == "context v3" and built == [1, 3]


def test_import_signature_looks_at_import_lines_only() -> None:
    one, two = doc_of("import os\nx = 1\n"), doc_of("import os\nx = 2\n")
    assert import_signature(one) == import_signature(two)
    assert import_signature(one) != import_signature(doc_of("import sys\nx = 1\n"))


# -- params ---------------------------------------------------------------------------------


def test_params() -> None:
    base = {"textDocument": {"uri": "file:///a.py"}, "position": {"line": 1, "character": 2}}
    assert parse_params(base) == GhostRequest("file:///a.py", Position(1, 2))
    invoked = parse_params({**base, "context": {"triggerKind": 1}})
    assert invoked.invoked and not invoked.completion_menu
    menu = {"triggerKind": 2, "selectedCompletionInfo": {"range": {}, "text": "x"}}
    assert parse_params({**base, "context": menu}).completion_menu
    for bad, words in [
        ({"position": base["position"]}, "textDocument"),
        ({**base, "position": {"line": -1, "character": 0}}, "position"),
        ({**base, "context": {"triggerKind": "1"}}, "triggerKind"),
        ({**base, "context": []}, "context"),
    ]:
        with pytest.raises(InvalidInputError, match=words):
            parse_params(bad)


# -- the engine with a scripted model -----------------------------------------------------


class Model:
    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest) -> ModelResult:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        usage = Usage(prompt_tokens=100, completion_tokens=10, cost=0.001)
        return ModelResult(answer, "", [], "stop", usage, "r1", reply=answer, continued=True)


class Host:
    def __init__(self, model: Model, **prediction: Any) -> None:
        self.documents = DocumentStore()
        self.settings = Settings(
            api_key=KEY, prediction=PredictionSettings(debounce_ms=0, **prediction)
        )
        self.model = model
        self.redactor = Redactor(KEY, True)

    def redact(self, text: str) -> str:
        return self.redactor(text)[0]


def engine(model: Model, **prediction: Any) -> tuple[GhostText, Host]:
    host = Host(model, **prediction)
    stable = StableContext(lambda uri, doc: asyncio.sleep(0, ""), lambda c: c.close())
    return GhostText(host, PredictionMeter(), stable), host  # type: ignore[arg-type]


async def test_the_engine_answers_meters_and_caches() -> None:
    model = Model("a + b\n\nprint(f())\n")
    ghost, host = engine(model)
    uri = "file:///w/m.py"
    host.documents.open(
        uri, "python", 1, f"KEY = '{KEY}'\ndef f(a, b):\n    return \n\nprint(f())\n"
    )
    [item] = await ghost.complete(GhostRequest(uri, Position(2, 11)))
    assert item.text == "a + b" and item.range.start == item.range.end == Position(2, 11)
    [again] = await ghost.complete(GhostRequest(uri, Position(2, 11)))
    assert again.text == "a + b" and len(model.requests) == 1
    request = model.requests[0]
    assert request.purpose == "prediction" and request.prefix is not None
    assert KEY not in request.prefix and request.prefix.endswith("    return ")
    meter = ghost.meter
    assert (meter.made, meter.shown, meter.cached, round(meter.cost, 6)) == (1, 2, 1, 0.001)


async def test_the_engine_answers_nothing_without_calling_the_model() -> None:
    ghost, host = engine(Model())
    host.documents.open("file:///w/.env", "dotenv", 1, "TOKEN=\n")
    host.documents.open("file:///w/m.py", "python", 1, "x = \n")
    assert await ghost.complete(GhostRequest("file:///w/.env", Position(0, 6))) == []
    assert await ghost.complete(GhostRequest("file:///w/gone.py", Position(0, 0))) == []
    assert await ghost.complete(GhostRequest("file:///w/m.py", Position(9, 0))) == []
    menu = GhostRequest("file:///w/m.py", Position(0, 4), completion_menu=True)
    assert await ghost.complete(menu) == []
    capped, host2 = engine(Model(), max_cost_per_hour=0.0)
    host2.documents.open("file:///w/m.py", "python", 1, "x = \n")
    assert await capped.complete(GhostRequest("file:///w/m.py", Position(0, 4))) == []
    assert capped.meter.capped == 1 and capped.meter.made == 0


async def test_a_failing_model_answers_nothing_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failure = RequestFailedError(ErrorKind.SERVER, "The API failed (500).")
    ghost, host = engine(Model(failure, failure, "1\n"))
    host.documents.open("file:///w/m.py", "python", 1, "x = \n")
    for _ in range(2):
        assert await ghost.complete(GhostRequest("file:///w/m.py", Position(0, 4))) == []
    [item] = await ghost.complete(GhostRequest("file:///w/m.py", Position(0, 4)))
    assert item.text == "1"
    assert sum("Ghost text: the model failed" in r.message for r in caplog.records) == 1


async def test_without_prefix_continuation_the_prefix_goes_in_the_prompt() -> None:
    class ChatModel(Model):
        async def complete(self, request: ModelRequest) -> ModelResult:
            self.requests.append(request)
            reply = "```python\nx + 1\n```\nThis adds one."
            return ModelResult(reply, "", [], "stop", Usage(), "r2", reply=reply)

    model = ChatModel()
    ghost, host = engine(model)
    host.settings = dataclasses.replace(host.settings, model="local-coder")  # prefixMode none
    host.documents.open("file:///w/m.py", "python", 1, "def f(x):\n    return \n")
    [item] = await ghost.complete(GhostRequest("file:///w/m.py", Position(1, 11)))
    assert item.text == "x + 1"
    user = model.requests[0].messages[1]["content"]
    assert "<|before_cursor|>\ndef f(x):\n    return <|/before_cursor|>" in user


def test_unfenced() -> None:
    assert unfenced("```py\na\nb\n```\ntext") == "a\nb"
    assert unfenced("a\n```") == "a\n```"  # not fenced at its start: the trimming cuts it


async def test_a_secret_file_has_no_stable_context_whoever_asks() -> None:
    from kimi_lsp.lsp.server import create_server

    server = create_server(env={})
    planned: list[object] = []

    async def plan(*args: object, **kwargs: object) -> object:
        planned.append(args)
        raise AssertionError("the context engine was asked about a secret file")

    server.services.context.plan = plan  # type: ignore[method-assign,assignment]
    doc = server.documents.open("file:///w/.env", "dotenv", 1, "import_token=1\n")
    assert await server.services.ghost._stable_block(doc.uri, doc) == ""
    assert planned == []
