"""Multi-turn conversations, persisted per workspace as bounded JSON files in a cache dir."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..secrets.at_rest import write_private

log = logging.getLogger(__name__)

MAX_CONVERSATIONS = 50  # per workspace, most recently updated kept
MAX_TURNS = 100  # per conversation; older turns are dropped from storage


@dataclass(slots=True)
class Turn:
    """One exchange: the user's message and the model's answer."""

    user: str
    assistant: str
    reasoning: str = ""
    finish_reason: str = "stop"
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Conversation:
    id: str
    turns: list[Turn] = field(default_factory=list)
    updated: float = field(default_factory=time.time)
    # The highest turn number given out. Model answers and local replies (/cost, /clear…) each
    # take one, and numbering goes on after old turns are dropped or cleared, so a client can
    # key its stream on (conversation, turn) without two replies ever sharing a number.
    last_turn: int = 0

    def take_turn(self) -> int:
        """The number of the reply about to start."""
        self.last_turn += 1
        return self.last_turn

    def record(self, turn: Turn) -> None:
        """Keep an exchange in the history, the oldest dropped beyond MAX_TURNS."""
        self.turns.append(turn)
        self.updated = time.time()
        del self.turns[:-MAX_TURNS]

    def clear(self) -> None:
        self.turns.clear()
        self.updated = time.time()


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:12]


def cache_root(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kimi-lsp"


def workspace_key(root: str | None) -> str:
    return hashlib.sha256((root or "<no workspace>").encode()).hexdigest()[:16]


class ConversationStore:
    """In-memory conversations backed by `<cache>/conversations/<workspace>/<id>.json`.

    Persistence is best effort: a read-only or full disk only loses persistence, never a chat.
    The files hold what the API saw (the chat service records redacted turns), readable by
    the user only (0600 in 0700 directories), each written whole or not at all.
    """

    def __init__(
        self, directory: Path | None, redact: Callable[[str], str] = lambda text: text
    ) -> None:
        self.directory = directory
        # Applied to the turns read back: a file an older kimi-lsp wrote holds the raw text,
        # which the next save then replaces with what the API saw.
        self._redact = redact
        self._live: dict[str, Conversation] = {}

    def get_or_create(self, conversation_id: str | None) -> Conversation:
        if conversation_id is None:
            return self._keep(Conversation(id=new_conversation_id()))
        if conversation_id in self._live:
            return self._keep(self._live.pop(conversation_id))
        return self._keep(self._load(conversation_id) or Conversation(id=conversation_id))

    def _keep(self, conversation: Conversation) -> Conversation:
        """Hold the most recently used conversations in memory, as many as are kept on disk
        (the others are read back from disk when asked for)."""
        self._live[conversation.id] = conversation
        while len(self._live) > MAX_CONVERSATIONS:
            del self._live[next(iter(self._live))]
        return conversation

    def live_count(self) -> int:
        """How many conversations are held in memory."""
        return len(self._live)

    def _path(self, conversation_id: str) -> Path | None:
        if self.directory is None:
            return None
        safe = "".join(c for c in conversation_id if c.isalnum() or c in "-_")[:64]
        if not safe:
            safe = hashlib.sha256(conversation_id.encode()).hexdigest()[:16]
        return self.directory / f"{safe}.json"

    def _load(self, conversation_id: str) -> Conversation | None:
        path = self._path(conversation_id)
        if path is None or not path.is_file():
            return None
        try:
            data = path.read_bytes()
        except OSError as exc:
            log.warning("Conversation %s could not be read (%s); starting afresh.", path, exc)
            return None
        try:
            raw = json.loads(data.decode("utf-8"))
            turns = [self._redacted(Turn(**t)) for t in raw["turns"]]
            # Files written before "lastTurn" numbered only the kept turns, from "firstTurn".
            numbered = int(raw.get("firstTurn", 1)) + len(turns) - 1
            return Conversation(
                id=conversation_id,
                turns=turns,
                updated=float(raw.get("updated", 0)),
                last_turn=max(int(raw.get("lastTurn", 0)), numbered),
            )
        except (ValueError, KeyError, TypeError) as exc:
            _keep_aside(path, exc)
            return None

    def _redacted(self, turn: Turn) -> Turn:
        if not all(isinstance(v, str) for v in (turn.user, turn.assistant, turn.reasoning)):
            raise TypeError("a turn's texts must be strings")
        turn.user = self._redact(turn.user)
        turn.assistant = self._redact(turn.assistant)
        turn.reasoning = self._redact(turn.reasoning)
        return turn

    def save(self, conversation: Conversation) -> None:
        """Write one conversation atomically and prune old ones (call off the event loop)."""
        path = self._path(conversation.id)
        if path is None:
            return
        payload = {
            "id": conversation.id,
            "updated": conversation.updated,
            "lastTurn": conversation.last_turn,
            # What an older kimi-lsp reads to number the next turn (it has no "lastTurn").
            "firstTurn": conversation.last_turn - len(conversation.turns) + 1,
            "turns": [asdict(t) for t in conversation.turns],
        }
        try:
            write_private(path, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
            self._prune(path.parent)
        except OSError as exc:
            log.warning("Could not save conversation %s: %s", conversation.id, exc)

    def _prune(self, directory: Path) -> None:
        dated = []
        for file in directory.glob("*.json"):
            try:  # another server may prune the same directory at the same time
                dated.append((file.stat().st_mtime, file))
            except OSError:
                continue
        dated.sort(key=lambda pair: pair[0], reverse=True)
        for _, old in dated[MAX_CONVERSATIONS:]:
            old.unlink(missing_ok=True)
            self._live.pop(old.stem, None)


def _keep_aside(path: Path, error: Exception) -> None:
    """Rename an unreadable conversation file to `<id>.corrupt-<time>` (never deleted: the
    user may want it back), and say so; the chat goes on in a fresh conversation."""
    aside = path.with_name(f"{path.stem}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        log.warning(
            "Conversation %s is corrupt (%s) and could not be moved aside (%s); starting a"
            " fresh conversation.", path, error, exc,
        )  # fmt: skip
        return
    log.warning(
        "Conversation %s is corrupt (%s): kept as %s; starting a fresh conversation.",
        path, error, aside.name,
    )  # fmt: skip
