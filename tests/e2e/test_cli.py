"""The command line as a person uses it: --version, --help, doctor (offline and --online)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kimi_lsp import __version__
from tests.fake_kimi import FakeKimi

from .harness import server_env

KEY = "sk-test-fake"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kimi_lsp", *args],
        capture_output=True,
        text=True,
        env=server_env(env),
        timeout=60,
        check=False,
    )


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"kimi-lsp {__version__}"
    help_text = run("--help").stdout
    assert "doctor" in help_text and "--tcp" in help_text


def test_a_reader_that_went_away_gets_no_traceback(tmp_path: Path) -> None:
    """`kimi-lsp context app.py | head -1`: the pipe closes while the manifest is written."""
    import os

    source = tmp_path / "app.py"
    source.write_text("def f1():\n    return 1\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout now fails with EPIPE, at once
    try:
        result = subprocess.run(
            [sys.executable, "-m", "kimi_lsp", "context", str(source)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=server_env(None),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_doctor_without_key_names_the_fix() -> None:
    result = run("doctor")
    assert result.returncode == 1
    assert "MOONSHOT_API_KEY" in result.stdout and "kimi.apiKey" in result.stdout
    assert "kimi-k2.6" in result.stdout and "tokenizer" in result.stdout


def test_doctor_with_key_never_prints_it(tmp_path: Path) -> None:
    secret = "sk-test-fake-doctor-0123456789abcdef"
    result = run("doctor", env={"MOONSHOT_API_KEY": secret})
    assert result.returncode == 0, result.stdout
    assert "configured (from environment)" in result.stdout
    assert secret not in result.stdout + result.stderr


def test_doctor_reports_a_bad_user_file(tmp_path: Path) -> None:
    env = {"MOONSHOT_API_KEY": KEY, "XDG_CONFIG_HOME": str(tmp_path)}
    (tmp_path / "kimi-lsp").mkdir()
    (tmp_path / "kimi-lsp" / "settings.json").write_text('{"maxRetries": "lots"}')
    result = run("doctor", env=env)
    assert result.returncode == 1
    assert "kimi.maxRetries" in result.stdout


def test_doctor_online_against_the_endpoint(fake: FakeKimi) -> None:
    env = {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": fake.base_url}
    result = run("doctor", "--online", env=env)
    assert result.returncode == 0, result.stdout
    assert "lists kimi-k2.6" in result.stdout
    models = [r for r in fake.requests if r.path.endswith("/models")]
    assert models and models[-1].headers.get("authorization") == f"Bearer {KEY}"


def test_doctor_online_rejected_key_explains_regions(fake: FakeKimi) -> None:
    env = {"MOONSHOT_API_KEY": "sk-wrong-region-key-000000", "KIMI_BASE_URL": fake.base_url}
    result = run("doctor", "--online", env=env)
    assert result.returncode == 1
    assert "401" in result.stdout and "api.moonshot.cn" in result.stdout
    assert "sk-wrong-region-key-000000" not in result.stdout


def test_doctor_online_unreachable_endpoint() -> None:
    env = {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": "http://127.0.0.1:9/v1"}
    result = run("doctor", "--online", env=env)
    assert result.returncode == 1
    assert "could not reach http://127.0.0.1:9/v1/models" in result.stdout


def test_unknown_subcommand_is_a_usage_error() -> None:
    assert run("frobnicate").returncode == 2


def test_chat_without_key_says_what_to_set() -> None:
    result = run("chat", "hello")
    assert result.returncode == 1
    assert "MOONSHOT_API_KEY" in result.stderr and "kimi.apiKey" in result.stderr


def test_chat_streams_an_answer(fake: FakeKimi, tmp_path: Path) -> None:
    from tests.fake_kimi import Reply

    source = tmp_path / "mod.py"
    source.write_text("def f():\n    return 41\n")
    fake.enqueue(Reply(content=["It ", "returns ", "41."], reasoning="Reading f."))
    env = {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": fake.base_url}
    result = run("chat", "What does f return?", "--file", str(source), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "It returns 41."
    assert "Reading f." in result.stderr and "output tokens" in result.stderr
    body = fake.chat_requests[-1].body
    assert "return 41" in body["messages"][-1]["content"]


def test_chat_never_sends_a_secret_typed_into_the_message(fake: FakeKimi) -> None:
    from tests.fake_kimi import Reply

    token = "ghp_" + "Zq8rT3vX9kLm2Np4Qs6Uw8Yb0Cd2Ef4Gh6Ij"
    fake.enqueue(Reply(content="Rotate it."))
    env = {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": fake.base_url}
    result = run("chat", f"is {token} or {KEY} safe to commit?", env=env)
    assert result.returncode == 0, result.stderr
    sent = json.dumps(fake.chat_requests[-1].body)
    assert token not in sent and KEY not in sent
    assert "[REDACTED:" in sent and "safe to commit?" in sent


def test_chat_json_output(fake: FakeKimi) -> None:
    import json

    from tests.fake_kimi import Reply

    fake.enqueue(Reply(content="Fine."))
    env = {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": fake.base_url}
    result = run("chat", "ok?", "--json", env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["content"] == "Fine." and answer["usage"]["completionTokens"] > 0


def test_chat_api_error_is_one_readable_line(fake: FakeKimi) -> None:
    from tests.fake_kimi import Fault

    fake.enqueue(Fault.quota())
    env = {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": fake.base_url}
    result = run("chat", "hello", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("kimi-lsp: ") and "recharge" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_json_for_tools(fake: FakeKimi) -> None:
    import json

    env = {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": fake.base_url}
    result = run("doctor", "--online", "--json", env=env)
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert report["ok"] is True
    assert statuses["api key"] == "ok" and statuses["endpoint"] == "ok"
    assert KEY not in result.stdout
    missing = json.loads(run("doctor", "--json").stdout)
    assert missing["ok"] is False
    assert {c["check"]: c["status"] for c in missing["checks"]}["api key"] == "error"


def _edit_env(fake: FakeKimi) -> dict[str, str]:
    return {"MOONSHOT_API_KEY": KEY, "KIMI_BASE_URL": fake.base_url}


def test_edit_prints_a_unified_diff_and_leaves_the_file(fake: FakeKimi, tmp_path: Path) -> None:
    from tests.fake_kimi import Reply

    source = tmp_path / "calc.py"
    text = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    source.write_text(text)
    fake.enqueue(Reply(content="def sub(a: int, b: int) -> int:\n    return a - b\n```\n"))
    result = run("edit", f"{source}:5-6", "add type hints", env=_edit_env(fake))
    assert result.returncode == 0, result.stderr
    assert f"--- a/{source}" in result.stdout and f"+++ b/{source}" in result.stdout
    assert "-def sub(a, b):" in result.stdout
    assert "+def sub(a: int, b: int) -> int:" in result.stdout
    assert "add(a, b)" not in result.stdout.replace("@@", "")  # only the hunk's context
    assert "output tokens" in result.stderr
    assert source.read_text() == text
    body = fake.chat_requests[-1].body
    assert body["messages"][-1]["role"] == "assistant"  # the fence prefix (partial mode)
    assert "lines 5-6" in json.dumps(body)


def test_edit_apply_writes_only_the_range(fake: FakeKimi, tmp_path: Path) -> None:
    from tests.fake_kimi import Reply

    source = tmp_path / "calc.py"
    source.write_text("x = 1\ny = 2\nz = 3\n")
    fake.enqueue(Reply(content="y = 20\n```"))
    result = run("edit", f"{source}:2", "make it 20", "--apply", env=_edit_env(fake))
    assert result.returncode == 0, result.stderr
    assert source.read_text() == "x = 1\ny = 20\nz = 3\n"
    assert "applied 1 change" in result.stderr and result.stdout == ""


def test_edit_refuses_a_reply_that_breaks_the_syntax(fake: FakeKimi, tmp_path: Path) -> None:
    from tests.fake_kimi import Reply

    source = tmp_path / "calc.py"
    source.write_text("def f():\n    return 1\n")
    fake.enqueue(Reply(content="def f(:\n    return 1\n```"))
    result = run("edit", f"{source}:1-2", "rename", "--apply", env=_edit_env(fake))
    assert result.returncode == 1
    assert result.stderr.startswith("kimi-lsp: Not applied") and "Traceback" not in result.stderr
    assert source.read_text() == "def f():\n    return 1\n"


def test_edit_bad_targets_are_readable(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("a = 1\n")
    env = {"MOONSHOT_API_KEY": KEY}
    cases = {
        str(source): "is not FILE:START-END",
        f"{source}:3-1": "is not a line range",
        f"{source}:1-9": "runs past its end",
        f"{tmp_path / 'missing.py'}:1": "is not a file",
    }
    for target, message in cases.items():
        result = run("edit", target, "anything", env=env)
        assert result.returncode == 1, target
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    (tmp_path / ".env").write_text("TOKEN=abc\n")
    result = run("edit", f"{tmp_path / '.env'}:1", "anything", env=env)
    assert result.returncode == 1 and "secret file" in result.stderr


def test_edit_without_key_and_api_errors(fake: FakeKimi, tmp_path: Path) -> None:
    from tests.fake_kimi import Fault

    source = tmp_path / "a.py"
    source.write_text("a = 1\n")
    result = run("edit", f"{source}:1", "anything")
    assert result.returncode == 1 and "MOONSHOT_API_KEY" in result.stderr
    fake.enqueue(Fault.quota())
    result = run("edit", f"{source}:1", "anything", "--apply", env=_edit_env(fake))
    assert result.returncode == 1 and "recharge" in result.stderr
    assert source.read_text() == "a = 1\n"
