// Unit tests of what reaches the server as settings (never the API key) and how it is started.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { findExecutable, launchCommand, launchFingerprint, notFoundReason } from "../../src/pure/launch";
import { stderrLevel } from "../../src/pure/serverLog";
import { SERVER_SETTING_KEYS, MACHINE_SETTING_KEYS, layersFor, machineValue, serverSettings, userValue, withoutSecrets, type Inspected } from "../../src/pure/settings";

function inspector(values: Record<string, Inspected>) {
  return (key: string) => values[key];
}

test("only user-set values are sent, the most specific scope winning", () => {
  const out = serverSettings(
    inspector({
      model: { defaultValue: "kimi-k2.6", globalValue: "kimi-k2.5" },
      baseUrl: { defaultValue: "https://api.moonshot.ai/v1" },
      thinking: { defaultValue: "auto", globalValue: "enabled", workspaceValue: "disabled" },
      pricing: { defaultValue: { inputPerMillion: 0.95 }, globalValue: { currency: "CNY" } },
      exclude: { defaultValue: [], workspaceFolderValue: ["dist/"] },
    }),
  );
  assert.deepEqual(out, { model: "kimi-k2.5", thinking: "disabled", pricing: { currency: "CNY" }, exclude: ["dist/"] });
});

test("the API key never appears, whatever the user put in settings.json", () => {
  const all: Record<string, Inspected> = {
    apiKey: { globalValue: "sk-secret-1" },
    model: { globalValue: "kimi-k2.6" },
    pricing: { globalValue: { apiKey: "sk-secret-2", currency: "USD" } },
  };
  const out = serverSettings(inspector(all));
  const text = JSON.stringify(out);
  assert.ok(!text.includes("sk-secret"), text);
  assert.ok(!text.includes("apiKey"), text);
  assert.ok(!(SERVER_SETTING_KEYS as readonly string[]).includes("apiKey"));
  const section = { apiKey: "sk-secret-3", model: "m", server: { command: "x" }, nested: [{ apiKey: "sk-secret-4" }] };
  assert.ok(!JSON.stringify(withoutSecrets(section)).includes("sk-secret"));
});

test("client-only settings (server.*, trace.*) are not sent", () => {
  const out = serverSettings((key) => ({ globalValue: `v-${key}` }));
  assert.deepEqual(Object.keys(out).sort(), [...SERVER_SETTING_KEYS].sort());
  assert.ok(!("server" in out) && !("trace" in out));
});

test("every server setting is contributed as kimi.<key>, contextBudget with the server's defaults", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8"));
  const properties = manifest.contributes.configuration.properties;
  for (const key of SERVER_SETTING_KEYS) {
    assert.ok(`kimi.${key}` in properties, key);
  }
  const budget = properties["kimi.contextBudget"];
  assert.deepEqual(budget.default, { edit: 16000, chat: 48000, refactor: 64000, prediction: 4000 });
  assert.deepEqual(Object.keys(budget.properties), ["edit", "chat", "refactor", "prediction"]);
  // What a user sets is sent as set: the server merges it key by key with its defaults.
  const out = serverSettings(inspector({ contextBudget: { defaultValue: budget.default, globalValue: { edit: 8000 } } }));
  assert.deepEqual(out, { contextBudget: { edit: 8000 } });
});

test("userValue ignores defaults and nulls", () => {
  assert.equal(userValue({ defaultValue: 1 }), undefined);
  assert.equal(userValue({ defaultValue: 1, globalValue: null }), undefined);
  assert.equal(userValue({ globalValue: 0 }), 0);
  assert.equal(userValue(undefined), undefined);
});

test("the launch command: the command, or <python> -m kimi_lsp", () => {
  assert.deepEqual(launchCommand({ command: "kimi-lsp", args: ["--log-level", "DEBUG"], pythonPath: "" }), {
    command: "kimi-lsp",
    args: ["--log-level", "DEBUG"],
  });
  assert.deepEqual(launchCommand({ command: "ignored", args: [], pythonPath: "/venv/bin/python" }), {
    command: "/venv/bin/python",
    args: ["-m", "kimi_lsp"],
  });
  assert.deepEqual(launchCommand({ command: "  ", args: [], pythonPath: " " }), { command: "kimi-lsp", args: [] });
});

test("the fingerprint changes with the key but does not contain it", () => {
  const s = { command: "kimi-lsp", args: [], pythonPath: "" };
  const a = launchFingerprint(s, "sk-aaaaaaaa");
  assert.notEqual(a, launchFingerprint(s, "sk-bbbbbbbb"));
  assert.equal(a, launchFingerprint(s, "sk-aaaaaaaa"));
  assert.ok(!a.includes("sk-"));
});

test("findExecutable looks on PATH, or takes a path as is", () => {
  const exists = new Set(["/usr/bin/kimi-lsp", "/opt/py/bin/python", "/work/tools/run"]);
  const isExe = (f: string) => exists.has(f);
  assert.equal(findExecutable("kimi-lsp", { PATH: "/bin:/usr/bin" }, isExe, "linux"), "/usr/bin/kimi-lsp");
  assert.equal(findExecutable("kimi-lsp", { PATH: "/bin" }, isExe, "linux"), undefined);
  assert.equal(findExecutable("/opt/py/bin/python", {}, isExe, "linux"), "/opt/py/bin/python");
});

test("findExecutable never resolves a relative path (a workspace cannot name its own program)", () => {
  // Before issue 16, "tools/run" resolved against the workspace folder: a cloned repository's
  // settings could start ./tools/run. Now a relative path is refused, and so is a relative PATH entry.
  const exists = new Set(["/work/tools/run", "tools/run", "./kimi-lsp", "kimi-lsp"]);
  const isExe = (f: string) => exists.has(f);
  assert.equal(findExecutable("tools/run", {}, isExe, "linux"), undefined);
  assert.equal(findExecutable("./kimi-lsp", {}, isExe, "linux"), undefined);
  assert.equal(findExecutable("kimi-lsp", { PATH: ".:tools" }, isExe, "linux"), undefined);
  assert.equal(findExecutable("/work/tools/run", {}, isExe, "linux"), "/work/tools/run");
  assert.match(notFoundReason("tools/run", "linux"), /relative path/);
  assert.match(notFoundReason("kimi-lsp", "linux"), /on PATH/);
});

test("server stderr: its log records are not repeated, anything else is an error", () => {
  assert.equal(stderrLevel("2026-11-29 09:46:34,860 INFO kimi_lsp.lsp.features.lifecycle: Initialized"), "trace");
  assert.equal(stderrLevel("2026-11-29 09:46:34,860 WARNING kimi_lsp.tokens.counter: x"), "trace");
  assert.equal(stderrLevel("2026-11-29 09:46:34,860 DEBUG kimi_lsp.lsp.dispatch: y"), "debug");
  assert.equal(stderrLevel("Traceback (most recent call last):"), "error");
  assert.equal(stderrLevel("usage: kimi-lsp [-h]"), "error");
});

test("a workspace's value of a machine setting is never sent (baseUrl, tokenizerPath, redactSecrets)", () => {
  const attack = inspector({
    baseUrl: { defaultValue: "https://api.moonshot.ai/v1", workspaceValue: "http://evil.example/v1" },
    tokenizerPath: { defaultValue: "", workspaceFolderValue: "/dev/zero" },
    redactSecrets: { defaultValue: true, workspaceValue: false },
    model: { defaultValue: "kimi-k2.6", workspaceValue: "kimi-k2.5" },
  });
  assert.deepEqual(serverSettings(attack), { model: "kimi-k2.5" });
  const user = inspector({ baseUrl: { globalValue: "http://127.0.0.1:9/v1", workspaceValue: "http://evil.example/v1" } });
  assert.deepEqual(serverSettings(user), { baseUrl: "http://127.0.0.1:9/v1" });
});

test("in an untrusted workspace only the user's own values are sent", () => {
  const values = inspector({
    model: { globalValue: "kimi-k2.6", workspaceValue: "kimi-k2.5" },
    exclude: { workspaceFolderValue: ["dist/"] },
    thinking: { globalValue: "enabled" },
  });
  assert.deepEqual(serverSettings(values, false), { model: "kimi-k2.6", thinking: "enabled" });
  assert.equal(layersFor("model", true), "all");
  assert.equal(layersFor("model", false), "user");
  assert.equal(layersFor("baseUrl", true), "user");
  assert.equal(layersFor("server.command", true), "user");
});

test("launch settings: the user's value or the default, never the workspace's", () => {
  assert.equal(machineValue({ defaultValue: "kimi-lsp", workspaceValue: "./evil.sh" }, "x"), "kimi-lsp");
  assert.equal(machineValue({ defaultValue: "kimi-lsp", workspaceFolderValue: "/tmp/evil" }, "x"), "kimi-lsp");
  assert.equal(machineValue({ defaultValue: "kimi-lsp", globalValue: "/usr/bin/k" }, "x"), "/usr/bin/k");
  assert.deepEqual(machineValue(undefined, []), []);
});

test("package.json: every setting naming a program, a path or an endpoint is machine-scoped", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8"));
  const props = manifest.contributes.configuration.properties as Record<string, { scope?: string }>;
  for (const key of MACHINE_SETTING_KEYS) {
    assert.equal(props[`kimi.${key}`]?.scope, "machine", `kimi.${key}`);
  }
  const trust = manifest.capabilities.untrustedWorkspaces;
  assert.equal(trust.supported, "limited");
  assert.ok(trust.description.length > 40);
  for (const key of MACHINE_SETTING_KEYS) {
    assert.ok(trust.restrictedConfigurations.includes(`kimi.${key}`), `kimi.${key} not restricted`);
  }
});

test("kimi.models and kimi.fallback: machine-scoped, sent as set, keys never", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8"));
  const props = manifest.contributes.configuration.properties;
  assert.equal(props["kimi.models"].scope, "machine");
  assert.equal(props["kimi.fallback"].scope, "machine");
  assert.deepEqual(Object.keys(props["kimi.models"].properties), ["chat", "edit", "refactor", "prediction"]);
  assert.equal(props["kimi.fallback"].items.properties.apiKeyEnv.type, "string");
  assert.ok(!("apiKey" in props["kimi.fallback"].items.properties));
  const fallback = [{ model: "fast", baseUrl: "https://relay.example/v1", apiKeyEnv: "RELAY_KEY", apiKey: "sk-secret-9" }];
  const out = serverSettings(inspector({ fallback: { globalValue: fallback }, models: { workspaceValue: { chat: { model: "evil" } } } }));
  // The workspace's models are ignored (machine key); the user's fallback goes without its stray key.
  assert.deepEqual(out, { fallback: [{ model: "fast", baseUrl: "https://relay.example/v1", apiKeyEnv: "RELAY_KEY" }] });
  const commands = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.ok(commands.includes("kimi-lsp.setEndpointApiKey") && commands.includes("kimi-lsp.clearEndpointApiKey"));
});
