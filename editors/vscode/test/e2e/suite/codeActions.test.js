// Code actions: the lightbulb on a diagnostic and on a selection lists the Kimi actions (from
// the server, without calling the model), and choosing "Kimi: fix …" edits the file.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, driver, editReply, fake, openFile, resetFile, waitFor } = require("./support");

const FIXED = config.source.replace("return a - b", "return a + b");

suite("code actions", () => {
  let diagnostics;
  suiteSetup(async () => {
    await api();
    diagnostics = vscode.languages.createDiagnosticCollection("kimi-e2e-lint");
  });
  suiteTeardown(async () => {
    diagnostics.dispose();
    await resetFile("calc.py", config.source);
  });

  async function kimiActions(uri, range) {
    const actions = await vscode.commands.executeCommand("vscode.executeCodeActionProvider", uri, range);
    return (actions || []).filter((a) => a.title.startsWith("Kimi"));
  }

  test("a diagnostic and a selection get the Kimi actions, without a model call", async () => {
    const { doc } = await openFile("calc.py");
    const line = new vscode.Range(1, 4, 1, 16);
    const diagnostic = new vscode.Diagnostic(line, "suspicious subtraction", vscode.DiagnosticSeverity.Warning);
    diagnostic.source = "e2e-lint";
    diagnostics.set(doc.uri, [diagnostic]);
    const before = (await fake.requests()).length;
    const actions = await waitFor("the Kimi code actions", async () => {
      const found = await kimiActions(doc.uri, new vscode.Range(0, 0, 2, 0));
      return found.length >= 5 && found;
    });
    const titles = actions.map((a) => a.title);
    for (const wanted of ["Kimi: fix 'suspicious subtraction'", "Kimi: edit selection…",
      "Kimi: add docstrings", "Kimi: explain", "Kimi: write tests for this file"]) {
      assert.ok(titles.includes(wanted), `${wanted} missing from ${JSON.stringify(titles)}`);
    }
    const fix = actions.find((a) => a.title.startsWith("Kimi: fix"));
    assert.ok(fix.kind && fix.kind.value.startsWith("quickfix"), `fix kind: ${fix.kind && fix.kind.value}`);
    assert.strictEqual((await fake.requests()).length, before, "listing the actions called the model");

    // What the user gets on Ctrl+. at the diagnostic: the same actions in VS Code's menu.
    const { editor } = await openFile("calc.py");
    editor.selection = new vscode.Selection(1, 4, 1, 4);
    await vscode.commands.executeCommand("workbench.action.focusActiveEditorGroup");
    await driver({ kind: "keys", keys: ["Control+."] });
    let shown = [];
    const menu = await waitFor("the code action menu with the Kimi fix", async () => {
      shown = (await driver({ kind: "texts", selector: ".action-widget" })).texts;
      return shown.some((t) => t.includes("Kimi: fix 'suspicious subtraction'")) && shown.join("\n");
    }).catch((err) => { throw new Error(`${err.message}; the menu showed ${JSON.stringify(shown)}`); });
    await driver({ kind: "keys", keys: ["Escape"] });
    await driver({ kind: "hidden", selector: ".action-widget" });
    const rows = menu.split("\n").map((t) => t.trim());
    assert.ok(rows.includes("Kimi: fix 'suspicious subtraction'"), JSON.stringify(rows));
    assert.strictEqual((await fake.requests()).length, before, "showing the menu called the model");
  });

  test("choosing 'Kimi: fix …' rewrites the line", async () => {
    const { doc } = await openFile("calc.py");
    const [fix] = (await kimiActions(doc.uri, new vscode.Range(1, 4, 1, 16))).filter((a) =>
      a.title.startsWith("Kimi: fix"));
    assert.ok(fix && fix.command, "no fix action with a command");
    const before = (await fake.requests()).length;
    await fake.enqueue([editReply("    return a + b")]);
    await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments || []));
    // Applied directly by the server (apply mode), or shown as a preview by the extension.
    await waitFor("the fix to be applied or proposed", () =>
      doc.getText() === FIXED || api().then((k) => k.edits.pending().length > 0), 30000);
    const kimi = await api();
    if (kimi.edits.pending().length > 0) {
      await vscode.commands.executeCommand("kimi-lsp.acceptAll");
    }
    await waitFor("the fixed text", () => doc.getText() === FIXED);
    const requests = await fake.requests();
    assert.strictEqual(requests.length, before + 1);
    assert.ok(JSON.stringify(requests[requests.length - 1].body.messages).includes("suspicious subtraction"));
  });
});
