"""Every fault the fake Kimi API can produce, with the error kind and attempts each must cause."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.fake_kimi import ErrorReply, Fault, Reply
from tests.fake_kimi.script import Scripted

MAX_RETRIES = 1
"""The servers and CLIs of the matrix retry once: a persistent fault makes two attempts."""
ATTEMPTS = MAX_RETRIES + 1
KEY = "sk-test-fake"
FAST_ENV = {
    "MOONSHOT_API_KEY": KEY,
    "KIMI_LSP_RETRY_BASE_SECONDS": "0.01",  # backoff in milliseconds, not seconds
    "KIMI_LSP_STALL_SECONDS": "0.6",  # a silent stream is cut after 0.6 s, not 60 s
}

# The kinds a fallback may answer when they happen before any content (protocol.md).
FALLBACK_KINDS = frozenset({"overloaded", "rate_limit", "server", "network", "timeout", "quota"})

TOKEN_LIMIT = "Invalid request: Your request exceeded model token limit : 262144"
BAD_TEMPERATURE = "invalid temperature: only 1 is allowed for this model"
GATEWAY_HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass(frozen=True, slots=True)
class FaultCase:
    """What to queue at the fake, and what the feature must then answer.

    `kind` None means the call must succeed (a transient fault, retried away); `attempts` is
    how many chat requests the fault itself causes at the fake; `refused` points the client
    at a closed port instead of queueing anything."""

    name: str
    items: tuple[Scripted, ...]
    kind: str | None
    attempts: int
    refused: bool = False
    stalls: bool = False
    http: bool = field(default=False)
    """An HTTP error before any stream (the only kind of fault doctor's GET /models can see)."""
    transient: str | None = None
    """For a fault retried away ("…, then ok"): the kind the fault itself has."""

    @property
    def fault_kind(self) -> str | None:
        """The kind of the fault itself, whether or not a retry clears it."""
        return self.kind or self.transient

    def fallback_serves(self) -> bool:
        """With a fallback configured, does it answer this fault? Only an outage before any
        content (protocol.md, `fallback`); a rate limit only once the retries are spent."""
        if self.stalls or self.fault_kind not in FALLBACK_KINDS:
            return False
        return not (self.kind is None and self.transient == "rate_limit")


def _persistent(name: str, item: Scripted, kind: str) -> list[FaultCase]:
    return [
        FaultCase(f"{name} ×{ATTEMPTS}", (item,) * ATTEMPTS, kind, ATTEMPTS),
        FaultCase(f"{name}, then ok", (item,), None, 1, transient=kind),
    ]


def _once(name: str, item: Scripted, kind: str, **extra: bool) -> FaultCase:
    return FaultCase(name, (item,), kind, 1, **extra)


CASES: list[FaultCase] = [
    _once("401 invalid key", Fault.auth(), "auth", http=True),
    _once("403 permission denied", Fault.permission_denied(), "auth"),
    _once("404 unknown model", Fault.not_found(), "config"),
    _once("429 quota exhausted", Fault.quota(), "quota"),
    *_persistent("429 rate limit", Fault.rate_limit(retry_after=0.01), "rate_limit"),
    *_persistent("429 overloaded", Fault.overloaded(retry_after=0.01), "overloaded"),
    _once("400 content filter", Fault.content_filter(), "content_filter"),
    _once(
        "400 token limit",
        Fault.status(400, "invalid_request_error", TOKEN_LIMIT),
        "context_overflow",
    ),
    _once(
        "400 invalid request",
        Fault.status(400, "invalid_request_error", BAD_TEMPERATURE),
        "bad_response",
    ),
    *_persistent("500 server error", Fault.server_error(), "server"),
    *_persistent(
        "502 gateway HTML",
        ErrorReply(502, "server_error", "Bad gateway", body=GATEWAY_HTML),
        "server",
    ),
    *_persistent("503 unavailable", Fault.unavailable(retry_after=0.01), "server"),
    *_persistent("cut before 1st chunk", Fault.cut(after=0), "network"),
    _once("cut mid-stream", Fault.cut(after=2), "bad_response"),
    _once("malformed chunk", Fault.malformed(after=2), "bad_response"),
    _once("in-stream error", Fault.stream_error(after=2), "bad_response"),
    _once("stall mid-stream", Fault.stall(after=2), "timeout", stalls=True),
    _once("content filter mid-stream", Fault.content_filter_midstream(after=2), "content_filter"),
    _once(
        "reasoning used all output",
        Reply(reasoning="thinking " * 8, content="", finish_reason="length"),
        "context_overflow",
    ),
    FaultCase("connection refused", (), "network", 0, refused=True),
]

# Phrases of `kimi_lsp.model.errors`'s sentences, by kind: how a person (and the CLI cells,
# which have no `data.kind`) tells the errors apart. The first match wins.
KIND_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("quota", ("balance is exhausted",)),
    ("rate_limit", ("rate limit was reached",)),
    ("overloaded", ("is overloaded",)),
    ("content_filter", ("content filter",)),
    ("context_overflow", ("context window", "output budget")),
    ("auth", ("rejected the api key", "does not allow this account", "key is rejected")),
    ("config", ("does not know model", "api key missing", "does not list model")),
    ("timeout", ("sent nothing for", "took longer than", "did not answer in time")),
    ("network", ("could not reach",)),
    ("server", ("server error",)),
    ("bad_response", ("broke off", "malformed", "refused the request", "answered http")),
]


def kind_of(message: str) -> str:
    """The error kind a message reads as ("?" when it names none)."""
    lowered = message.lower()
    for kind, words in KIND_WORDS:
        if any(w in lowered for w in words):
            return kind
    return "?"


def readable_problems(message: str, secrets: tuple[str, ...] = (KEY,)) -> list[str]:
    """Why a message is not a sentence a user can act on (empty when it is)."""
    problems = []
    if not message or not message[0].isupper():
        problems.append("does not start as a sentence")
    if len(message) > 700:
        problems.append(f"is {len(message)} characters long")
    for marker in ("Traceback", 'File "', "Error(", "Exception(", "<html", "object at 0x"):
        if marker in message:
            problems.append(f"contains {marker!r}")
    for secret in secrets:
        if secret in message or secret[-12:] in message:
            problems.append("contains the API key")
    return problems
