"""Standalone fake: `python -m tests.fake_kimi --port N [--script FILE.json] [--key KEY]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import sys
from pathlib import Path

from .config import TEST_KEY, FakeConfig
from .server import FakeKimi
from .validate import DEFAULT_MODELS, PREFIX_STYLES, ModelSpec


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_kimi",
        description="Serve the fake Kimi API until SIGTERM/SIGINT; prints `READY <base url>` "
        "once listening. Script it with --script or the /_control/... endpoints.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--script", type=Path, help="a JSON script (see tests/fake_kimi/jsonform.py)"
    )
    parser.add_argument(
        "--key", action="append", dest="keys", help=f"accepted API key, repeatable ({TEST_KEY})"
    )
    parser.add_argument("--any-key", action="store_true", help="accept any non-empty key")
    parser.add_argument(
        "--prefix-styles",
        default="partial",
        help=f"comma-separated accepted continuation styles among {', '.join(PREFIX_STYLES)}",
    )
    parser.add_argument(
        "--unaccepted-prefix", choices=["plain", "repeat", "reject"], default="plain"
    )
    parser.add_argument("--repeat-prefix", action="store_true", help="fault: repeat the prefix")
    parser.add_argument("--tool-call-id-style", default="functions.name:N")
    parser.add_argument("--sse-framing", choices=["chunked", "close"], default="chunked")
    parser.add_argument("--context-length", type=int, help="override every model's window")
    parser.add_argument("--dialect", choices=["moonshot", "llamacpp", "vllm"], default="moonshot")
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> FakeKimi:
    models: tuple[ModelSpec, ...] = DEFAULT_MODELS
    if args.context_length:
        models = tuple(dataclasses.replace(m, context_length=args.context_length) for m in models)
    config = FakeConfig(
        api_keys=None if args.any_key else tuple(args.keys or [TEST_KEY]),
        models=models,
        host=args.host,
        port=args.port,
        prefix_styles=tuple(s for s in args.prefix_styles.split(",") if s),
        unaccepted_prefix=args.unaccepted_prefix,
        repeat_prefix=args.repeat_prefix,
        tool_call_id_style=args.tool_call_id_style,
        sse_framing=args.sse_framing,
        dialect=args.dialect,
    )
    fake = FakeKimi(config)
    if args.script:
        fake.enqueue_json(json.loads(args.script.read_text(encoding="utf-8")))
    return fake


async def serve(fake: FakeKimi) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(f"READY {fake.base_url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    fake = build(parse_args(argv))
    asyncio.run(serve(fake))
    return 0


if __name__ == "__main__":
    sys.exit(main())
