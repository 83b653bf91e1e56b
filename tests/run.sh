#!/usr/bin/env bash
# The one test command: installs everything the tests need (reusing a cache outside the
# repository), then runs the linters, the type checker and the whole test suite.
#
#   bash tests/run.sh            # everything
#   bash tests/run.sh -k chat    # extra arguments go to pytest
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${KIMI_LSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kimi-lsp-dev}"
venv="${KIMI_LSP_TEST_VENV:-$cache/venv}"
python="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }

# 1. Python: a virtualenv with the package (editable) and its test extras.
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "kimi-lsp needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  step "creating $venv"
  "$python" -m venv "$venv"
fi
stamp="$venv/.kimi-lsp-stamp"
want="$(cat "$repo/pyproject.toml" | sha256sum | cut -c1-16) $repo"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  step "installing kimi-lsp[test] into $venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e "$repo[test]"
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

cd "$repo"

# 1b. A real self-hosted OpenAI-compatible server for tests/e2e/test_selfhosted.py: llama.cpp's
#     Python server and a small GGUF model, in a venv of their own in the cache. The first run
#     compiles llama.cpp (4-9 minutes on 2 cores): it runs in the background while the static
#     checks and the VS Code setup run, and pytest starts once it is done.
step "self-hosted server setup (in the background)"
llama_log="$(mktemp)"
bash "$repo/tests/selfhosted/setup.sh" >"$llama_log" 2>&1 &
llama_setup=$!

# 2. Static checks.
step "ruff"
ruff check server tests bench
ruff format --check server tests bench
step "mypy"
mypy

# 3. Real VS Code for tests/editors/vscode: chromium (apt), code-server, playwright-core and
#    mocha (npm, cached like the venv), and the extension's .vsix built from editors/vscode.
step "VS Code end-to-end setup"
bash "$repo/tests/editors/vscode/setup.sh"

step "self-hosted server setup (waiting for it)"
if ! wait "$llama_setup"; then
  cat "$llama_log" >&2
  echo "tests/selfhosted/setup.sh failed" >&2
  exit 1
fi
cat "$llama_log"
rm -f "$llama_log"

# 4. The test suite (unit, end-to-end over stdio against the fake API and a real llama.cpp
#    server, editors).
step "pytest"
set +e
pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  # pytest's 5 means "no tests collected": fine for a filtered run, a failure otherwise.
  if [ "$#" -gt 0 ]; then
    echo "No test matched the given arguments."
    exit 0
  fi
  echo "pytest collected no tests: the suite is missing." >&2
  exit 1
fi
exit "$status"
