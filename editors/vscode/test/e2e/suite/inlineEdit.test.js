// Inline edit: "edit selection" previews the model's proposal as hunks (decorations and
// CodeLenses), each accepted or rejected on its own.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, driver, editReply, fake, openFile, resetFile, screenshot, waitFor } = require("./support");

// Two separate hunks against config.source: line 2 and line 6.
const PROPOSAL = config.source.replace("return a - b", "return a + b").replace("return a * b", "return a * b * 1");
const FIRST_ONLY = config.source.replace("return a - b", "return a + b");
const SECOND_ONLY = config.source.replace("return a * b", "return a * b * 1");

/** `text` with the hunks' edits applied (LSP ranges, last first). */
function applyHunks(text, hunks) {
  const lines = text.split("\n");
  const offset = (p) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  let out = text;
  for (const h of [...hunks].sort((a, b) => offset(b.range.start) - offset(a.range.start))) {
    out = out.slice(0, offset(h.range.start)) + h.newText + out.slice(offset(h.range.end));
  }
  return out;
}

async function propose(instruction) {
  const kimi = await api();
  const { doc, editor } = await openFile("calc.py");
  editor.selection = new vscode.Selection(0, 0, doc.lineCount - 1, 0);
  await fake.enqueue([editReply(PROPOSAL)]);
  const before = (await fake.requests()).length;
  const run = vscode.commands.executeCommand("kimi-lsp.editSelection", { instruction });
  const [edit] = await waitFor("the proposal with 2 hunks", () => {
    const pending = kimi.edits.pending();
    return pending.length === 1 && pending[0].hunks.length === 2 && pending;
  }, 30000);
  await run;
  assert.strictEqual(doc.getText(), config.source, "the preview changed the document");
  const requests = await fake.requests();
  assert.strictEqual(requests.length, before + 1);
  return { kimi, doc, edit, request: requests[requests.length - 1] };
}

suite("inline edit preview", () => {
  suiteSetup(() => api());
  teardown(async () => {
    const kimi = await api();
    if (kimi.edits.pending().length) await vscode.commands.executeCommand("kimi-lsp.rejectAll");
    await resetFile("calc.py", config.source);
  });

  test("two hunks, accepted one at a time", async () => {
    const { kimi, doc, edit, request } = await propose("tweak both functions");
    assert.ok(edit.uri.endsWith("/calc.py"), edit.uri);
    assert.deepStrictEqual(edit.hunks.map((h) => h.index), [0, 1]);
    assert.deepStrictEqual(edit.hunks.map((h) => h.range.start.line), [1, 5]); // lines 2 and 6
    assert.strictEqual(applyHunks(config.source, edit.hunks), PROPOSAL); // together: the proposal
    const last = request.body.messages[request.body.messages.length - 1];
    assert.deepStrictEqual(last, { role: "assistant", content: "```python\n", partial: true });
    assert.ok(JSON.stringify(request.body.messages).includes("tweak both functions"));

    // What a person sees: the proposal drawn over the text, with Accept/Reject lenses.
    vscode.window.activeTextEditor.selection = new vscode.Selection(0, 0, 0, 0);
    await driver({ kind: "wait", selector: ".codelens-decoration a", timeout: 15000 });
    await screenshot("inline-diff-preview");

    await vscode.commands.executeCommand("kimi-lsp.acceptHunk", edit.editId, 0);
    await waitFor("only the first hunk applied", () => doc.getText() === FIRST_ONLY);
    const [rest] = await waitFor("the other hunk still pending", () => {
      const pending = kimi.edits.pending();
      return pending.length === 1 && pending[0].hunks.length === 1 && pending;
    });
    assert.strictEqual(rest.hunks[0].index, 1); // the rest keeps its index
    await vscode.commands.executeCommand("kimi-lsp.acceptHunk", edit.editId, 1);
    await waitFor("both hunks applied", () => doc.getText() === PROPOSAL);
    await waitFor("nothing pending", () => kimi.edits.pending().length === 0);
  });

  test("accept one hunk, reject the other", async () => {
    const { kimi, doc, edit } = await propose("tweak both functions again");
    await vscode.commands.executeCommand("kimi-lsp.acceptHunk", edit.editId, 1);
    await waitFor("only the second hunk applied", () => doc.getText() === SECOND_ONLY);
    await vscode.commands.executeCommand("kimi-lsp.rejectHunk", edit.editId, 0);
    await waitFor("nothing pending", () => kimi.edits.pending().length === 0);
    assert.strictEqual(doc.getText(), SECOND_ONLY);
  });

  test("reject all leaves the file as it was", async () => {
    const { kimi, doc } = await propose("tweak nothing");
    await vscode.commands.executeCommand("kimi-lsp.rejectAll");
    await waitFor("nothing pending", () => kimi.edits.pending().length === 0);
    assert.strictEqual(doc.getText(), config.source);
  });
});
