#!/usr/bin/env bash
# Installs what the VS Code end-to-end tests need, reusing a cache outside the repository:
#   - Debian packages: chromium (the browser that hosts the workbench) and the build tools
#     code-server's native modules need (argon2, kerberos, node-pty);
#   - code-server@4.100.3 (VS Code 1.100.3 as a server; the newest that runs on Node 20);
#   - playwright-core (drives Debian's chromium; never downloads a browser);
#   - the extension's npm dependencies and its packaged .vsix (editors/vscode/kimi-lsp.vsix).
# Idempotent and quick when everything is cached. KIMI_LSP_VSIX=path tests that package instead
# of building one. Prints the paths as KEY=VALUE lines at the end.
#
#   bash tests/editors/vscode/setup.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cache="${KIMI_LSP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kimi-lsp-dev}"
code_server_version="4.100.3"
cs_dir="$cache/code-server-$code_server_version"
node_dir="$cache/vscode-e2e-node"  # playwright-core and mocha for the test driver
ext_dir="$repo/editors/vscode"

say() { printf '[vscode-setup] %s\n' "$*"; }
die() { printf '[vscode-setup] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$cache"

# 1. Debian packages (apt-get update only when something is missing).
missing=()
for pkg in chromium build-essential python3 pkg-config libkrb5-dev ripgrep; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get install ${missing[*]} failed"
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after installing the chromium package"
command -v node >/dev/null || die "node is not installed (Node 20 is needed)"
command -v npm >/dev/null || die "npm is not installed"

# 2. code-server, into the cache (a marker file says the install completed).
if [ ! -f "$cs_dir/.complete" ] || [ ! -x "$cs_dir/node_modules/.bin/code-server" ]; then
  say "installing code-server@$code_server_version into $cs_dir (takes a minute or two)"
  rm -rf "$cs_dir"
  mkdir -p "$cs_dir"
  tmp="$(mktemp -d)"
  # @vscode/ripgrep looks for this archive before downloading from GitHub: seed it with Debian's rg.
  mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11"
  tar czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" \
    -C /usr/bin rg
  echo '{"name": "kimi-lsp-code-server", "private": true}' > "$cs_dir/package.json"
  if ! (cd "$cs_dir" && TMPDIR="$tmp" npm_config_nodedir=/usr npm_config_yes=true \
        npm install --unsafe-perm --no-audit --no-fund --loglevel=error \
        "code-server@$code_server_version" >"$cache/code-server-install.log" 2>&1); then
    tail -n 40 "$cache/code-server-install.log" >&2
    rm -rf "$tmp"
    die "npm install code-server@$code_server_version failed (log: $cache/code-server-install.log)"
  fi
  rm -rf "$tmp"
  touch "$cs_dir/.complete"
fi
code_server="$cs_dir/node_modules/.bin/code-server"

# 3. playwright-core (the library only; the browser is Debian's chromium) and mocha (the helper
#    extension in editors/vscode/test/e2e loads it by path), in one folder of the cache.
node_want="playwright-core@1.52.0 mocha@10.8.2"
if [ "$(cat "$node_dir/.complete" 2>/dev/null || true)" != "$node_want" ]; then
  say "installing $node_want into $node_dir"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  echo '{"name": "kimi-lsp-vscode-e2e", "private": true}' > "$node_dir/package.json"
  # shellcheck disable=SC2086
  (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error $node_want) \
    || die "npm install $node_want failed"
  echo "$node_want" > "$node_dir/.complete"
fi

# 4. The extension: dependencies and the packaged .vsix (rebuilt when its sources change).
vsix="$ext_dir/kimi-lsp.vsix"
if [ -n "${KIMI_LSP_VSIX:-}" ]; then
  # A given package (e.g. a release candidate) is tested as is, without building.
  vsix="$KIMI_LSP_VSIX"
  [ -f "$vsix" ] || die "KIMI_LSP_VSIX=$vsix does not exist"
elif [ -f "$ext_dir/package.json" ]; then
  stamp="$cache/vscode-ext-stamp"
  # Everything that goes into the package, not what building it produces (nor the e2e tests).
  want="$(cd "$ext_dir" && find . \( -name node_modules -o -name dist -o -name out -o -name test \
            -o -name '*.vsix' \) -prune -o -type f -print | LC_ALL=C sort | xargs -r sha256sum \
            | sha256sum | cut -c1-16) $ext_dir"
  if [ ! -f "$vsix" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    say "building the extension in $ext_dir"
    deps_stamp="$cache/vscode-ext-deps-stamp"
    deps_want="$(cat "$ext_dir/package.json" "$ext_dir/package-lock.json" 2>/dev/null | sha256sum | cut -c1-16)"
    if [ -d "$ext_dir/node_modules" ] && [ "$(cat "$deps_stamp" 2>/dev/null || true)" = "$deps_want" ]; then
      : # the dependencies of this lock file are installed
    elif [ -f "$ext_dir/package-lock.json" ]; then
      (cd "$ext_dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $ext_dir"
      echo "$deps_want" > "$deps_stamp"
    else
      (cd "$ext_dir" && npm install --no-audit --no-fund --loglevel=error) \
        || die "npm install failed in $ext_dir"
    fi
    (cd "$ext_dir" && npm run package </dev/null) || die "npm run package failed in $ext_dir"
    [ -f "$vsix" ] || die "npm run package did not produce $vsix"
    echo "$want" > "$stamp"
  fi
else
  say "WARNING: $ext_dir/package.json does not exist yet: no extension to package"
fi

echo "CODE_SERVER=$code_server"
echo "NODE_MODULES=$node_dir/node_modules"
echo "VSIX=$vsix"
