"""Issue 16, finding 8: `kimi-lsp edit --apply` writes through symlinks and keeps line endings."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from tests.fake_kimi import FakeKimi, Reply

from .test_cli import _edit_env, run


def test_apply_writes_through_a_symlink_to_its_target(fake: FakeKimi, tmp_path: Path) -> None:
    real = tmp_path / "src" / "calc.py"
    real.parent.mkdir()
    real.write_text("x = 1\ny = 2\nz = 3\n")
    link = tmp_path / "calc.py"
    os.symlink(real, link)
    fake.enqueue(Reply(content="y = 20\n```"))
    result = run("edit", f"{link}:2", "make it 20", "--apply", env=_edit_env(fake))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)  # still the same link
    assert real.read_text() == "x = 1\ny = 20\nz = 3\n"  # the target got the edit
    assert sorted(os.listdir(real.parent)) == ["calc.py"]  # no temporary file left behind


def test_apply_keeps_crlf_endings_and_the_mode(fake: FakeKimi, tmp_path: Path) -> None:
    source = tmp_path / "calc.py"
    source.write_bytes(b"x = 1\r\ny = 2\r\nz = 3\r\n")
    source.chmod(0o750)
    fake.enqueue(Reply(content="y = 20\n```"))
    result = run("edit", f"{source}:2", "make it 20", "--apply", env=_edit_env(fake))
    assert result.returncode == 0, result.stderr
    assert source.read_bytes() == b"x = 1\r\ny = 20\r\nz = 3\r\n"
    assert stat.S_IMODE(source.stat().st_mode) == 0o750


def test_apply_keeps_each_unchanged_lines_ending_in_a_mixed_file(
    fake: FakeKimi, tmp_path: Path
) -> None:
    source = tmp_path / "calc.py"
    source.write_bytes(b"x = 1\r\ny = 2\nz = 3\r\nw = 4\n")
    fake.enqueue(Reply(content="y = 20\n```"))
    result = run("edit", f"{source}:2", "make it 20", "--apply", env=_edit_env(fake))
    assert result.returncode == 0, result.stderr
    assert source.read_bytes() == b"x = 1\r\ny = 20\nz = 3\r\nw = 4\n"


def test_apply_still_refuses_a_file_changed_meanwhile(fake: FakeKimi, tmp_path: Path) -> None:
    source = tmp_path / "calc.py"
    source.write_bytes(b"x = 1\r\ny = 2\r\n")
    theirs = b"x = 1\r\ny = 2\r\n# saved by the editor meanwhile\r\n"

    def reply(body: dict[str, Any]) -> Reply:
        source.write_bytes(theirs)  # while the model answers
        return Reply(content="y = 20\n```")

    fake.enqueue(reply)
    result = run("edit", f"{source}:2", "make it 20", "--apply", env=_edit_env(fake))
    assert result.returncode == 1 and "changed while kimi was writing" in result.stderr
    assert source.read_bytes() == theirs
