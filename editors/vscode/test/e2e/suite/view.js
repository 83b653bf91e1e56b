// What the browser shows, read from the DOM by the Playwright driver: the editor's rendered lines
// with their decorations and CodeLenses, and the chat webview's elements.
"use strict";

const { driver } = require("./support");

/**
 * Runs in the workbench page: the visible text editor whose lines include `marker`, as rendered
 * rows (document order, top to bottom; Monaco draws spaces as U+00A0, given back as spaces):
 * each row's text as shown, the spans drawn inside it (a decoration's `after` text is the CSS
 * generated content of an empty span: its text, background and font style are read from ::after), the whole-line backgrounds of the overlay layer at its height, and
 * the CodeLens rows (their link texts) with their heights.
 */
function readEditor(marker) {
  const plain = (s) => (s || "").replace(/\u00a0/g, " ");
  const visible = (el) => el.getClientRects().length > 0;
  const editors = [...document.querySelectorAll(".part.editor .monaco-editor")].filter(visible);
  const editor = editors.find((e) =>
    [...e.querySelectorAll(".view-line")].some((l) => plain(l.textContent).includes(marker)),
  );
  if (!editor) return null;
  const topOf = (el) => Math.round(el.getBoundingClientRect().top);
  const boxOf = (el) => {
    const r = el.getBoundingClientRect();
    return { x: Math.round(r.left), y: Math.round(r.top), width: Math.round(r.width), height: Math.round(r.height) };
  };
  const rows = [...editor.querySelectorAll(".view-lines .view-line")]
    .map((line) => ({
      top: topOf(line),
      height: Math.round(line.getBoundingClientRect().height),
      spans: [...line.querySelectorAll("span span")].filter((s) => !s.querySelector("span")).map((s) => {
        // A decoration's `after` text is CSS generated content (::after) of an empty span.
        const after = getComputedStyle(s, "::after");
        const generated = after.content && after.content !== "none" && after.content !== "normal";
        const style = generated ? after : getComputedStyle(s);
        const text = generated ? JSON.parse(after.content) : s.textContent;
        return { text: plain(text), generated, className: s.className, background: style.backgroundColor, fontStyle: style.fontStyle, box: boxOf(s) };
      }),
      backgrounds: [],
    }))
    .sort((a, b) => a.top - b.top);
  // What the row reads as on screen: its text with the generated text where it is drawn.
  for (const row of rows) row.text = row.spans.map((s) => s.text).join("");
  for (const overlay of editor.querySelectorAll(".view-overlays > div > div")) {
    const background = getComputedStyle(overlay).backgroundColor;
    const top = topOf(overlay);
    const row = rows.find((r) => Math.abs(r.top - top) <= 1);
    if (row && background !== "rgba(0, 0, 0, 0)") row.backgrounds.push({ className: overlay.className, background, box: boxOf(overlay) });
  }
  const lenses = [...editor.querySelectorAll(".codelens-decoration")].filter(visible).map((lens) => ({
    top: topOf(lens),
    texts: [...lens.querySelectorAll("a")].map((a) => plain(a.textContent).trim()),
  }));
  lenses.sort((a, b) => a.top - b.top);
  const lines = editor.querySelector(".view-lines");
  return { rows, lenses, box: boxOf(editor), linesBox: lines ? boxOf(lines) : null };
}

/** The editor showing `marker`, read in the browser (see readEditor). */
async function editorView(marker) {
  return (await driver({ kind: "eval", fn: readEditor.toString(), arg: marker })).value;
}

/** `fn(arg)` run inside the frame (a webview's) that holds a match of the selector `marker`. */
async function inFrame(marker, fn, arg) {
  return (await driver({ kind: "frameEval", marker, fn: fn.toString(), arg })).value;
}

/** [r, g, b, a] of a CSS colour as getComputedStyle gives it ("rgb(…)" or "rgba(…)"). */
function rgba(css) {
  const m = /rgba?\(([^)]*)\)/.exec(css || "");
  if (!m) return undefined;
  const parts = m[1].split(",").map((p) => Number(p.trim()));
  return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
}

module.exports = { editorView, inFrame, rgba };
