// Definitions from VS Code's own language features: with the built-in TypeScript support (offline in
// code-server), chat, the context panel and an inline edit about ts/main.ts carry `definitions`
// pointing at ts/util.ts, where what the cursor uses is defined; turned off, they carry none.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, editReply, fake, openFile, report, waitFor, workspaceUri } = require("./support");

const MAIN = "ts/main.ts";
const CURSOR = new vscode.Position(3, 20); // inside computeTotal(basket.items) in checkout()
const UTIL_TEXT = () => config.tsFiles["ts/util.ts"];

/** The `definitions` the last request of `method` carried (from the extension's test API). */
async function lastSent(method) {
  const kimi = await api();
  const sent = kimi.definitionsSent().filter((s) => s.method === method);
  assert.ok(sent.length > 0, `no ${method} request was recorded`);
  return sent[sent.length - 1];
}

/** Asserts the two definitions in ts/util.ts: computeTotal (lines 1-3) and Basket (lines 5-7), whole. */
function assertPointsAtUtil(entry) {
  assert.ok(entry.uri && entry.uri.endsWith("/ts/main.ts"), JSON.stringify(entry));
  const inUtil = entry.definitions.filter((d) => d.uri.endsWith("/ts/util.ts"));
  const lines = inUtil.map((d) => [d.range.start.line, d.range.end.line]);
  assert.deepStrictEqual(lines, [[0, 2], [4, 6]], JSON.stringify(entry.definitions));
  const util = UTIL_TEXT().split("\n");
  assert.ok(util[inUtil[0].range.start.line].includes("function computeTotal"));
  assert.ok(util[inUtil[1].range.start.line].includes("interface Basket"));
  // Nothing in the request's own file near the cursor (it is sent anyway).
  const own = entry.definitions.filter((d) => d.uri.endsWith("/ts/main.ts"));
  assert.deepStrictEqual(own, []);
}

async function atCursor() {
  const { doc, editor } = await openFile(MAIN);
  editor.selection = new vscode.Selection(CURSOR, CURSOR);
  return { doc, editor };
}

suite("definitions from VS Code's language features", () => {
  suiteSetup(async () => {
    await api();
    await atCursor();
  });

  test("the built-in TypeScript support resolves the import (it has loaded the project)", async () => {
    const found = await waitFor("TypeScript's definition of computeTotal", async () => {
      const answer = await vscode.commands.executeCommand("vscode.executeDefinitionProvider", workspaceUri(MAIN), CURSOR);
      return (answer || []).find((l) => String(l.targetUri || l.uri).endsWith("/ts/util.ts"));
    }, 90000, 250);
    assert.strictEqual((found.targetRange || found.range).start.line, 0);
  });

  test("a chat question carries the definitions of what the cursor uses, over the wire", async () => {
    const kimi = await api();
    await atCursor();
    await fake.enqueue([{ content: "It returns the total as text." }]);
    await kimi.chat.send("What does checkout return?");
    assertPointsAtUtil(await lastSent("kimi/chat"));
    // What went to the server (the LSP trace of vscode-languageclient, kimi.trace.server is on).
    const log = kimi.logText();
    const sentChat = log.lastIndexOf("Sending request 'kimi/chat");
    assert.ok(sentChat >= 0, "no kimi/chat in the LSP trace");
    const params = log.slice(sentChat, log.indexOf("\n[", sentChat + 1) > 0 ? log.indexOf("\n[", sentChat + 1) : undefined);
    assert.ok(params.includes('"definitions"') && params.includes("ts/util.ts"), params.slice(0, 2000));
    report("editorDefinitionsTrace", log.split("\n").filter((l) => l.includes("editor definitions for")));
  });

  test("the context panel's request carries them, and the manifest lists what the server did with them", async () => {
    await atCursor();
    const manifest = await vscode.commands.executeCommand("kimi-lsp.showContext");
    assertPointsAtUtil(await lastSent("kimi/context"));
    assert.ok(manifest && Array.isArray(manifest.sections), JSON.stringify(manifest));
    const definitions = manifest.sections.filter((s) => s.kind === "definition");
    report("contextManifestDefinitions", definitions.map((s) => ({ uri: s.uri, range: s.range, reason: s.reason })));
    report("contextManifestExcluded", manifest.excluded);
  });

  test("an inline edit carries them", async () => {
    const kimi = await api();
    const { doc } = await atCursor();
    const text = doc.getText();
    await fake.enqueue([editReply("  const total = computeTotal(basket.items) + 0;\n")]);
    await vscode.commands.executeCommand("kimi-lsp.editSelection", { instruction: "add zero" });
    assertPointsAtUtil(await lastSent("kimi/inlineEdit"));
    assert.strictEqual(kimi.edits.pending().length, 1, "the edit request did not come back with a proposal");
    await vscode.commands.executeCommand("kimi-lsp.rejectAll");
    assert.strictEqual(doc.getText(), text);
  });

  test("turned off (kimi.editorDefinitions.enabled), a request carries none", async () => {
    const kimi = await api();
    const settings = vscode.workspace.getConfiguration("kimi.editorDefinitions");
    await settings.update("enabled", false, vscode.ConfigurationTarget.Global);
    try {
      await atCursor();
      await fake.enqueue([{ content: "Still here." }]);
      await kimi.chat.send("And now?");
      const entry = await lastSent("kimi/chat");
      assert.deepStrictEqual(entry.definitions, []);
      assert.match(entry.skipped || "", /turned off/);
    } finally {
      await settings.update("enabled", undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
