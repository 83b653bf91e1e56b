"""One real VS Code session (code-server + headless chromium) running the mocha suites.

`run_session()` installs the packaged kimi-lsp extension and the test helper extension
(editors/vscode/test/e2e) into a fresh extensions folder, starts code-server in its own process
group with isolated user data and XDG folders, opens the workspace in Debian's chromium through
`driver.js` (playwright-core) and waits, bounded, for the results file the helper writes once the
suites have run in the extension host. Every process it started, and every process they started
(extension host, language server, browser), is killed at the end and checked to be gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.editors.processes import marked, marked_env

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent
EXTENSION = REPO / "editors" / "vscode"
HELPER = EXTENSION / "test" / "e2e"
HELPER_ID = "kimi-lsp-test.kimi-lsp-e2e"
CLEARED_ENV = (
    "MOONSHOT_API_KEY", "KIMI_API_KEY", "KIMI_BASE_URL", "KIMI_MODEL", "VSCODE_IPC_HOOK_CLI",
    "VSCODE_PID", "VSCODE_CWD", "ELECTRON_RUN_AS_NODE", "NODE_OPTIONS",
)  # fmt: skip


class SessionError(AssertionError):
    """The session itself failed (not a test inside it); the message carries the logs."""


@dataclass(frozen=True)
class Tools:
    """What tests/editors/vscode/setup.sh installed."""

    code_server: Path
    node_modules: Path
    vsix: Path

    @classmethod
    def install(cls, timeout: float = 1200) -> Tools:
        """Runs setup.sh (quick when everything is cached) and reads the paths it prints."""
        try:
            proc = subprocess.run(
                ["bash", str(HERE / "setup.sh")],
                cwd=REPO, capture_output=True, text=True, timeout=timeout,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise SessionError(f"tests/editors/vscode/setup.sh took over {timeout} s") from exc
        if proc.returncode != 0:
            raise SessionError(
                f"tests/editors/vscode/setup.sh failed (exit {proc.returncode}): VS Code, chromium "
                f"or the extension could not be installed or built.\n--- stdout ---\n"
                f"{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
            )
        values = dict(
            line.split("=", 1)
            for line in proc.stdout.splitlines()
            if "=" in line and line[:1].isupper()
        )
        tools = cls(Path(values["CODE_SERVER"]), Path(values["NODE_MODULES"]), Path(values["VSIX"]))
        for path in (tools.code_server, tools.node_modules, tools.vsix):
            if not path.exists():
                raise SessionError(f"setup.sh finished but {path} does not exist:\n{proc.stdout}")
        return tools


def build_helper_vsix(target: Path) -> Path:
    """Packages editors/vscode/test/e2e as a .vsix (a zip with a manifest), without vsce."""
    manifest = json.loads((HELPER / "package.json").read_text(encoding="utf-8"))
    publisher, name, version = manifest["publisher"], manifest["name"], manifest["version"]
    vsixmanifest = f"""<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">
  <Metadata>
    <Identity Language="en-US" Id="{name}" Version="{version}" Publisher="{publisher}" />
    <DisplayName>{manifest["displayName"]}</DisplayName>
    <Description xml:space="preserve">test helper</Description>
    <Properties>
      <Property Id="Microsoft.VisualStudio.Code.Engine" Value="{manifest["engines"]["vscode"]}" />
    </Properties>
  </Metadata>
  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code" /></Installation>
  <Dependencies />
  <Assets>
    <Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json"
           Addressable="true" />
  </Assets>
</PackageManifest>
"""
    content_types = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension=".json" ContentType="application/json" />'
        '<Default Extension=".js" ContentType="application/javascript" />'
        '<Default Extension=".vsixmanifest" ContentType="text/xml" /></Types>'
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as vsix:
        vsix.writestr("extension.vsixmanifest", vsixmanifest)
        vsix.writestr("[Content_Types].xml", content_types)
        for path in sorted(HELPER.rglob("*")):
            if path.is_file():
                vsix.write(path, f"extension/{path.relative_to(HELPER).as_posix()}")
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(what: str, probe: Callable[[], Any], timeout: float, every: float = 0.1) -> Any:
    """Polls `probe` until it returns something truthy; raises SessionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SessionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# -- processes ----------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[1] not in ("Z", "X")


def descendants(roots: Iterable[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            children.setdefault(stat[0], []).append(int(entry.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def describe(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        cmd = "?"
    return f"{pid}: {cmd[:200]}"


# -- the session --------------------------------------------------------------------------


@dataclass
class Session:
    """Paths and outcomes of one run; `results` is what the helper extension wrote."""

    root: Path
    workspace: Path
    artifacts: Path
    key: str
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    results: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def user_data(self) -> Path:
        return self.root / "user-data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def driver_dir(self) -> Path:
        return self.root / "driver"

    def suite_results(self, suite: str) -> list[dict[str, Any]]:
        """The mocha tests of one suite file, as the helper extension recorded them."""
        if "crash" in self.results:
            raise SessionError(
                f"the mocha runner crashed:\n{self.results['crash']}\n{self.log_tails()}"
            )
        return [t for t in self.results["tests"] if t["file"] == suite]

    def log_tails(self, lines: int = 40) -> str:
        """The end of the logs that explain a failure: code-server, the browser driver and
        console, the extension host and the Kimi output channel (with the LSP trace)."""
        logs = self.user_data / "logs"
        files = [
            self.logs / "code-server.log",
            self.logs / "driver.log",
            *sorted(logs.rglob("remoteexthost.log")),
            *sorted(logs.rglob("Kimi.log")),
            self.driver_dir / "browser-console.log",
        ]
        out = []
        for path in files:
            try:
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            text = [line for line in text if "DEBUG" not in line and "[debug]" not in line]
            if text:
                out.append(f"--- {path.relative_to(self.root)} (last {lines} lines) ---")
                out.extend(text[-lines:])
        return "\n".join(out)


def write_settings(session: Session, settings: dict[str, Any]) -> Path:
    path = session.user_data / "User" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return path


def _environment(session: Session, extra: dict[str, str]) -> dict[str, str]:
    env = marked_env(session.root / "home", session.marker, CLEARED_ENV)
    env.update(extra)
    return env


def _code_server(tools: Tools, session: Session, *args: str) -> list[str]:
    return [
        str(tools.code_server), "--user-data-dir", str(session.user_data),
        "--extensions-dir", str(session.root / "extensions"), *args,
    ]  # fmt: skip


def install_extensions(tools: Tools, session: Session, env: dict[str, str]) -> None:
    helper = build_helper_vsix(session.root / "kimi-lsp-e2e.vsix")
    for vsix in (tools.vsix, helper):
        proc = subprocess.run(
            _code_server(tools, session, "--install-extension", str(vsix), "--force"),
            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        if proc.returncode != 0 or "successfully installed" not in proc.stdout.lower():
            raise SessionError(
                f"code-server --install-extension {vsix} failed (exit {proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )


def run_session(
    tools: Tools,
    session: Session,
    suites: list[str],
    settings: dict[str, Any],
    suite_config: dict[str, Any],
    timeout: float = 240,
    workspace_trust: bool = False,
) -> Session:
    """Runs `suites` in one code-server session; fills `session.results/facts/leftovers`.
    With `workspace_trust`, VS Code's workspace trust is on and the folder starts untrusted
    (Restricted Mode); otherwise trust is disabled (every folder trusted)."""
    started = time.monotonic()
    for folder in (session.logs, session.driver_dir, session.artifacts, session.user_data):
        folder.mkdir(parents=True, exist_ok=True)
    write_settings(session, settings)
    results_file = session.root / "results.json"
    facts_file = session.root / "facts.json"
    config_file = session.root / "e2e-config.json"
    config_file.write_text(
        json.dumps(
            {
                "suites": suites,
                "results": str(results_file),
                "facts": str(facts_file),
                "mocha": str(tools.node_modules / "mocha"),
                "workspace": str(session.workspace),
                "driverDir": str(session.driver_dir),
                **suite_config,
            }
        ),
        encoding="utf-8",
    )
    env = _environment(session, {"KIMI_E2E_CONFIG": str(config_file)})
    install_extensions(tools, session, env)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    driver_config = session.root / "driver-config.json"
    driver_config.write_text(
        json.dumps(
            {
                "url": f"{url}/?folder={session.workspace}",
                "nodeModules": str(tools.node_modules),
                "chromium": "/usr/bin/chromium",
                "driverDir": str(session.driver_dir),
                "artifacts": str(session.artifacts),
                "results": str(results_file),
            }
        ),
        encoding="utf-8",
    )
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        server_log = (session.logs / "code-server.log").open("wb")
        logs.append(server_log)
        server = subprocess.Popen(
            _code_server(
                tools, session, "--bind-addr", f"127.0.0.1:{port}", "--auth", "none",
                "--disable-telemetry", "--disable-update-check",
                *([] if workspace_trust else ["--disable-workspace-trust"]),
                "--disable-getting-started-override", str(session.workspace),
            ),
            env=env, cwd=session.workspace, stdin=subprocess.DEVNULL, stdout=server_log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        procs.append(server)

        def healthy() -> bool:
            if server.poll() is not None:
                raise SessionError(f"code-server exited ({server.returncode})")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        wait_until("code-server's /healthz", healthy, timeout=60)

        driver_log = (session.logs / "driver.log").open("wb")
        logs.append(driver_log)
        driver = subprocess.Popen(
            ["node", str(HERE / "driver.js"), str(driver_config)],
            env=env, stdin=subprocess.DEVNULL, stdout=driver_log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        procs.append(driver)

        started_file = Path(f"{results_file}.started")

        def helper_started() -> bool:
            for proc, name in ((server, "code-server"), (driver, "the browser driver")):
                if proc.poll() is not None:
                    raise SessionError(f"{name} exited ({proc.returncode}) before the suites began")
            return started_file.exists()

        # Fails early (not after the whole timeout) when the extension host never ran the helper.
        wait_until(
            f"the helper extension {HELPER_ID} to start the suites in the extension host",
            helper_started, timeout=120, every=0.2,
        )  # fmt: skip

        def finished() -> bool:
            if results_file.exists():
                return True
            for proc, name in ((server, "code-server"), (driver, "the browser driver")):
                if proc.poll() is not None:
                    raise SessionError(f"{name} exited ({proc.returncode}) before the results")
            return False

        wait_until(f"the mocha results ({results_file})", finished, timeout=timeout, every=0.2)
        session.results = json.loads(results_file.read_text(encoding="utf-8"))
        if facts_file.exists():
            session.facts = json.loads(facts_file.read_text(encoding="utf-8"))
        # The driver takes a last screenshot and closes the browser on seeing the results.
        with contextlib.suppress(subprocess.TimeoutExpired):
            driver.wait(timeout=15)
    except SessionError as exc:
        raise SessionError(f"{exc}\n{session.log_tails()}") from exc
    finally:
        session.leftovers = stop_all(procs, session.marker)
        for handle in logs:
            handle.close()
        session.seconds = time.monotonic() - started
    return session


def stop_all(procs: list[subprocess.Popen[bytes]], marker: str) -> list[str]:
    """Kills the process groups, every descendant and every marked process; returns those
    still alive afterwards (as descriptions)."""
    targets = {p.pid for p in procs} | descendants(p.pid for p in procs) | marked(marker)
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    # Kill again until nothing new appears (a dying parent may have just forked).
    for _ in range(5):
        for pid in targets:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        more = marked(marker) - targets
        if not more:
            break
        targets |= more
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in targets | marked(marker)):
        time.sleep(0.05)
    return [describe(pid) for pid in sorted(targets | marked(marker)) if _alive(pid)]
