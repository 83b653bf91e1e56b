// Inline edit: "edit selection" previews the model's proposal as hunks (decorations and
// CodeLenses), each accepted or rejected on its own. What is drawn is checked twice: through the
// extension (its decorations, the CodeLens provider) and in the browser (the rendered lines, their
// backgrounds and injected text, the lens links). Typing inside a partially accepted preview, or
// just after it, drops the preview or keeps it, as docs/protocol.md says.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, driver, editReply, fake, openFile, report, resetFile, screenshot, status, waitFor } = require("./support");
const { editorView, rgba } = require("./view");

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

async function propose(instruction, { file = "calc.py", source = config.source, proposal = PROPOSAL } = {}) {
  const kimi = await api();
  const { doc, editor } = await openFile(file);
  assert.strictEqual(doc.getText(), source);
  editor.selection = new vscode.Selection(0, 0, file === "calc.py" ? doc.lineCount - 1 : 6, 0);
  await fake.enqueue([editReply(proposal)]);
  const before = (await fake.requests()).length;
  const run = vscode.commands.executeCommand("kimi-lsp.editSelection", { instruction });
  const [edit] = await waitFor("the proposal with 2 hunks", () => {
    const pending = kimi.edits.pending();
    return pending.length === 1 && pending[0].hunks.length === 2 && pending;
  }, 30000);
  await run;
  assert.strictEqual(doc.getText(), source, "the preview changed the document");
  const requests = await fake.requests();
  assert.strictEqual(requests.length, before + 1);
  return { kimi, doc, edit, request: requests[requests.length - 1] };
}

/** The Kimi CodeLenses of `doc` from VS Code's own lens query: [line, title, hunk index]. */
async function lenses(doc) {
  const all = await vscode.commands.executeCommand("vscode.executeCodeLensProvider", doc.uri, 100);
  return all
    .filter((l) => l.command && l.command.command.startsWith("kimi-lsp."))
    .map((l) => [l.range.start.line, l.command.title, typeof l.command.arguments[1] === "number" ? l.command.arguments[1] : null]);
}

/** What the extension draws for a preview whose hunks replace line L by `text` ({L: text}). */
function drawnFor(replaced) {
  const lines = Object.keys(replaced).map(Number);
  return { removed: lines, pending: [], ghost: lines.map((line) => ({ line, text: `→ ${replaced[line]}` })), labels: [] };
}

const reddish = (css) => {
  const c = rgba(css);
  return !!c && c[3] > 0 && c[0] > c[1] + 40 && c[0] > c[2] + 40;
};
const greenish = (css) => {
  const c = rgba(css);
  return !!c && c[3] > 0 && c[1] > c[0] && c[1] > c[2];
};

/**
 * Checks the editor as rendered in the browser against the document and the expected preview:
 * every row shows its line followed by the ghost text of a replaced line (italic, on a green
 * background), replaced lines (only they) have a red background, and the CodeLens rows sit above
 * the hunks' lines with these link texts. Returns the view (with pixel boxes) once it matches.
 */
async function assertRendered(doc, replaced, lensRows) {
  const lines = doc.getText().split("\n");
  const marker = lines[0];
  return waitFor("the editor in the browser to show the preview", async () => {
    const view = await editorView(marker);
    assert.ok(view, `no visible editor shows ${JSON.stringify(marker)}`);
    assert.ok(view.rows.length >= lines.length - 1, JSON.stringify(view.rows.map((r) => r.text)));
    lines.slice(0, -1).forEach((line, k) => {
      const row = view.rows[k];
      const after = replaced[k] === undefined ? "" : `→ ${replaced[k]}`;
      assert.strictEqual(row.text, line + after, `row ${k}`);
      const ghost = row.spans.filter((s) => s.text.startsWith("→"));
      const red = row.backgrounds.filter((b) => reddish(b.background));
      if (after) {
        assert.deepStrictEqual(ghost.map((s) => s.text), [after], `row ${k}'s ghost text`);
        assert.strictEqual(ghost[0].fontStyle, "italic", `row ${k}'s ghost style`);
        assert.ok(greenish(ghost[0].background), `row ${k}'s ghost background ${ghost[0].background}`);
        assert.strictEqual(red.length, 1, `row ${k} is not marked removed: ${JSON.stringify(row.backgrounds)}`);
      } else {
        assert.deepStrictEqual(ghost, [], `row ${k} has ghost text`);
        assert.deepStrictEqual(red, [], `row ${k} is marked removed`);
      }
    });
    assert.deepStrictEqual(view.lenses.map((l) => l.texts), lensRows.map(([, texts]) => texts));
    lensRows.forEach(([line], i) => {
      const top = view.lenses[i].top;
      assert.ok(top < view.rows[line].top && (line === 0 || top >= view.rows[line - 1].top),
        `lens row ${i} is not right above line ${line}: ${top} vs ${JSON.stringify(view.rows.map((r) => r.top))}`);
    });
    return view;
  }, 20000, 200);
}

suite("inline edit preview", () => {
  suiteSetup(() => api());
  teardown(async () => {
    const kimi = await api();
    if (kimi.edits.pending().length) await vscode.commands.executeCommand("kimi-lsp.rejectAll");
    await vscode.commands.executeCommand("notifications.clearAll");
    await resetFile("calc.py", config.source);
    await resetFile("partial.py", config.partialSource);
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

    // What a person sees: the proposal drawn over the text, with Accept/Reject lenses: as the
    // extension drew it, as VS Code's lens query lists it, and as the browser renders it.
    const both = { 1: "    return a + b", 5: "    return a * b * 1" };
    assert.deepStrictEqual(kimi.edits.decorations(doc.uri.toString()), drawnFor(both));
    assert.deepStrictEqual(await lenses(doc), [
      [1, "$(check) Accept 1/2", 0], [1, "$(close) Reject", 0], [1, "Accept All", null],
      [1, "Reject All", null], [1, "Diff", null], [5, "$(check) Accept 2/2", 1], [5, "$(close) Reject", 1],
    ]);
    vscode.window.activeTextEditor.selection = new vscode.Selection(0, 0, 0, 0);
    await driver({ kind: "wait", selector: ".codelens-decoration a", timeout: 15000 });
    const view = await assertRendered(doc, both, [
      [1, ["Accept 1/2", "Reject", "Accept All", "Reject All", "Diff"]], [5, ["Accept 2/2", "Reject"]],
    ]);
    await screenshot("inline-diff-preview");
    // For pytest's pixel checks of the screenshot: where the rows, their marks and ghosts are.
    report("inlinePreviewView", view);

    await vscode.commands.executeCommand("kimi-lsp.acceptHunk", edit.editId, 0);
    await waitFor("only the first hunk applied", () => doc.getText() === FIRST_ONLY);
    const [rest] = await waitFor("the other hunk still pending", () => {
      const pending = kimi.edits.pending();
      return pending.length === 1 && pending[0].hunks.length === 1 && pending;
    });
    assert.strictEqual(rest.hunks[0].index, 1); // the rest keeps its index
    const second = { 5: "    return a * b * 1" };
    assert.deepStrictEqual(kimi.edits.decorations(doc.uri.toString()), drawnFor(second));
    assert.deepStrictEqual(await lenses(doc), [[5, "$(check) Accept", 1], [5, "$(close) Reject", 1], [5, "Diff", null]]);
    await assertRendered(doc, second, [[5, ["Accept", "Reject", "Diff"]]]);

    await vscode.commands.executeCommand("kimi-lsp.acceptHunk", edit.editId, 1);
    await waitFor("both hunks applied", () => doc.getText() === PROPOSAL);
    await waitFor("nothing pending", () => kimi.edits.pending().length === 0);
    assert.strictEqual(kimi.edits.decorations(doc.uri.toString()), undefined);
    assert.deepStrictEqual(await lenses(doc), []);
    await assertRendered(doc, {}, []);
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
    assert.strictEqual(kimi.edits.decorations(doc.uri.toString()), undefined);
    await assertRendered(doc, {}, []);
  });

  // partial.py: the edited range is lines 1-6 (0-5 here); its first hunk changes the length of
  // line 1, so after accepting it the server must move the range's end by that much (issue 19).
  const P = config.partialSource.split("\n");
  const withLines = (lines, changes) => lines.map((l, k) => (changes[k] === undefined ? l : changes[k])).join("\n");
  const GROWN = `${P[1]}, and a long comment that makes this line grow`;
  const SHRUNK = "    return a - b";
  /** The model's answer: the range (lines 0-5) with `changes` made. */
  const rangeReply = (changes) => `${withLines(P, changes).split("\n").slice(0, 6).join("\n")}\n`;
  const MUL = "    return a * b * 1";

  /** Types `text` at (line, character) as the keyboard would (VS Code's `type` command). */
  async function typeAt(doc, line, character, text) {
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    editor.selection = new vscode.Selection(line, character, line, character);
    await vscode.commands.executeCommand("type", { text });
  }

  /** Accepts the hunk whose lens reads `title` with a click in the browser. */
  async function clickLens(title) {
    await driver({ kind: "click", selector: ".codelens-decoration a", name: title });
  }

  test("typing inside a partially accepted preview drops it", async () => {
    const proposal = rangeReply({ 1: GROWN, 5: MUL });
    const { kimi, doc, edit } = await propose("grow the comment", { file: "partial.py", source: config.partialSource, proposal });
    const uri = doc.uri.toString();
    vscode.window.activeTextEditor.selection = new vscode.Selection(0, 0, 0, 0);
    await assertRendered(doc, { 1: GROWN, 5: MUL }, [[1, ["Accept 1/2", "Reject", "Accept All", "Reject All", "Diff"]], [5, ["Accept 2/2", "Reject"]]]);
    await clickLens("Accept 1/2");
    const firstOnly = withLines(P, { 1: GROWN });
    await waitFor("the first hunk applied", () => doc.getText() === firstOnly);
    await waitFor("one hunk left", () => kimi.edits.pending().length === 1 && kimi.edits.pending()[0].hunks.length === 1);
    assert.deepStrictEqual(kimi.edits.decorations(uri), drawnFor({ 5: MUL }));

    // The end of `def mul(a, b):` is inside the range, 18 characters before its end: fewer than
    // the accepted hunk added (so a range end left where it was would miss this typing).
    await typeAt(doc, 4, P[4].length, "  # note");
    const typed = withLines(P, { 1: GROWN, 4: `${P[4]}  # note` });
    assert.strictEqual(doc.getText(), typed);
    await status(); // the server has seen the change (and sent kimi/editDropped before answering)
    await waitFor("the preview to be dropped", () => kimi.edits.pending().length === 0, 10000);
    assert.strictEqual(kimi.edits.decorations(uri), undefined);
    assert.deepStrictEqual(await lenses(doc), []);
    await assertRendered(doc, {}, []);
    const toasts = await waitFor("the notice that the proposal was dropped", async () => {
      const { texts } = await driver({ kind: "texts", selector: ".notifications-toasts .notification-list-item-message" });
      return texts.some((t) => t.includes("so it was dropped")) && texts;
    });
    assert.ok(toasts.some((t) => t.includes("You changed the lines of this proposal")), JSON.stringify(toasts));
    // The server forgot it too: the rest can no longer be accepted, and the text is the user's.
    const answer = await (await api()).client().sendRequest("kimi/acceptEdit", { editId: edit.editId, hunks: [1] });
    assert.strictEqual(answer.applied, false, JSON.stringify(answer));
    assert.strictEqual(doc.getText(), typed);
  });

  test("typing just after a partially accepted preview keeps it", async () => {
    const proposal = rangeReply({ 1: SHRUNK, 5: MUL });
    const { kimi, doc } = await propose("drop the comment", { file: "partial.py", source: config.partialSource, proposal });
    const uri = doc.uri.toString();
    vscode.window.activeTextEditor.selection = new vscode.Selection(0, 0, 0, 0);
    await assertRendered(doc, { 1: SHRUNK, 5: MUL }, [[1, ["Accept 1/2", "Reject", "Accept All", "Reject All", "Diff"]], [5, ["Accept 2/2", "Reject"]]]);
    await clickLens("Accept 1/2");
    const firstOnly = withLines(P, { 1: SHRUNK });
    await waitFor("the first hunk applied", () => doc.getText() === firstOnly);
    await waitFor("one hunk left", () => kimi.edits.pending().length === 1 && kimi.edits.pending()[0].hunks.length === 1);

    // Line 8 starts two characters after the range's end (line 7 is empty): outside the range,
    // but inside it if the end had not moved back by the 25 characters the hunk removed.
    await typeAt(doc, 8, 0, "_");
    const typed = withLines(P, { 1: SHRUNK, 8: `_${P[8]}` });
    assert.strictEqual(doc.getText(), typed);
    await status(); // the server has seen the change (a drop would have been sent before this)
    const [rest] = kimi.edits.pending();
    assert.ok(rest, "the preview was dropped for typing outside its lines");
    assert.deepStrictEqual(rest.hunks.map((h) => [h.index, h.range.start.line, h.range.end.line]), [[1, 5, 5]]);
    assert.deepStrictEqual(kimi.edits.decorations(uri), drawnFor({ 5: MUL }));
    await assertRendered(doc, { 5: MUL }, [[5, ["Accept", "Reject", "Diff"]]]);
    await clickLens("Accept");
    const final = withLines(P, { 1: SHRUNK, 5: MUL, 8: `_${P[8]}` });
    await waitFor("the second hunk applied", () => doc.getText() === final);
    await waitFor("nothing pending", () => kimi.edits.pending().length === 0);
    await assertRendered(doc, {}, []);
  });
});
