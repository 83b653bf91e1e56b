// Trust boundaries (issue 16): the workspace is not trusted (Restricted Mode) and its
// .vscode/settings.json names its own endpoint and server program. The extension chats without
// workspace context, refuses what reads or writes the workspace, never uses the workspace's
// kimi.baseUrl / kimi.server.command, asks before the stored key goes to a non-Moonshot host,
// and works fully once the person trusts the folder.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, driver, editReply, fake, openFile, report, status, waitFor } = require("./support");

const DIALOG = ".monaco-dialog-box";
const host = () => new URL(config.fakeRoot).host;

/** Runs kimi-lsp.setApiKey as a person does, then answers the "Send your key to …?" modal. */
async function setKeyAnswering(answer) {
  const asked = vscode.commands.executeCommand("kimi-lsp.setApiKey");
  await driver({ kind: "type", selector: ".quick-input-widget input", text: config.key, press: "Enter" });
  await asked;
  await driver({ kind: "wait", selector: DIALOG, timeout: 20000 });
  const dialog = await driver({ kind: "texts", selector: DIALOG });
  assert.ok(dialog.texts.some((t) => t.includes(`Send your Kimi API key to ${host()}?`)), JSON.stringify(dialog.texts));
  await driver({ kind: "click", selector: `${DIALOG} .monaco-button`, name: answer });
  await driver({ kind: "hidden", selector: DIALOG, timeout: 10000 });
}

/** The chat requests the fake received after `before` of them. */
async function chatRequestsAfter(before) {
  return (await fake.requests()).slice(before);
}

suite("trust", () => {
  test("the folder opens untrusted and the server starts in Restricted Mode", async () => {
    assert.strictEqual(vscode.workspace.isTrusted, false, "the test folder should start untrusted");
    const kimi = await api();
    assert.strictEqual(kimi.trust.restrictedMode(), true);
    assert.strictEqual(kimi.client().isRunning(), true);
    const info = await status();
    assert.strictEqual(info.baseUrl, `${config.fakeRoot}/v1`, "the user's kimi.baseUrl, not the workspace's");
    report("restrictedStartLog", kimi.logText().split("\n").filter((l) => l.includes("Starting the Kimi server")));
  });

  test("the key to a foreign host: Cancel starts the server without it and the status says why", async () => {
    const kimi = await api();
    await setKeyAnswering("Cancel");
    await waitFor("the key withheld", () => kimi.keyWithheldFrom() === host());
    const info = await waitFor("a server without the key", async () => {
      const s = await status();
      return s.apiKeyConfigured === false && s;
    });
    assert.strictEqual(info.apiKeyConfigured, false);
    await waitFor("the status bar to say there is no key", () => kimi.statusText().includes("(no key)"));
  });

  test("Set API Key asks again; Allow sends it", async () => {
    const kimi = await api();
    await setKeyAnswering("Allow");
    await waitFor("the key configured", async () => (await status()).apiKeyConfigured === true);
    assert.strictEqual(kimi.keyWithheldFrom(), undefined);
    assert.ok(!kimi.statusText().includes("(no key)"), kimi.statusText());
  });

  test("chat answers without workspace context", async () => {
    const kimi = await api();
    const { doc, editor } = await openFile("calc.py");
    editor.selection = new vscode.Selection(0, 0, doc.lineCount - 1, 0);
    const before = (await fake.requests()).length;
    await fake.enqueue([{ content: "Restricted answer." }]);
    const result = await kimi.chat.send("What is a closure?");
    assert.strictEqual(result.content, "Restricted answer.");
    const [request] = await chatRequestsAfter(before);
    const body = JSON.stringify(request.body.messages);
    assert.ok(!body.includes(config.canary), "workspace text reached the API in Restricted Mode");
    assert.ok(!body.includes("calc.py"), "the open file is named in the prompt");
    assert.strictEqual(request.headers.authorization, `Bearer ${config.key}`);
    // The server holds nothing of the workspace: no document synchronised, no file indexed.
    const info = await status();
    assert.strictEqual(info.openDocuments, 0, JSON.stringify(info));
    assert.strictEqual(info.index && info.index.files, 0, JSON.stringify(info.index));
  });

  test("edit, refactor, context and explain refuse with a sentence", async () => {
    const kimi = await api();
    const before = (await fake.requests()).length;
    const { doc, editor } = await openFile("calc.py");
    editor.selection = new vscode.Selection(0, 0, doc.lineCount - 1, 0);
    await vscode.commands.executeCommand("kimi-lsp.editSelection", { instruction: "rename add" });
    await vscode.commands.executeCommand("kimi-lsp.refactor", { instruction: "rename Config" });
    await vscode.commands.executeCommand("kimi-lsp.showContext");
    await vscode.commands.executeCommand("kimi-lsp.explainSelection");
    const refusals = kimi.trust.refusals();
    report("restrictedRefusals", refusals);
    assert.strictEqual(refusals.length, 4, JSON.stringify(refusals));
    for (const [i, what] of ["Inline edit", "Refactor", "Show Context", "Explain Selection"].entries()) {
      assert.ok(refusals[i].startsWith(`Kimi: ${what} is off in Restricted Mode`), refusals[i]);
      assert.ok(refusals[i].includes("Trust the workspace"), refusals[i]);
    }
    assert.deepStrictEqual(kimi.edits.pending(), []);
    assert.strictEqual((await fake.requests()).length, before, "a refused feature called the model");
    assert.strictEqual(doc.getText(), config.source);
  });

  test("after the folder is trusted the server restarts with the workspace and edits work", async () => {
    const trusted = new Promise((resolve) => vscode.workspace.onDidGrantWorkspaceTrust(resolve));
    await vscode.commands.executeCommand("workbench.trust.manage");
    await driver({ kind: "click", role: "button", name: "Trust", exact: true });
    await trusted;
    assert.strictEqual(vscode.workspace.isTrusted, true);
    const kimi = await api();
    await waitFor("the server restarted for the trusted workspace", async () => {
      const client = kimi.client();
      return !kimi.trust.restrictedMode() && client && client.isRunning();
    }, 30000);
    await kimi.ready();
    const { doc, editor } = await openFile("calc.py");
    editor.selection = new vscode.Selection(0, 0, doc.lineCount - 1, 0);
    const proposal = config.source.replace("return a - b", "return a + b");
    await fake.enqueue([editReply(proposal)]);
    const run = vscode.commands.executeCommand("kimi-lsp.editSelection", { instruction: "fix add" });
    await waitFor("a proposal for calc.py", () => kimi.edits.pending().length === 1, 30000);
    await run;
    await vscode.commands.executeCommand("kimi-lsp.rejectAll");
    assert.strictEqual(kimi.trust.refusals().length, 4, "refused after trust was granted");
  });

  test("trusted, the workspace's kimi.baseUrl, kimi.server.* and kimi.redactSecrets are still not used", async () => {
    const kimi = await api();
    const kimiConfig = vscode.workspace.getConfiguration("kimi");
    report("workspaceBaseUrlInspect", kimiConfig.inspect("baseUrl"));
    report("workspaceCommandInspect", kimiConfig.inspect("server.command"));
    // The key is (re)typed here so that a plugin obeying the workspace's endpoint has a key to
    // leak: the host of the user's own endpoint was allowed above, so nothing is asked now.
    const asked = vscode.commands.executeCommand("kimi-lsp.setApiKey");
    await driver({ kind: "type", selector: ".quick-input-widget input", text: config.key, press: "Enter" });
    await asked;
    await waitFor("the key configured", async () => (await status()).apiKeyConfigured === true, 30000);
    const before = (await fake.requests()).length;
    await fake.enqueue([{ content: "Trusted answer." }]);
    // Asked before any assertion: wherever this goes is what pytest checks (the hostile endpoint
    // must receive nothing).
    const result = await kimi.chat.send(`Is this token safe to share: ${config.fakeSecret}?`).catch((e) => e);
    const info = await status();
    assert.strictEqual(info.baseUrl, `${config.fakeRoot}/v1`);
    assert.strictEqual(result.content, "Trusted answer.", String(result));
    const [request] = await chatRequestsAfter(before);
    assert.strictEqual(request.headers.authorization, `Bearer ${config.key}`);
    assert.ok(!JSON.stringify(request.body).includes(config.fakeSecret), "kimi.redactSecrets: false from the workspace applied");
    report("trustedStartLog", kimi.logText().split("\n").filter((l) => l.includes("Starting the Kimi server")));
  });
});
