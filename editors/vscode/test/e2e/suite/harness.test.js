// The harness itself: the workspace is open, the browser driver answers, the fake API is up.
"use strict";

const assert = require("assert");
const fs = require("fs");
const vscode = require("vscode");
const { config, driver, fake, screenshot, waitFor } = require("./support");

suite("harness", () => {
  test("the workspace folder is open in a real VS Code 1.100", () => {
    assert.ok(vscode.version.startsWith("1.100."), vscode.version);
    const folders = (vscode.workspace.workspaceFolders || []).map((f) => f.uri.fsPath);
    assert.deepStrictEqual(folders, [config.workspace]);
  });

  test("the browser driver answers and takes screenshots", async () => {
    const shot = await screenshot("workbench");
    assert.ok(fs.statSync(shot.path).size > 10000, shot.path);
    const visible = await driver({ kind: "visible", selector: ".monaco-workbench" });
    assert.strictEqual(visible.visible, true);
  });

  test("the fake API's control endpoint answers", async () => {
    const stats = await waitFor("the fake's stats", () => fake.stats());
    assert.strictEqual(typeof stats.streams_opened, "number");
  });
});
