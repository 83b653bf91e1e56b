"""Command line: serve LSP over stdio or TCP, plus the `doctor` subcommand for people."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimi-lsp",
        description="A language server that puts the kimi-k2.6 model behind your editor. "
        "Without a subcommand it serves LSP over stdio.",
    )
    parser.add_argument("--version", action="version", version=f"kimi-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="TCP host (default 127.0.0.1); one that is not loopback needs --token-file",
    )
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="TCP: a file (mode 600) holding a token every client must send as "
        "initializationOptions.tcpToken; required for a --host other than loopback",
    )
    parser.add_argument("--log-file", type=Path, help="write the log here instead of stderr")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="log verbosity (default INFO)",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    doctor = sub.add_parser(
        "doctor", help="check the configuration and, with --online, the API endpoint"
    )
    doctor.add_argument(
        "--online", action="store_true", help="also call the API endpoint to check it answers"
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    chat = sub.add_parser("chat", help="ask kimi a question; the answer streams to stdout")
    chat.add_argument("message", help="the question (slash commands are for editors)")
    chat.add_argument("--file", type=Path, help="include this file as context")
    chat.add_argument("--json", action="store_true", help="print the result as one JSON object")
    context = sub.add_parser(
        "context", help="show what a request about FILE[:LINE] would send (offline, no key)"
    )
    context.add_argument(
        "target", metavar="FILE[:LINE]", help="the file, optionally :LINE (1-based)"
    )
    context.add_argument("--purpose", choices=["chat", "edit", "refactor"], default="chat")
    context.add_argument(
        "--budget", type=int, help="prompt token budget (default: the purpose's contextBudget)"
    )
    context.add_argument("--json", action="store_true", help="print the manifest as JSON")
    edit = sub.add_parser(
        "edit", help="rewrite lines of FILE as instructed; prints a unified diff (or --apply)"
    )
    edit.add_argument(
        "target", metavar="FILE:START-END", help="the file and its lines (1-based, inclusive)"
    )
    edit.add_argument("instruction", help="what to change, e.g. 'add type hints'")
    edit.add_argument("--apply", action="store_true", help="write the change to the file")
    return parser


EXIT_BROKEN_PIPE = 141  # what a shell reports for a writer killed by SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        return serve(args)
    try:
        return run_command(args)
    except BrokenPipeError:
        # The reader went away (`kimi-lsp context app.py | head`): nothing is left to say, and
        # Python's flush at exit must not fail with a traceback either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def run_command(args: argparse.Namespace) -> int:
    """One of the subcommands for people (doctor, context, chat, edit)."""
    if args.command == "doctor":
        from .doctor import run_doctor

        return run_doctor(online=args.online, out=sys.stdout, as_json=args.json)
    if args.command == "context":
        from .context import run_context_cli

        return run_context_cli(
            args.target, args.purpose, args.budget, args.json, sys.stdout, sys.stderr
        )
    if args.command == "chat":
        from .chat import run_chat_cli

        return run_chat_cli(args.message, args.file, args.json)
    if args.command == "edit":
        from .edit import run_edit_cli

        return run_edit_cli(args.target, args.instruction, args.apply)
    raise AssertionError(f"unknown subcommand {args.command!r}")  # argparse refuses it first


EXIT_USAGE = 2  # what argparse returns for a command line it refuses


def serve(args: argparse.Namespace) -> int:
    from ..logs import LogSetup
    from ..lsp.server import create_server

    token: str | None = None
    if args.tcp:
        problem, token = tcp_token(args.host, args.token_file)
        if problem is not None:
            print(f"kimi-lsp: {problem}", file=sys.stderr)
            return EXIT_USAGE
    logs = LogSetup(level=args.log_level, log_file=args.log_file)
    server = create_server(logs=logs)
    logs.filter.set_secrets({*server.settings.api_keys()})
    try:
        if args.tcp:
            return server.serve_tcp(args.host, args.port, token=token)
        return server.serve_stdio()
    finally:
        logs.close()


def tcp_token(host: str, token_file: Path | None) -> tuple[str | None, str | None]:
    """(problem, token) for serving TCP on `host`: off loopback, a token file is required."""
    from ..lsp.tcp_auth import TokenFileError, is_loopback, read_token_file

    if token_file is None:
        if is_loopback(host):
            return None, None
        return (
            f"--host {host} is not a loopback address, so other machines could connect; "
            "give --token-file PATH (a private file holding a token clients must send) "
            "or listen on 127.0.0.1.",
            None,
        )
    try:
        return None, read_token_file(token_file)
    except TokenFileError as exc:
        return str(exc), None
