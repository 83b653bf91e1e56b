"""`tokenizerPath` and the user settings file are read bounded (issue 16, finding 7): a device,
a FIFO or a huge file is refused by a check, the fallback tokenizer serves, nothing hangs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kimi_lsp.config import file_source
from kimi_lsp.limited_read import read_head
from kimi_lsp.tokens.counter import TokenCounter

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero are POSIX")


def _offline_env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}


def _load(tokenizer_path: Path, tmp_path: Path) -> TokenCounter:
    counter = TokenCounter(tokenizer_path, env=_offline_env(tmp_path), counting_threads=0)
    counter.load()
    return counter


@posix_only
def test_dev_zero_as_tokenizer_path_is_refused_without_reading(tmp_path: Path) -> None:
    """Loaded in a child limited to 1 GB of address space: before issue 16 it read /dev/zero
    until that limit (MemoryError), now the check refuses it before the first read."""
    script = textwrap.dedent(
        """
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from kimi_lsp.tokens.counter import TokenCounter
        env = {"XDG_CACHE_HOME": sys.argv[1], "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}
        counter = TokenCounter("/dev/zero", env=env, counting_threads=0)
        counter.load()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(json.dumps({"source": counter.source, "error": counter.error,
                          "count": counter.count("hello world"), "maxrss_kb": usage.ru_maxrss}))
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["source"] == "bundled" and result["count"] == 2  # the fallback serves
    assert "tokenizerPath" in result["error"] and "not a regular file" in result["error"]


@posix_only
def test_a_fifo_as_tokenizer_path_is_refused_without_waiting_for_a_writer(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "tiktoken.model"
    os.mkfifo(fifo)
    counter = _load(fifo, tmp_path)  # no writer ever opens it: a blocking open would hang
    assert counter.source == "bundled" and counter.count("hello world") == 2
    assert "tokenizerPath" in (counter.error or "")
    assert "not a regular file" in (counter.error or "")


def test_a_33_mb_tokenizer_path_is_refused_by_its_size(tmp_path: Path) -> None:
    huge = tmp_path / "tiktoken.model"
    with huge.open("wb") as handle:  # sparse: no 33 MB written to the disk
        handle.truncate(33 * 1024 * 1024)
    counter = _load(huge, tmp_path)
    assert counter.source == "bundled"
    assert "tokenizerPath" in (counter.error or "")
    assert "larger than 32 MB" in (counter.error or "")


@posix_only
def test_a_symlink_to_a_regular_file_is_followed(tmp_path: Path) -> None:
    target = tmp_path / "real"
    target.write_bytes(b"not a bpe file\n")
    link = tmp_path / "link"
    link.symlink_to(target)
    counter = _load(link, tmp_path)
    # Read (and found malformed): the check is on the target, not on the link.
    assert "not a regular file" not in (counter.error or "")
    assert "line 1" in (counter.error or "")


@posix_only
def test_the_user_settings_file_is_read_bounded(tmp_path: Path) -> None:
    fifo = tmp_path / "settings.json"
    os.mkfifo(fifo)
    source, problem = file_source(fifo)
    assert source is None and problem is not None and "not a regular file" in problem
    huge = tmp_path / "big.json"
    with huge.open("wb") as handle:
        handle.truncate(2 * 1024 * 1024)
    source, problem = file_source(huge)
    assert source is None and problem is not None and "larger than 1 MB" in problem


@posix_only
def test_a_workspace_file_swapped_for_a_fifo_or_a_device_is_not_read(tmp_path: Path) -> None:
    """The index stats a file, then reads it: a repository (or anything racing it) that puts
    a FIFO or a symlink to /dev/zero there in between gets nothing read, and nothing hangs."""
    from kimi_lsp.context.file_texts import FileTexts, read_bytes

    regular = tmp_path / "app.py"
    regular.write_text("x = 1\n")
    seen = os.stat(regular)  # what the walk saw
    regular.unlink()
    os.mkfifo(regular)  # no writer ever opens it
    assert read_bytes(str(regular), seen.st_size) is None
    assert FileTexts().read(str(regular), seen) is None
    regular.unlink()
    regular.symlink_to("/dev/zero")
    assert read_bytes(str(regular), seen.st_size) is None  # not read until memory runs out
    assert read_bytes(str(regular), seen.st_size, limit=100) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_secret_name_check_never_waits_on_a_fifo(tmp_path: Path) -> None:
    """`.npmrc` and its kin are judged by their first bytes: a FIFO under that name gives none
    (the walk must not wait for a writer) and stays out; a regular file gives its head."""
    from kimi_lsp.context.workspace import _secret

    os.mkfifo(tmp_path / ".npmrc")
    assert read_head(tmp_path / ".npmrc", 64) is None
    assert read_head("/dev/zero", 64) is None
    assert _secret(".npmrc", str(tmp_path / ".npmrc"))  # on the old open(): waits forever
    (tmp_path / "real").write_text("//registry.npmjs.org/:_authToken=npm_" + "a" * 36 + "\n")
    assert read_head(tmp_path / "real", 8) == b"//regist"
    assert _secret(".npmrc", str(tmp_path / "real"))
    (tmp_path / "plain").write_text("registry=https://registry.npmjs.org/\n")
    assert _secret(".npmrc", str(tmp_path / "plain")) == ""
