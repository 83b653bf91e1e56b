"""The extension's own checks: TypeScript type-checks and its node unit tests pass."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

EXTENSION = Path(__file__).resolve().parents[3] / "editors" / "vscode"


def npm(script: str) -> subprocess.CompletedProcess[str]:
    npm_path = shutil.which("npm")
    assert npm_path is not None, "npm is not installed (the test command's setup installs it)"
    assert (EXTENSION / "node_modules").is_dir(), "run tests/editors/vscode/setup.sh first"
    return subprocess.run(
        [npm_path, "run", "--silent", script],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_extension_type_checks() -> None:
    done = npm("typecheck")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_extension_unit_tests_pass() -> None:
    done = npm("test:unit")
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", done.stdout, re.MULTILINE)
    assert passed and int(passed[1]) >= 30, done.stdout
    assert failed and int(failed[1]) == 0, done.stdout
