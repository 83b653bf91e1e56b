"""Secrets at rest (issue 16, findings 5 and 9): conversation files hold what the API saw,
are the user's alone, are written whole by any number of servers, and are never dropped."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from kimi_lsp.chat.conversations import Conversation, ConversationStore, Turn
from kimi_lsp.chat.request import ChatRequest
from kimi_lsp.secrets.redact import Redactor
from kimi_lsp.tokens.counter import TokenCounter

from .test_chat_service import Chat

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
API_KEY = "sk-kimi-9fQ2vXr7LmN4pZt8Ws3YhJ6cBd1Ke5Ua"
AWS_KEY = "AKIAQ7W4ZPXK3NDE5FGH"


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    cache = tmp_path_factory.mktemp("at-rest-tokens")
    env = {"XDG_CACHE_HOME": str(cache), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}
    loaded = TokenCounter(env=env, counting_threads=0)
    loaded.load()
    return loaded


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _redactor() -> Redactor:
    return Redactor(API_KEY, True)


async def test_a_key_typed_into_chat_is_not_in_the_conversation_file(
    counter: TokenCounter, tmp_path: Path
) -> None:
    redactor = _redactor()
    chat = Chat(counter, tmp_path, redact=lambda text: redactor(text)[0])
    message = f"my key is {API_KEY} and the aws one {AWS_KEY}, why does login fail?"
    first = await chat.service.run(ChatRequest(message, use_context=False))
    sent = chat.model.requests[0].messages[-1]["content"]
    assert API_KEY not in sent and "[REDACTED:" in sent  # what the API saw
    [file] = tmp_path.glob("*.json")
    data = file.read_bytes()
    assert API_KEY.encode() not in data and AWS_KEY.encode() not in data
    assert json.loads(data)["turns"][0]["user"] == sent
    # The file still serves the next turn (a restarted server): the model sees the history
    # exactly as it saw the question the first time.
    after = Chat(counter, tmp_path, redact=lambda text: redactor(text)[0])
    await after.say("and now?", first.conversation_id)
    history = after.model.requests[-1].messages
    assert [m["content"] for m in history[1:3]] == [sent, "answer 1"]


@posix_only
def test_conversation_files_are_the_users_alone(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        directory = tmp_path / "cache" / "conversations" / "ws"
        store = ConversationStore(directory)
        conversation = Conversation("c1", [Turn("q", "a")])
        store.save(conversation)
        assert _mode(directory) == 0o700
        assert _mode(directory.parent) == 0o700  # made by us too
        assert _mode(directory / "c1.json") == 0o600
        # A directory an older kimi-lsp made 0755, with a 0644 file: tightened on the next save.
        os.chmod(directory, 0o755)
        os.chmod(directory / "c1.json", 0o644)
        store.save(conversation)
        assert _mode(directory) == 0o700 and _mode(directory / "c1.json") == 0o600
    finally:
        os.umask(old_umask)


@posix_only
def test_a_directory_we_did_not_create_keeps_its_mode(tmp_path: Path) -> None:
    from kimi_lsp.secrets.at_rest import private_directory, write_private  # new in issue 16

    os.chmod(tmp_path, 0o755)  # stands for ~/.cache: the user's, not ours
    write_private(tmp_path / "kimi-lsp" / "x" / "f", b"data")
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "kimi-lsp") == 0o700 and _mode(tmp_path / "kimi-lsp" / "x") == 0o700
    private_directory(tmp_path / "kimi-lsp")  # already there and private: nothing to do
    assert _mode(tmp_path / "kimi-lsp") == 0o700


def test_two_servers_saving_one_conversation_never_leave_a_broken_file(tmp_path: Path) -> None:
    """Two stores (two servers) save the same conversation over and over while a third
    thread reads it: every read is a whole JSON document (the old or the new one)."""
    rounds = 150
    filler = "x" * 200_000  # a long answer: each write takes long enough to overlap another
    stores = [ConversationStore(tmp_path), ConversationStore(tmp_path)]
    start = threading.Barrier(3)
    done = threading.Event()
    broken: list[str] = []
    reads = 0

    def writer(store: ConversationStore, name: str) -> None:
        start.wait()
        for n in range(rounds):
            store.save(Conversation("shared", [Turn(f"{name} {n}", filler)]))

    def reader() -> None:
        nonlocal reads
        start.wait()
        path = tmp_path / "shared.json"
        while not done.is_set():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            reads += 1
            try:
                json.loads(data)
            except ValueError:
                broken.append(data[:40].decode("utf-8", "replace"))

    threads = [threading.Thread(target=writer, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    watcher = threading.Thread(target=reader)
    for thread in (*threads, watcher):
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()
    assert broken == [], f"{len(broken)} of {reads} reads were not valid JSON"
    assert json.loads((tmp_path / "shared.json").read_bytes())["turns"][0]["assistant"] == filler
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.json"]  # no temporary left


def test_a_corrupt_conversation_is_kept_aside_and_a_fresh_one_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = b'{"id": "c2", "turns": [{"user": "half a wri'
    (tmp_path / "c2.json").write_bytes(broken)
    store = ConversationStore(tmp_path)
    with caplog.at_level(logging.WARNING):
        conversation = store.get_or_create("c2")
    assert conversation.turns == []
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("c2.corrupt-")]
    assert aside.read_bytes() == broken  # the user's old conversation, untouched
    assert any("kept as c2.corrupt-" in r.getMessage() for r in caplog.records)
    conversation.record(Turn("new", "answer"))
    store.save(conversation)
    assert aside.read_bytes() == broken  # the new conversation did not overwrite it


@posix_only
def test_a_log_file_we_create_is_the_users_alone(tmp_path: Path) -> None:
    from kimi_lsp.logs import LogSetup

    old_umask = os.umask(0o022)
    try:
        log_file = tmp_path / "new-dir" / "kimi.log"
        setup = LogSetup(log_file=log_file)
        setup.close()
        assert _mode(log_file) == 0o600 and _mode(log_file.parent) == 0o700
        # A file and a directory the user made keep the modes they gave them.
        own = tmp_path / "mine"
        own.mkdir(mode=0o755)
        (own / "kimi.log").write_text("")
        os.chmod(own / "kimi.log", 0o640)
        LogSetup(log_file=own / "kimi.log").close()
        assert _mode(own) == 0o755 and _mode(own / "kimi.log") == 0o640
    finally:
        os.umask(old_umask)


@posix_only
def test_the_index_and_tokenizer_caches_are_the_users_alone(tmp_path: Path) -> None:
    from kimi_lsp.context.index_store import IndexStore
    from kimi_lsp.tokens.download import atomic_write

    old_umask = os.umask(0o022)
    try:
        cache = tmp_path / "cache"
        cache.mkdir()
        IndexStore(cache / "kimi-lsp" / "index" / "ws.sqlite3")
        assert _mode(cache / "kimi-lsp") == 0o700  # made by us: not the umask's 0755
        assert _mode(cache / "kimi-lsp" / "index") == 0o700
        assert _mode(cache / "kimi-lsp" / "index" / "ws.sqlite3") == 0o600
        model = cache / "kimi-lsp" / "tokenizer" / "kimi-k2" / "tiktoken.model"
        atomic_write(model, b"data")
        assert _mode(model.parent.parent) == 0o700 and _mode(model.parent) == 0o700
        assert _mode(model) == 0o600
        assert _mode(cache) == 0o755  # ~/.cache is not ours
    finally:
        os.umask(old_umask)


def test_a_file_an_older_server_wrote_is_redacted_when_read_back(tmp_path: Path) -> None:
    raw = {"id": "old", "updated": 0, "lastTurn": 1,
           "turns": [{"user": f"key {API_KEY}", "assistant": "ok"}]}  # fmt: skip
    (tmp_path / "old.json").write_text(json.dumps(raw), encoding="utf-8")
    redactor = _redactor()
    store = ConversationStore(tmp_path, lambda text: redactor(text)[0])
    conversation = store.get_or_create("old")
    assert API_KEY not in conversation.turns[0].user
    store.save(conversation)  # the next save leaves no copy of the key on disk
    assert API_KEY.encode() not in (tmp_path / "old.json").read_bytes()


def test_the_search_index_keeps_no_word_of_a_secret() -> None:
    """The index store is on disk: a password or a PEM body in an ordinary file (secrets by
    their context, not by their shape) leaves no word there; the file's names still do."""
    from kimi_lsp.context.search import index_terms

    password = "Tr0ub4dorAndHorseBatteryStaple"
    pem = "MIIEowIBAAKCAQEAx7Yq9ZkLmN2pQrStUvWxYz3AbCdEfGhIjKlMnOpQ"
    text = (
        f'DB_PASSWORD = "{password}"\n'
        f"KEY = '''-----BEGIN RSA PRIVATE KEY-----\n{pem}\n-----END RSA PRIVATE KEY-----'''\n"
        "def connect_database(host):\n    return host\n"
    )
    terms = index_terms(text).split()
    assert password not in terms and pem not in terms
    assert "connect_database" in terms and "DB_PASSWORD" in terms


def test_stored_symbols_hold_no_secret_value(tmp_path: Path) -> None:
    from kimi_lsp.context.deep_index import record_of
    from kimi_lsp.context.index_store import IndexStore
    from kimi_lsp.context.symbols import outline

    token = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8"
    text = f'GITHUB_TOKEN = "{token}"\n\n\ndef connect(host):\n    return host\n'
    path = tmp_path / "index.sqlite3"
    store = IndexStore(path, version="v1")
    store.save([record_of("settings.py", (len(text), 1), text)])
    store.save_symbols("settings.py", len(text), 1, outline(text, "python"))
    store.close()
    assert token.encode() not in path.read_bytes()
    again = IndexStore(path, version="v1").symbols("settings.py", len(text), 1)
    assert again is not None and [s.name for s in again] == ["GITHUB_TOKEN", "connect"]
