"""The chat service with fake ports: turn numbers, the per-conversation lock and its table."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kimi_lsp.chat.commands import Slash, parse
from kimi_lsp.chat.conversations import ConversationStore, Turn
from kimi_lsp.chat.locks import KeyedLocks
from kimi_lsp.chat.request import ChatRequest, DeltaKind
from kimi_lsp.chat.service import ChatPorts, ChatService
from kimi_lsp.config import ContextBudget, Settings
from kimi_lsp.context.focus import Focus
from kimi_lsp.context.plan import ContextPlan
from kimi_lsp.model.types import ContentDelta, ModelRequest, ModelResult, StreamEvent, Usage
from kimi_lsp.tokens.counter import TokenCounter


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    cache = tmp_path_factory.mktemp("chat-tokens")
    env = {"XDG_CACHE_HOME": str(cache), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}
    loaded = TokenCounter(env=env, counting_threads=0)
    loaded.load()
    return loaded


class FakeModel:
    """Answers "answer N" (one delta), waiting at `gate` first when one is set."""

    def __init__(self) -> None:
        self.requests: list[ModelRequest] = []
        self.started = asyncio.Event()
        self.gate: asyncio.Event | None = None

    async def complete(
        self,
        request: ModelRequest,
        on_event: Callable[[StreamEvent], Awaitable[None] | None] | None = None,
    ) -> ModelResult:
        self.requests.append(request)
        text = f"answer {len(self.requests)}"
        if on_event is not None:
            on_event(ContentDelta(text))
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        return ModelResult(text, "", [], "stop", Usage(prompt_tokens=10), request_id="fake")


class Chat:
    """A chat service over fake ports, with what it streamed to its 'client'."""

    def __init__(
        self,
        counter: TokenCounter,
        directory: Path | None = None,
        settings: Settings | None = None,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        self.model = FakeModel()
        self.deltas: list[tuple[str, int, DeltaKind, str]] = []
        self.store = ConversationStore(directory)
        self.budgets: list[int] = []  # the budget of each context planned

        async def loaded() -> TokenCounter:
            return counter

        async def plan(focus: Focus, question: str, reserved: int, budget: int) -> ContextPlan:
            self.budgets.append(budget)
            return ContextPlan("chat", budget, 0, [])

        ports = ChatPorts(
            model=lambda: self.model,
            token_counter=loaded,
            plan_context=plan,
            redact=redact,
            settings=lambda: settings or Settings(),
            usage_summary=lambda: {
                "requests": len(self.model.requests),
                "promptTokens": 0,
                "cachedTokens": 0,
                "completionTokens": 0,
                "cost": 0.0,
                "currency": "USD",
            },
            on_delta=lambda *delta: self.deltas.append(delta),
        )
        self.service = ChatService(ports, self.store)

    async def say(self, message: str, conversation_id: str | None = None) -> tuple[int, str]:
        answer = await self.service.run(ChatRequest(message, conversation_id, use_context=False))
        return answer.turn, answer.content


async def test_local_replies_take_turn_numbers_of_their_own(counter: TokenCounter) -> None:
    chat = Chat(counter)
    first = await chat.service.run(ChatRequest("hello", use_context=False))
    cid = first.conversation_id
    replies = [first.turn]
    for message in ("/cost", "next", "/context", "/clear", "after the clear"):
        turn, _ = await chat.say(message, cid)
        replies.append(turn)
    assert replies == [1, 2, 3, 4, 5, 6]
    streamed = sorted({turn for _, turn, _, _ in chat.deltas})
    assert streamed == replies  # every reply streamed under its own number
    assert len(chat.model.requests) == 3  # local commands never call the model


async def test_turn_numbers_stay_taken_after_a_restart(
    counter: TokenCounter, tmp_path: Path
) -> None:
    before = Chat(counter, tmp_path)
    first = await before.service.run(ChatRequest("hello", use_context=False))
    assert (await before.say("/cost", first.conversation_id))[0] == 2
    after = Chat(counter, tmp_path)
    turn, _ = await after.say("again", first.conversation_id)
    assert turn == 3
    history = [m["content"] for m in after.model.requests[-1].messages]
    assert history[1:3] == ["hello", "answer 1"]


async def test_conversations_saved_before_turn_counting_go_on_numbering(
    counter: TokenCounter, tmp_path: Path
) -> None:
    turns = [{"user": "q", "assistant": "a"}, {"user": "q2", "assistant": "a2"}]
    old = {"id": "old", "updated": 0, "firstTurn": 4, "turns": turns}  # turns 4 and 5
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    chat = Chat(counter, tmp_path)
    assert (await chat.say("more", "old"))[0] == 6
    saved = json.loads((tmp_path / "old.json").read_text(encoding="utf-8"))
    assert saved["lastTurn"] == 6 and saved["firstTurn"] == 4  # what an older server reads


async def test_clear_waits_for_the_running_turn_of_its_conversation(
    counter: TokenCounter,
) -> None:
    chat = Chat(counter)
    cid = (await chat.service.run(ChatRequest("one", use_context=False))).conversation_id
    chat.model.started.clear()
    chat.model.gate = asyncio.Event()
    running = asyncio.create_task(chat.say("two", cid))
    await chat.model.started.wait()  # the turn is inside the model call
    clear = asyncio.create_task(chat.say("/clear", cid))
    # Scheduler steps, no clock: the clear runs until it blocks (on the lock, when it takes it).
    for _ in range(20):
        await asyncio.sleep(0)
    assert [t.user for t in chat.store.get_or_create(cid).turns] == ["one"]
    assert not clear.done()
    chat.model.gate.set()
    answered, cleared = await running, await clear
    assert answered == (2, "answer 2") and cleared == (3, "Conversation cleared.")
    chat.model.gate = None
    await chat.say("three", cid)
    roles = [m["role"] for m in chat.model.requests[-1].messages]
    assert roles == ["system", "user"]  # the clear came after turn two: no history is left


async def test_the_lock_table_empties_when_no_turn_runs(counter: TokenCounter) -> None:
    chat = Chat(counter)
    chat.model.gate = asyncio.Event()
    busy = asyncio.create_task(chat.say("first", "a"))
    await chat.model.started.wait()
    queued = asyncio.create_task(chat.say("second", "a"))  # waits for the lock of "a"
    cancelled = asyncio.create_task(chat.say("third", "a"))
    others = [asyncio.create_task(chat.say(f"q{n}", f"other-{n}")) for n in range(3)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert chat.service.conversations_in_use() == 4
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    chat.model.gate.set()
    await asyncio.gather(busy, queued, *others)
    assert chat.service.conversations_in_use() == 0
    failing = asyncio.create_task(chat.say("cancelled in the model", "b"))
    chat.model.started.clear()
    chat.model.gate = asyncio.Event()
    await chat.model.started.wait()
    failing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await failing
    assert chat.service.conversations_in_use() == 0


async def test_keyed_locks_serialise_per_key_and_forget_idle_keys() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def hold(key: str, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await release.wait()
            order.append(f"{name} out")

    tasks = [asyncio.create_task(hold(k, n)) for k, n in (("x", "x1"), ("x", "x2"), ("y", "y1"))]
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["x1 in", "y1 in"] and len(locks) == 2
    release.set()
    await asyncio.gather(*tasks)
    assert order.index("x2 in") > order.index("x1 out")
    assert len(locks) == 0


def test_a_conversation_keeps_numbering_after_old_turns_drop() -> None:
    from kimi_lsp.chat.conversations import MAX_TURNS, Conversation

    conversation = Conversation(id="long")
    for n in range(MAX_TURNS + 5):
        assert conversation.take_turn() == n + 1
        conversation.record(Turn(user=f"q{n}", assistant="a"))
    assert len(conversation.turns) == MAX_TURNS
    assert conversation.turns[0].user == "q5"
    conversation.clear()
    assert conversation.take_turn() == MAX_TURNS + 6


# -- budgets: contextBudget.chat and /context all ---------------------------------------------

WINDOW = 262_144 - 32_768 - 1_024


def test_context_all_is_a_prefix_of_the_context_command() -> None:
    assert parse("/context") == parse("/context  ")
    assert not parse("/context").whole_window
    alone = parse("/context all")
    assert alone.command is Slash.CONTEXT and alone.whole_window and alone.text == ""
    assert not alone.asks_with_whole_window  # the local report, at the whole window
    asked = parse("/CONTEXT ALL  why is this slow?\nsee line 3")
    assert asked.whole_window and asked.asks_with_whole_window
    assert asked.text == "why is this slow?\nsee line 3"
    assert not parse("/context allocation").whole_window  # only the word "all"
    assert not parse("all of /context").whole_window


async def test_a_chat_question_packs_to_the_chat_budget(counter: TokenCounter) -> None:
    chat = Chat(counter)
    answer = await chat.service.run(ChatRequest("what is this?"))
    assert answer.content == "answer 1"
    assert chat.budgets == [48_000]


async def test_context_all_with_a_question_asks_it_with_the_whole_window(
    counter: TokenCounter,
) -> None:
    chat = Chat(counter)
    answer = await chat.service.run(ChatRequest("/context all what is this?"))
    assert answer.finish_reason == "stop" and len(chat.model.requests) == 1
    assert chat.budgets == [WINDOW]
    assert chat.model.requests[0].messages[-1]["content"] == "what is this?"
    # The next question has the chat budget again (and the turn's history within it).
    await chat.service.run(ChatRequest("and then?", answer.conversation_id))
    assert chat.budgets == [WINDOW, 48_000]


async def test_context_alone_reports_the_chat_budget_and_context_all_the_window(
    counter: TokenCounter,
) -> None:
    chat = Chat(counter)
    report = await chat.service.run(ChatRequest("/context"))
    whole = await chat.service.run(ChatRequest("/context all"))
    assert report.finish_reason == whole.finish_reason == "local"
    assert not chat.model.requests  # neither calls the model
    assert chat.budgets == [48_000, WINDOW]
    assert "tokens of 48000 (the chat budget" in report.content
    assert f"tokens of {WINDOW} (the whole window" in whole.content


async def test_the_chat_budget_setting_window_means_the_whole_window(
    counter: TokenCounter,
) -> None:
    settings = Settings(context_budget=ContextBudget(chat="window"))
    chat = Chat(counter, settings=settings)
    await chat.service.run(ChatRequest("what is this?"))
    assert chat.budgets == [WINDOW]
