"""Token counting: the real loading code (tokenizerPath, cache, download) with a small BPE file."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import math
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import regex  # type: ignore[import-untyped]  # tiktoken's own dependency
import tiktoken

from kimi_lsp.tokens import counter as tokens
from kimi_lsp.tokens.bpe_file import TokenizerUnavailable, parse_bpe, read_bpe_file, verify_ranks
from kimi_lsp.tokens.calibration import FACTOR_BOUNDS, MIN_TOKENS, Calibration
from kimi_lsp.tokens.counter import MESSAGE_OVERHEAD, REQUEST_OVERHEAD, TokenCounter
from kimi_lsp.tokens.download import (
    RETRY_AFTER_SECONDS,
    download_blocked,
    expected_sha256,
    model_url,
)
from kimi_lsp.tokens.kimi_bpe import (
    KIMI_PATTERN,
    KIMI_PATTERN_PARTS,
    KIMI_RANK_COUNT,
    build_kimi_encoding,
    kimi_special_tokens,
)

# -- a small Kimi-format BPE: every single byte plus a few merges --------------------------
MERGES = [b"he", b"ll", b"hell", b"hello", b"us", b"er", b"user", b"as", b"si", b"st"]


def small_ranks() -> dict[bytes, int]:
    ranks = {bytes([byte]): byte for byte in range(256)}
    for merge in MERGES:
        ranks[merge] = len(ranks)
    return ranks


SMALL_COUNT = len(small_ranks())


def bpe_text(ranks: dict[bytes, int]) -> bytes:
    lines = (f"{base64.b64encode(token).decode()} {rank}" for token, rank in ranks.items())
    return ("\n".join(lines) + "\n").encode()


SMALL_BPE = bpe_text(small_ranks())
SMALL_SHA = hashlib.sha256(SMALL_BPE).hexdigest()


def offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0", **extra}


def cache_file(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "kimi-lsp" / "tokenizer" / "kimi-k2" / "tiktoken.model"


def sidecar(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cache_file(tmp_path).with_suffix(".model.json").read_text())
    return data


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def small_bpe(tmp_path: Path) -> Path:
    path = tmp_path / "tokenizer" / "tiktoken.model"
    path.parent.mkdir()
    path.write_bytes(SMALL_BPE)
    return path


# -- a local "Hugging Face" -----------------------------------------------------------------
@dataclass
class FileServer:
    body: bytes = SMALL_BPE
    linked_etag: str | None = f'"{SMALL_SHA}"'
    gate: threading.Event = field(default_factory=threading.Event)
    hits: int = 0
    url: str = ""


@pytest.fixture
def hub() -> Iterator[FileServer]:
    state = FileServer()
    state.gate.set()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            state.gate.wait(10)
            if self.path == "/resolve/tiktoken.model":  # the hub's redirect to its CDN
                self.send_response(302)
                self.send_header("Location", "/cdn/tiktoken.model")
                if state.linked_etag:
                    self.send_header("X-Linked-Etag", state.linked_etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path != "/cdn/tiktoken.model":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(state.body)))
            self.send_header("ETag", '"not-a-sha256"')
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/resolve/tiktoken.model"
    try:
        yield state
    finally:
        state.gate.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def download_counter(tmp_path: Path, url: str, clock: Clock | None = None) -> TokenCounter:
    env = offline_env(
        tmp_path, KIMI_LSP_TOKENIZER_DOWNLOAD="1", KIMI_LSP_TOKENIZER_URL=url, CI="true"
    )
    return TokenCounter(env=env, expected_ranks=SMALL_COUNT, clock=clock or Clock())


def finish_download(counter: TokenCounter) -> None:
    thread = counter.download_thread
    assert thread is not None
    thread.join(20)
    assert not thread.is_alive()


# -- BPE files --------------------------------------------------------------------------------
def test_read_bpe_file_verifies_checksum_and_structure(small_bpe: Path) -> None:
    assert read_bpe_file(small_bpe, SMALL_SHA, SMALL_COUNT) == small_ranks()
    with pytest.raises(TokenizerUnavailable, match="checksum"):
        read_bpe_file(small_bpe, "0" * 64)
    with pytest.raises(TokenizerUnavailable, match=f"{SMALL_COUNT} ranks, expected 163584"):
        read_bpe_file(small_bpe, expected_count=KIMI_RANK_COUNT)
    with pytest.raises(TokenizerUnavailable, match="cannot read"):
        read_bpe_file(small_bpe.with_name("missing"))


def test_verify_ranks_rejects_gaps_duplicates_and_missing_bytes() -> None:
    verify_ranks(small_ranks(), SMALL_COUNT, "ok")
    gap = small_ranks()
    gap[b"st"] = SMALL_COUNT + 5
    with pytest.raises(TokenizerUnavailable, match="not exactly 0"):
        verify_ranks(gap, SMALL_COUNT, "gap")
    same_rank = small_ranks()
    same_rank[b"st"] = same_rank[b"si"]
    with pytest.raises(TokenizerUnavailable, match="not exactly 0"):
        verify_ranks(same_rank, None, "duplicate rank")
    no_byte = {bytes([b]): b for b in range(1, 256)} | {b"\x00\x01": 0}
    with pytest.raises(TokenizerUnavailable, match="single byte"):
        verify_ranks(no_byte, None, "bytes")


def test_parse_bpe_rejects_duplicate_tokens_and_garbage() -> None:
    twice = SMALL_BPE + f"{base64.b64encode(b'he').decode()} {SMALL_COUNT}\n".encode()
    with pytest.raises(TokenizerUnavailable, match="listed twice"):
        parse_bpe(twice)
    with pytest.raises(TokenizerUnavailable, match="line 1"):
        parse_bpe(b"aGk= 1 extra\n")
    with pytest.raises(TokenizerUnavailable, match="line 2"):
        parse_bpe(b"aGk= 0\n%%%% x\n")


# -- the Kimi pattern and specials ----------------------------------------------------------
SPLIT_SAMPLES = [
    "Hello World's 你好世界abc中文DEF ünïcödé ΑΒΓαβγ 12345 ++x\r\n\n  def f(x):\n\treturn x",
    "abc世界 ABC世def a&&b && 日本語カタカナひらがな 한국어 I'LL we've CamelCase HTTPServer  \n",
    "Ǆǅǆ ʰʱ x\u0301y 漢字かな混じり文 price: 3.14159 — «quoted» <|im_end|>",
]


def tiktoken_pieces(text: str) -> list[bytes]:
    """How tiktoken splits `text` with KIMI_PATTERN: with every substring of the text in the
    vocabulary, BPE merges each piece into exactly one token, so tokens == pieces."""
    data = text.encode()
    ranks = {bytes([byte]): byte for byte in range(256)}
    for start in range(len(data)):
        for end in range(start + 2, len(data) + 1):
            ranks.setdefault(data[start:end], len(ranks))
    encoding = tiktoken.Encoding(
        name="split", pat_str=KIMI_PATTERN, mergeable_ranks=ranks, special_tokens={}
    )
    pieces: list[bytes] = encoding.decode_tokens_bytes(encoding.encode_ordinary(text))
    return pieces


@pytest.mark.parametrize("text", SPLIT_SAMPLES)
def test_tiktoken_reads_the_class_intersections_as_intersections(text: str) -> None:
    lookahead = KIMI_PATTERN.replace(
        r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]",
        r"(?:(?!\p{Han})[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])",
    ).replace(r"[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]", r"(?:(?!\p{Han})[\p{Ll}\p{Lm}\p{Lo}\p{M}])")
    assert "&&" not in lookahead
    with_intersections = [p.encode() for p in regex.findall(KIMI_PATTERN, text, regex.V1)]
    with_lookaheads = [p.encode() for p in regex.findall(lookahead, text)]
    assert tiktoken_pieces(text) == with_intersections == with_lookaheads


def test_han_is_split_from_other_letters() -> None:
    assert tiktoken_pieces("abc世界ABC世def") == [
        b"abc",
        "世界".encode(),
        b"ABC",
        "世".encode(),
        b"def",
    ]
    assert tiktoken_pieces("a&&b") == [b"a", b"&&", b"b"]  # `&` is not in the letter classes
    assert len(KIMI_PATTERN_PARTS) == 8 and KIMI_PATTERN.count("|") >= 7


def test_kimi_special_tokens_match_the_model() -> None:
    specials = kimi_special_tokens()
    assert len(specials) == 256
    assert sorted(specials.values()) == list(range(163_584, 163_840))
    expected = {
        "[BOS]": 163_584,
        "<|im_end|>": 163_586,
        "<|im_user|>": 163_587,
        "<|im_assistant|>": 163_588,
        "<|im_system|>": 163_594,
        "<|im_middle|>": 163_601,
        "<|reserved_token_163589|>": 163_589,
        "<|reserved_token_163700|>": 163_700,
    }
    assert {name: specials[name] for name in expected} == expected


def test_build_kimi_encoding_numbers_specials_after_the_ranks() -> None:
    encoding = build_kimi_encoding(small_ranks())
    assert encoding.n_vocab == SMALL_COUNT + 256
    assert encoding.encode("<|im_end|>", allowed_special="all") == [SMALL_COUNT + 2]
    assert encoding.decode_tokens_bytes(encoding.encode_ordinary("hello user")) == [
        b"hello",
        b" ",
        b"user",
    ]


# -- sources in order ---------------------------------------------------------------------
def test_tokenizer_path_gives_exact_kimi_counts(tmp_path: Path, small_bpe: Path) -> None:
    counter = TokenCounter(small_bpe, env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    assert not counter.loaded and counter.describe()["source"] == "estimate"
    counter.load()
    assert counter.loaded and counter.source == "tokenizerPath"
    assert counter.info.exact and "Kimi" in counter.info.name
    assert counter.count("hello") == 1 and counter.count("hello user") == 3
    assert counter.download_thread is None  # nothing to download when Kimi's BPE is in use
    assert counter.describe() == {
        "name": counter.info.name,
        "exact": True,
        "source": "tokenizerPath",
        "calibration": None,
        "samples": 0,
        "error": None,
    }
    # A directory holding tiktoken.model is accepted too.
    directory = TokenCounter(
        small_bpe.parent, env=offline_env(tmp_path), expected_ranks=SMALL_COUNT
    )
    directory.load()
    assert directory.source == "tokenizerPath"


def test_bad_tokenizer_path_falls_back_to_the_bundled_bpe(tmp_path: Path, small_bpe: Path) -> None:
    counter = TokenCounter(small_bpe, env=offline_env(tmp_path))  # expects 163,584 ranks
    counter.load()
    assert counter.source == "bundled" and not counter.info.exact
    assert "tokenizerPath" in (counter.error or "") and "expected 163584" in (counter.error or "")
    assert counter.count("hello world") == 2  # cl100k


def test_cache_dir_file_placed_by_hand_is_verified_and_recorded(
    tmp_path: Path,
) -> None:
    cache_file(tmp_path).parent.mkdir(parents=True)
    cache_file(tmp_path).write_bytes(SMALL_BPE)
    counter = TokenCounter(env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    counter.load()
    assert counter.source == "cache" and counter.info.exact
    assert sidecar(tmp_path)["sha256"] == SMALL_SHA
    # Corrupted afterwards: the sha256 no longer matches the sidecar -> not used.
    cache_file(tmp_path).write_bytes(SMALL_BPE.replace(b" 256\n", b" 257\n", 1))
    again = TokenCounter(env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    again.load()
    assert again.source == "bundled" and "sha256" in (again.error or "")


def test_tokenizer_path_wins_over_the_cache(tmp_path: Path, small_bpe: Path) -> None:
    cache_file(tmp_path).parent.mkdir(parents=True)
    cache_file(tmp_path).write_bytes(SMALL_BPE)
    counter = TokenCounter(small_bpe, env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    counter.load()
    assert counter.source == "tokenizerPath"


def test_configure_reloads_with_the_new_path(tmp_path: Path, small_bpe: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    counter.load()
    assert counter.source == "bundled"
    generation = counter.generation
    counter.configure(tokenizer_path=str(small_bpe))
    assert not counter.loaded
    counter.load()
    assert counter.describe()["source"] == "tokenizerPath" and counter.generation > generation
    counter.configure(tokenizer_path=str(small_bpe))  # unchanged: nothing to do
    assert counter.loaded


def test_concurrent_loads_install_once(tmp_path: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path))
    threads = [threading.Thread(target=counter.load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert counter.source == "bundled" and counter.generation == 1


# -- the download -------------------------------------------------------------------------
def test_download_installs_a_verified_file_in_the_background(
    tmp_path: Path, hub: FileServer
) -> None:
    hub.gate.clear()  # hold the answer until the fallback has been checked
    counter = download_counter(tmp_path, hub.url)
    counter.load()  # returns at once with the fallback; the download waits at the server
    assert counter.source == "bundled"
    assert counter.count_cached("doc", "hello user") == 2  # cl100k: "hello", " user"
    generation = counter.generation
    hub.gate.set()
    finish_download(counter)
    assert counter.describe()["source"] == "download"
    assert counter.info.exact and counter.error is None
    assert counter.generation == generation + 1
    assert counter.count_cached("doc", "hello user") == 3  # recounted with Kimi's BPE
    assert counter.count("hellohello") == 2
    assert cache_file(tmp_path).read_bytes() == SMALL_BPE
    meta = sidecar(tmp_path)
    assert meta["sha256"] == SMALL_SHA and meta["source"] == hub.url
    assert meta["last_failure"] is None
    assert counter.start_background_download() is None  # done: never again
    # The next start finds it in the cache, offline.
    later = TokenCounter(env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    later.load()
    assert later.source == "cache"


def test_download_without_an_announced_checksum_is_verified_by_structure(
    tmp_path: Path, hub: FileServer
) -> None:
    hub.linked_etag = None
    counter = download_counter(tmp_path, hub.url)
    counter.load()
    finish_download(counter)
    assert counter.describe()["source"] == "download"
    hub.body = SMALL_BPE + f"{base64.b64encode(b'zz').decode()} {SMALL_COUNT + 1}\n".encode()
    gap = download_counter(tmp_path / "gap", hub.url)
    gap.load()
    finish_download(gap)
    assert gap.source == "bundled" and "ranks" in (gap.error or "")


def test_download_with_a_wrong_checksum_is_rejected_and_retried_a_day_later(
    tmp_path: Path, hub: FileServer, caplog: pytest.LogCaptureFixture
) -> None:
    hub.linked_etag = f'"{"ab" * 32}"'
    clock = Clock()
    counter = download_counter(tmp_path, hub.url, clock)
    with caplog.at_level(logging.WARNING, logger="kimi_lsp.tokens.counter"):
        counter.load()
        finish_download(counter)
    assert counter.source == "bundled" and "sha256 differs" in (counter.error or "")
    assert not cache_file(tmp_path).exists()
    assert sidecar(tmp_path)["last_failure"] == clock.now
    assert len([r for r in caplog.records if "Could not download" in r.message]) == 1
    hits = hub.hits
    clock.now += RETRY_AFTER_SECONDS - 1
    assert counter.start_background_download() is None  # not twice in a day
    restarted = download_counter(tmp_path, hub.url, clock)  # nor after a restart
    restarted.load()
    assert restarted.download_thread is None and hub.hits == hits
    clock.now += 2
    hub.linked_etag = f'"{SMALL_SHA}"'
    thread = counter.start_background_download()
    assert thread is not None
    finish_download(counter)
    assert counter.describe()["source"] == "download"


def test_download_from_a_server_that_is_down_keeps_the_fallback(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    counter = download_counter(tmp_path, f"http://127.0.0.1:{port}/tiktoken.model")
    counter.load()
    finish_download(counter)
    assert counter.source == "bundled" and counter.count("hello") == 1
    assert "could not fetch" in (counter.error or "")
    assert counter.describe()["error"] == counter.error
    assert isinstance(sidecar(tmp_path)["last_failure"], float)


def test_download_of_a_missing_file_is_a_failure(tmp_path: Path, hub: FileServer) -> None:
    counter = download_counter(tmp_path, hub.url.replace("/resolve/", "/nothing/"))
    counter.load()
    finish_download(counter)
    assert counter.source == "bundled" and "HTTP 404" in (counter.error or "")


@pytest.mark.parametrize(
    ("env", "blocked"),
    [
        ({}, False),
        ({"KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}, True),
        ({"KIMI_LSP_TOKENIZER_DOWNLOAD": "off"}, True),
        ({"CI": "true"}, True),
        ({"CI": "0"}, False),
        ({"HF_HUB_OFFLINE": "1"}, True),
        ({"CI": "1", "KIMI_LSP_TOKENIZER_DOWNLOAD": "1"}, False),
    ],
)
def test_download_policy(env: dict[str, str], blocked: bool) -> None:
    assert (download_blocked(env) is not None) == blocked


def test_disabled_download_starts_nothing(tmp_path: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path, KIMI_LSP_TOKENIZER_URL="http://127.0.0.1:9/x"))
    counter.load()
    assert counter.download_thread is None and counter.start_background_download() is None
    assert not cache_file(tmp_path).parent.exists()


def test_model_url_and_announced_checksum() -> None:
    assert model_url({}) == (
        "https://huggingface.co/moonshotai/Kimi-K2.6/resolve/main/tiktoken.model"
    )
    assert model_url({"HF_ENDPOINT": "https://mirror.example/"}).startswith(
        "https://mirror.example/moonshotai/Kimi-K2.6/"
    )
    assert model_url({"KIMI_LSP_TOKENIZER_URL": "http://x/y"}) == "http://x/y"

    @dataclass
    class Answer:
        headers: dict[str, str]

    sha = "AB" * 32
    assert expected_sha256([Answer({"x-linked-etag": f'"{sha}"'}), Answer({})]) == sha.lower()
    assert expected_sha256([Answer({"etag": f'W/"{sha}"'})]) == sha.lower()
    assert expected_sha256([Answer({"etag": '"0123abcd"'})]) is None  # a git sha1: not ours


# -- calibration --------------------------------------------------------------------------
def test_calibration_is_a_bounded_ratio_of_sums(tmp_path: Path) -> None:
    calibration = Calibration(tmp_path / "c.json", "cl100k_base")
    assert calibration.factor is None and calibration.scale(100) == 100
    assert not calibration.add(MIN_TOKENS - 1, MIN_TOKENS * 2)  # tiny
    assert not calibration.add(1_000, 10_000)  # 10×: not the same request
    assert calibration.add(1_000, 1_100) and calibration.factor == pytest.approx(1.1)
    assert calibration.add(3_000, 3_000)
    assert calibration.factor == pytest.approx((1_100 * 0.95 + 3_000) / (1_000 * 0.95 + 3_000))
    factor = calibration.factor
    assert factor is not None and calibration.scale(1_000) == math.ceil(1_000 * factor)
    high = Calibration(None, "x")
    high.add(1_000, 3_000)
    assert high.factor == FACTOR_BOUNDS[1]
    low = Calibration(None, "x")
    low.add(1_000, 300)
    assert low.factor == FACTOR_BOUNDS[0]


def test_calibrated_counts_are_persisted_per_model(tmp_path: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path))
    counter.load()
    raw = counter.count_raw("x" * 4000)
    assert counter.count("x" * 4000) == raw
    assert counter.calibrate(10_000, 11_000)
    assert counter.count("x" * 4000) == math.ceil(raw * 1.1)
    assert counter.describe()["calibration"] == pytest.approx(1.1)
    assert counter.describe()["samples"] == 1
    assert "×1.10 calibrated from 1 request)" in counter.info.name
    messages = [{"role": "user", "content": "x" * 4000}]
    assert counter.count_messages(messages, raw=True) == raw + MESSAGE_OVERHEAD + REQUEST_OVERHEAD
    assert counter.count_messages(messages) == math.ceil((raw + 7) * 1.1)

    restarted = TokenCounter(env=offline_env(tmp_path))
    restarted.load()
    assert restarted.describe()["calibration"] == pytest.approx(1.1)
    other_model = TokenCounter(model="kimi-k2.5", env=offline_env(tmp_path))
    other_model.load()
    assert other_model.describe()["calibration"] is None


def test_exact_tokenizer_is_never_calibrated(tmp_path: Path, small_bpe: Path) -> None:
    counter = TokenCounter(small_bpe, env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    assert not counter.calibrate(10_000, 11_000)  # before load: nothing to calibrate either
    counter.load()
    assert not counter.calibrate(10_000, 11_000)
    assert counter.count("hello" * 1000) == 1000
    assert counter.describe()["calibration"] is None


# -- counting -----------------------------------------------------------------------------
def test_kimi_chat_format_is_counted_from_the_template(tmp_path: Path, small_bpe: Path) -> None:
    counter = TokenCounter(small_bpe, env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    counter.load()
    encoding = build_kimi_encoding(small_ranks())

    def template(text: str) -> int:
        return len(encoding.encode(text, allowed_special="all"))

    prompt = template("<|im_assistant|>assistant<|im_middle|>")
    assert prompt == 2 + len(encoding.encode_ordinary("assistant"))
    user = [{"role": "user", "content": "hello"}]
    assert counter.count_messages([]) == prompt
    assert counter.count_messages(user) == prompt + 3 + 1 + 1  # markers, "user", "hello"
    assert counter.count_messages(user) == template(
        "<|im_user|>user<|im_middle|>hello<|im_end|><|im_assistant|>assistant<|im_middle|>"
    )
    call = {"id": "functions.f:0", "function": {"name": "f", "arguments": "{}"}}
    with_call = [{"role": "assistant", "content": "", "tool_calls": [call]}]
    assert counter.count_messages(with_call) == template(
        "<|im_assistant|>assistant<|im_middle|><|tool_calls_section_begin|><|tool_call_begin|>"
        "functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>"
        "<|im_end|><|im_assistant|>assistant<|im_middle|>"
    )
    result = [{"role": "tool", "tool_call_id": "functions.f:0", "content": "ok"}]
    assert counter.count_messages(result) == template(
        "<|im_system|>tool<|im_middle|>## Return of functions.f:0\nok<|im_end|>"
        "<|im_assistant|>assistant<|im_middle|>"
    )
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    assert counter.count_messages(parts) == counter.count_messages(user)


def test_fallback_message_overhead(tmp_path: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path))
    counter.load()
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "hello"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "hm",
            "tool_calls": [{"id": "a", "function": {"name": "read", "arguments": "{}"}}],
        },
    ]
    expected = REQUEST_OVERHEAD + 2 * MESSAGE_OVERHEAD + 1 + 0 + counter.count("hm")
    assert counter.count_messages(messages) == expected + counter.count("read{}")


@pytest.mark.parametrize("source", ["estimate", "bundled", "kimi"])
def test_special_token_text_is_counted_as_text(
    tmp_path: Path, small_bpe: Path, source: str
) -> None:
    counter = TokenCounter(
        small_bpe if source == "kimi" else None,
        env=offline_env(tmp_path),
        expected_ranks=SMALL_COUNT,
    )
    if source != "estimate":
        counter.load()
    text = "a <|endoftext|> b <|im_end|> c <|im_user|>"
    assert counter.count(text) > 6
    assert counter.count_many([text, text]) == [counter.count(text)] * 2
    assert counter.count_cached(("u", 1), text) == counter.count(text)
    assert counter.count_messages([{"role": "user", "content": text}]) > counter.count(text)


def test_count_many_matches_count_on_the_batch_path(tmp_path: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path))
    counter.load()
    texts = [f"def f{i}(x):\n    return x * {i}\n" * 400 for i in range(12)]
    assert sum(map(len, texts)) > tokens._BATCH_MIN_CHARS
    assert counter.count_many(texts) == [counter.count(text) for text in texts]
    assert counter.count_many([]) == []


def test_count_cached_is_a_bounded_lru(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = TokenCounter(env=offline_env(tmp_path))
    counter.load()
    counted: list[str] = []
    real = counter.count_raw

    def spy(text: str) -> int:
        counted.append(text)
        return real(text)

    monkeypatch.setattr(counter, "count_raw", spy)
    monkeypatch.setattr(tokens, "CACHE_ENTRIES", 2)
    assert counter.count_cached(("a", 1), "alpha beta") == 2
    assert counter.count_cached(("a", 1), "alpha beta") == 2
    assert counted == ["alpha beta"]
    counter.count_cached(("b", 1), "bee")
    counter.count_cached(("a", 1), "alpha beta")  # a is now the most recent
    counter.count_cached(("c", 1), "sea")  # evicts b
    assert len(counted) == 3
    counter.count_cached(("a", 1), "alpha beta")
    assert len(counted) == 3
    counter.count_cached(("b", 1), "bee")
    assert counted[-1] == "bee" and len(counted) == 4
    counter.count_cached(("a", 1), "alpha beta gamma")  # same key, other text: recounted
    assert counted[-1] == "alpha beta gamma"


def test_describe_before_and_after_loading(tmp_path: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path))
    before = counter.describe()
    assert before["source"] == "estimate" and before["exact"] is False
    assert counter.count("abcdef") == 2  # 3 characters per token
    counter.load()
    after = counter.describe()
    assert set(after) == {"name", "exact", "source", "calibration", "samples", "error"}
    assert after["source"] == "bundled" and after["name"].startswith("cl100k_base (offline")
    assert after["calibration"] is None and after["samples"] == 0


def test_importing_the_module_does_not_import_tiktoken() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import kimi_lsp.tokens.counter; "
        "assert 'tiktoken' not in sys.modules and 'httpx2' not in sys.modules; "
        "assert not any(m.startswith(('pygls', 'lsprotocol')) for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
