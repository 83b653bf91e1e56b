// Secrets: the API key lives in SecretStorage only (it survives a restart of the server and
// never shows in the output channel or the LSP trace); secret files stay out of the context.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, driver, fake, openFile, report, status, waitFor, workspaceUri } = require("./support");

suite("secrets", () => {
  suiteSetup(() => api());

  test("after kimi-lsp.restart the server still has the key from SecretStorage", async () => {
    const kimi = await api();
    const old = kimi.client();
    await vscode.commands.executeCommand("kimi-lsp.restart");
    await waitFor("a restarted, running client", async () => {
      await kimi.ready();
      const client = kimi.client();
      return client && client.isRunning() && (client !== old || client.initializeResult) && client;
    });
    const info = await waitFor("the key configured after the restart", async () => {
      const s = await status();
      return s.apiKeyConfigured && s;
    });
    assert.strictEqual(info.apiKeyConfigured, true);
    // The host was allowed once (activation): the restart does not ask again.
    assert.strictEqual((await driver({ kind: "visible", selector: ".monaco-dialog-box" })).visible, false);
    assert.strictEqual(kimi.keyWithheldFrom(), undefined);
    await fake.enqueue([{ content: "Still here." }]);
    await kimi.chat.send("Still there?");
    const last = kimi.chat.transcript().filter((t) => t.role === "assistant").pop();
    assert.strictEqual(last.content, "Still here.");
    const requests = await fake.requests();
    assert.strictEqual(requests[requests.length - 1].headers.authorization, `Bearer ${config.key}`);
  });

  test("the context manifest keeps .env out", async () => {
    const kimi = await api();
    const { doc } = await openFile("calc.py");
    const manifest = await kimi.client().sendRequest("kimi/context", {
      textDocument: { uri: doc.uri.toString() }, position: { line: 1, character: 4 }, purpose: "chat",
    });
    const text = JSON.stringify(manifest);
    assert.ok(!text.includes("OPENAI_API_KEY="), "the .env file's text is in the context");
    assert.ok(manifest.sections.some((s) => (s.uri || "").endsWith("/calc.py")), text.slice(0, 2000));
    const envUri = workspaceUri(".env").toString();
    assert.ok(!manifest.sections.some((s) => s.uri === envUri), ".env is a context section");
  });

  test("the key is in no log the extension keeps", async () => {
    const kimi = await api();
    const log = kimi.logText();
    report("logText", log);
    assert.ok(log.length > 0, "the output channel is empty");
    assert.ok(!log.includes(config.key), "the API key is in the output channel");
    assert.ok(!JSON.stringify(vscode.workspace.getConfiguration("kimi")).includes(config.key));
  });
});
