// Edit prediction (issue 18) as a user meets it: ghost text while typing Python (Tab inserts it),
// next-edit suggestions after renaming a parameter (drawn at the other uses, Tab accepts the
// nearest, Alt+] goes to the next, Esc rejects), the status bar's Predict toggle (off: nothing
// reaches the model; snooze). The fake API answers from the requests themselves
// (tests/editors/vscode/test_vscode_prediction.py): what is asserted here is the editor's side.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, driver, fake, openFile, report, resetFile, screenshot, status, waitFor } = require("./support");

const GHOST = ".monaco-editor .ghost-text-decoration";

/** The ghost text shown (Monaco renders spaces as U+00A0). */
async function ghostText() {
  return (await driver({ kind: "texts", selector: GHOST })).texts.join("").replace(/\u00a0/g, " ");
}

/** Opens `rel` with the keyboard focus in its editor and the cursor at `line`:`character`. */
async function focusAt(rel, line, character, endCharacter = character) {
  const { doc, editor } = await openFile(rel);
  editor.selection = new vscode.Selection(line, character, line, endCharacter);
  // A command runs in the window after the selection above reached it (one ordered channel):
  // the keys typed next then go where the selection is.
  await vscode.commands.executeCommand("workbench.action.focusActiveEditorGroup");
  return { doc, editor };
}

/** Types `text` key by key in the browser, as a person does. */
async function type(text) {
  await driver({ kind: "keys", keys: [...text].map((c) => (c === " " ? "Space" : c)) });
}

/** Renames `factor` to `ratio` on the first line of `rel` (selected, then typed over). */
async function renameParameter(rel) {
  const { doc, editor } = await openFile(rel);
  const col = doc.lineAt(0).text.indexOf("factor");
  assert.ok(col > 0, doc.lineAt(0).text);
  await focusAt(rel, 0, col, col + "factor".length);
  await type("ratio");
  await waitFor("the first line to be renamed", () => doc.lineAt(0).text === "def scale(values, ratio):");
  return { doc, editor };
}

/** The next-edit suggestions once at least `n` are drawn in `doc`. */
async function suggestions(kimi, doc, n) {
  return waitFor(
    `${n} next-edit suggestion(s) drawn in ${doc.uri.path}`,
    () => {
      const shown = kimi.prediction.nextEdits();
      return shown && shown.uri === doc.uri.toString() && shown.edits.length >= n && shown;
    },
    60000,
  );
}

suite("prediction", () => {
  let kimi;

  suiteSetup(async () => {
    kimi = await api();
    await waitFor("the API key to be configured", async () => (await status()).apiKeyConfigured);
    assert.strictEqual(kimi.prediction.mode(), "on");
  });

  test("the status bar shows the Predict toggle, on; the prediction commands are registered", async () => {
    assert.strictEqual(kimi.prediction.statusText(), "$(sparkle) Predict");
    const bar = await driver({ kind: "texts", selector: ".statusbar-item" });
    assert.ok(bar.texts.some((t) => t.trim() === "Predict"), JSON.stringify(bar.texts));
    assert.strictEqual((await status()).prediction.enabled, true);
    const all = new Set(await vscode.commands.getCommands(true));
    const commands = [
      "kimi-lsp.suggestNextEdit", "kimi-lsp.acceptNextEdit", "kimi-lsp.jumpToNextEdit", "kimi-lsp.dismissNextEdit",
      "kimi-lsp.togglePrediction", "kimi-lsp.snoozePrediction", "kimi-lsp.predictionMenu",
    ];
    assert.deepStrictEqual(commands.filter((c) => !all.has(c)), []);
  });

  test("typing Python shows the model's continuation as ghost text; Tab inserts it", async () => {
    const line = 4; // "    " where the return statement goes
    const { doc } = await focusAt("ghost.py", line, 4);
    assert.strictEqual(doc.getText(), config.ghostInitial);
    // Asked for (Alt+\ for a person), on the empty line. This also creates the editor's
    // inline-suggestion controller, which VS Code otherwise makes when the window is first idle:
    // on a busy test machine that can be after the keys below, and typing before it asks nothing.
    await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    await driver({ kind: "wait", selector: GHOST, timeout: 60000 }, 70000);
    assert.strictEqual(await ghostText(), "return total / len(numbers)");
    await driver({ kind: "keys", keys: ["Escape"] });
    await driver({ kind: "hidden", selector: GHOST });

    // Typing asks by itself.
    const sent = kimi.prediction.ghostCounts().sent;
    await type("re");
    await waitFor("the typed text", () => doc.lineAt(line).text === "    re");
    await waitFor("typing to ask for ghost text", () => kimi.prediction.ghostCounts().sent > sent);
    await driver({ kind: "wait", selector: GHOST, timeout: 60000 }, 70000);
    assert.strictEqual(await ghostText(), "turn total / len(numbers)");
    await screenshot("ghost-text-vscode");
    await driver({ kind: "keys", keys: ["Tab"] });
    await waitFor("Tab to insert the ghost text", () => doc.getText() === config.ghostTarget);
    assert.strictEqual(doc.lineAt(line).text, "    return total / len(numbers)");
    const counts = kimi.prediction.ghostCounts();
    assert.ok(counts.sent >= 1 && counts.offered >= 1, JSON.stringify(counts));
    await doc.save();
  });

  test("ghost text accepts word by word with VS Code's Ctrl+Right, then Tab takes the rest", async () => {
    const line = 4;
    const doc = await resetFile("ghost.py", config.ghostInitial);
    await focusAt("ghost.py", line, 4);
    await type("re");
    await driver({ kind: "wait", selector: GHOST, timeout: 60000 }, 70000);
    await driver({ kind: "keys", keys: ["Control+ArrowRight"] });
    // One word of the suggestion went in; the rest is still offered.
    await waitFor("Ctrl+Right to accept the next word", () => doc.lineAt(line).text === "    return");
    await driver({ kind: "wait", selector: GHOST, timeout: 60000 }, 70000);
    await driver({ kind: "keys", keys: ["Tab"] });
    await waitFor("Tab to insert the rest", () => doc.getText() === config.ghostTarget);
    await doc.save();
  });

  test("renaming a parameter suggests the other uses; Tab accepts the nearest, Alt+] then Tab the next", async () => {
    const { doc, editor } = await renameParameter("scale.py");
    const shown = await suggestions(kimi, doc, 2);
    // Drawn at the two other uses: "factor" struck, "ratio" after it.
    const at = (lineNo) => {
      const text = doc.lineAt(lineNo).text;
      const start = text.indexOf("factor");
      return { start: { line: lineNo, character: start }, end: { line: lineNo, character: start + 6 } };
    };
    assert.deepStrictEqual(shown.edits.map((e) => [e.range, e.text]), [[at(1), "ratio"], [at(3), "ratio"]]);
    assert.deepStrictEqual(
      shown.drawn.map((d) => [d.removed, d.inserted && d.inserted.text]),
      [[at(1), "ratio"], [at(3), "ratio"]],
    );
    await screenshot("next-edit-vscode");

    // The cursor is on line 0: the nearest suggestion is line 1's.
    await driver({ kind: "keys", keys: ["Tab"] });
    await waitFor("Tab to accept the nearest suggestion", () => doc.lineAt(1).text === "    if ratio == 0:");
    assert.strictEqual(doc.lineAt(3).text, "    return [v * factor for v in values]");
    const left = kimi.prediction.nextEdits();
    assert.ok(left && left.edits.length === 1, JSON.stringify(left));
    assert.strictEqual(left.edits[0].version, doc.version);

    await driver({ kind: "keys", keys: ["Alt+BracketRight"] });
    await waitFor("Alt+] to move the cursor to the next suggestion", () => editor.selection.active.line === 3);
    assert.strictEqual(editor.selection.active.character, at(3).start.character);
    await driver({ kind: "keys", keys: ["Tab"] });
    await waitFor("Tab to accept the next suggestion", () => doc.getText() === config.renamed);
    assert.strictEqual(kimi.prediction.nextEdits(), undefined);
    assert.strictEqual(kimi.prediction.nextEditCounts().accepted, 2);
    const counted = await waitFor("the server to count two accepted", async () => {
      const p = (await status()).prediction;
      return p.accepted >= 2 && p;
    });
    assert.strictEqual(counted.accepted, 2);
    // The toggle's tooltip shows the server's counts.
    await kimi.prediction.refresh();
    assert.match(kimi.prediction.tooltip(), /2 accepted/);
    await doc.save();
  });

  test("Esc dismisses the suggestions and tells the server they were rejected", async () => {
    const before = (await status()).prediction.rejected;
    const { doc } = await renameParameter("scale_again.py");
    const shown = await suggestions(kimi, doc, 2);
    await driver({ kind: "keys", keys: ["Escape"] });
    await waitFor("Esc to clear the suggestions", () => kimi.prediction.nextEdits() === undefined);
    assert.strictEqual(doc.lineAt(1).text, "    if factor == 0:"); // nothing applied
    const rejected = await waitFor("the server to count them rejected", async () => {
      const p = (await status()).prediction;
      return p.rejected >= before + shown.edits.length && p.rejected;
    });
    assert.strictEqual(rejected, before + shown.edits.length);
    await doc.save();
  });

  test("typing elsewhere clears the suggestions and tells the server they were ignored", async () => {
    const { doc, editor } = await renameParameter("scale_more.py");
    const shown = await suggestions(kimi, doc, 2);
    // Counted from here: suggestions for the half-typed name may have come and gone before.
    const before = (await status()).prediction.ignored;
    // A keystroke at the end of line 2, away from both suggestions.
    const end = doc.lineAt(2).text.length;
    editor.selection = new vscode.Selection(2, end, 2, end);
    await vscode.commands.executeCommand("workbench.action.focusActiveEditorGroup");
    await type(" ");
    await waitFor("the typed space", () => doc.lineAt(2).text.endsWith("[] "));
    const ignored = await waitFor("the server to count them ignored", async () => {
      const p = (await status()).prediction;
      return p.ignored >= before + shown.edits.length && p.ignored;
    });
    assert.strictEqual(ignored, before + shown.edits.length);
    assert.ok(kimi.prediction.nextEditCounts().ignored >= shown.edits.length);
    assert.strictEqual(doc.lineAt(1).text, "    if factor == 0:"); // nothing applied
    await doc.save();
  });

  test("turned off from the status bar: nothing is asked of the model", async () => {
    await driver({ kind: "click", selector: ".statusbar-item", name: "Predict" });
    await driver({ kind: "type", selector: ".quick-input-widget input", text: "Turn Edit Prediction Off", press: "Enter" });
    await waitFor("the toggle to be off", () => kimi.prediction.mode() === "off");
    assert.strictEqual(kimi.prediction.statusText(), "$(circle-slash) Predict");
    assert.strictEqual(vscode.workspace.getConfiguration("kimi.prediction").get("enabled"), false);
    await waitFor("the server to be told", async () => (await status()).prediction.enabled === false);

    const requestsBefore = (await fake.requests()).length;
    const madeBefore = (await status()).prediction.made;
    const ghostBefore = kimi.prediction.ghostCounts();
    const nextBefore = kimi.prediction.nextEditCounts();
    const doc = await resetFile("ghost.py", config.ghostInitial);
    await focusAt("ghost.py", 4, 4);
    await type("re");
    await waitFor("the typed text", () => doc.lineAt(4).text === "    re");
    // VS Code still asks the provider for ghost text; the extension sends nothing.
    await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    await waitFor("VS Code to ask for ghost text", () => kimi.prediction.ghostCounts().blocked > ghostBefore.blocked);
    await vscode.commands.executeCommand("kimi-lsp.suggestNextEdit");
    assert.strictEqual(kimi.prediction.nextEditCounts().blocked, nextBefore.blocked + 1);
    assert.strictEqual(kimi.prediction.ghostCounts().sent, ghostBefore.sent);
    assert.strictEqual(kimi.prediction.nextEditCounts().sent, nextBefore.sent);
    // kimi/status answers after every message sent before it: the server made nothing either.
    assert.strictEqual((await status()).prediction.made, madeBefore);
    const requestsWhileOff = (await fake.requests()).length - requestsBefore;
    report("requestsWhileOff", requestsWhileOff);
    assert.strictEqual(requestsWhileOff, 0);
    assert.strictEqual(await driver({ kind: "visible", selector: GHOST }).then((a) => a.visible), false);
    await resetFile("ghost.py", config.ghostInitial);
  });

  test("turned on again, then snoozed for 15 minutes and resumed", async () => {
    await vscode.commands.executeCommand("kimi-lsp.togglePrediction");
    await waitFor("the toggle to be on", () => kimi.prediction.mode() === "on");
    await waitFor("the server to be told", async () => (await status()).prediction.enabled === true);

    await vscode.commands.executeCommand("kimi-lsp.snoozePrediction", 15);
    assert.strictEqual(kimi.prediction.mode(), "snoozed");
    assert.strictEqual(kimi.prediction.statusText(), "$(clock) Predict 15 min");
    assert.match(kimi.prediction.tooltip(), /snoozed for 15 min/);
    // The setting stays on; the server is told prediction is off while snoozed.
    assert.strictEqual(vscode.workspace.getConfiguration("kimi.prediction").get("enabled"), true);
    await waitFor("the server to be told it is snoozed", async () => (await status()).prediction.enabled === false);

    await driver({ kind: "click", selector: ".statusbar-item", name: "Predict" });
    await driver({ kind: "type", selector: ".quick-input-widget input", text: "Resume Edit Prediction", press: "Enter" });
    await waitFor("the snooze to end", () => kimi.prediction.mode() === "on");
    await waitFor("the server to be told it resumed", async () => (await status()).prediction.enabled === true);
  });
});
