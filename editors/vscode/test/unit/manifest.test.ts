// Unit tests of the context manifest's markdown, rendered by the chat's own renderer: paths and server text come out literally.

import assert from "node:assert/strict";
import { test } from "node:test";
import { code, literal, manifestMarkdown, type Manifest, type ManifestSection } from "../../src/pure/manifest";
import { renderMarkdown } from "../../src/pure/markdown";

/** What a person reads in an HTML fragment of ours: tags dropped, the five entities escapeHtml makes decoded. */
function shown(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/** The rendered manifest's body rows, each as the list of its cells' inner HTML. */
function rows(html: string): string[][] {
  const body = [...html.matchAll(/<tbody>([\s\S]*?)<\/tbody>/g)].map((m) => m[1]).join("");
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]),
  );
}

function section(uri: string, reason = "open in the editor"): ManifestSection {
  return { kind: "current_file", uri, tokens: 10, reason, truncated: false };
}

function manifest(sections: ManifestSection[], excluded: Manifest["excluded"] = []): Manifest {
  return { budget: 1000, totalTokens: 10, tokenizer: "kimi", exact: true, purpose: "chat", sections, excluded };
}

function render(m: Manifest, where = "a.py:1", roots: readonly string[] = ["file:///w"]): string {
  return renderMarkdown(manifestMarkdown(m, where, roots)).html;
}

/** Paths (as shortUri returns them) that markdown would otherwise mangle. */
const PATHS = [
  "pkg/__init__.py",
  "__init__.py",
  "a|b.py",
  "a||b|.py",
  "|lead.py",
  "C:\\Users\\me\\project\\x.py",
  "C:\\dir\\",
  "dir\\|pipe.py",
  "we`ird`.py",
  "``double``.py",
  "`starts.py",
  "ends.py`",
  " spaced .py",
  "*star*/[link](https://example.com)/<b>.py",
  "&copy; ~~x~~ \\* _a_ .py",
];

test("__init__.py comes out as itself, not bold 'init'", () => {
  const html = render(manifest([section("file:///w/pkg/__init__.py")], [{ uri: "file:///w/__init__.py", reason: "secret file" }]));
  const [sectionRow, excludedRow] = rows(html);
  assert.ok(![...sectionRow, ...excludedRow].some((cell) => cell.includes("<strong>")), html);
  assert.equal(sectionRow[2], "<code>pkg/__init__.py</code>");
  assert.equal(excludedRow[0], "<code>__init__.py</code>");
});

test("a | in a path stays in its cell and does not split the row", () => {
  const html = render(manifest([section("file:///w/a%7Cb.py")], [{ uri: "file:///w/c%7Cd.py", reason: "secret file" }]));
  const [sectionRow, excludedRow] = rows(html);
  assert.equal(sectionRow.length, 6, html);
  assert.equal(sectionRow[2], "<code>a|b.py</code>");
  assert.equal(sectionRow[4], "open in the editor");
  assert.equal(excludedRow.length, 2, html);
  assert.deepEqual(excludedRow, ["<code>c|d.py</code>", "secret file"]);
});

test("backticks in a path get a longer fence and come out as typed", () => {
  const html = render(manifest([section("file:///w/we%60ird%60.py"), section("file:///w/%60%60x%60")]));
  const [one, two] = rows(html);
  assert.equal(one[2], "<code>we`ird`.py</code>");
  assert.equal(two[2], "<code>``x`</code>");
  assert.equal(code("we`ird`.py"), "``we`ird`.py``");
  assert.equal(code("``x`"), "``` ``x` ```");
});

test("a Windows path keeps every backslash", () => {
  const path = "C:\\Users\\me\\src\\__init__.py";
  const html = render(manifest([section(path)], [{ uri: "D:\\secrets\\.env", reason: "secret file" }]), "src\\a.py:3");
  const [sectionRow, excludedRow] = rows(html);
  assert.equal(sectionRow[2], "<code>C:\\Users\\me\\src\\__init__.py</code>");
  assert.equal(excludedRow[0], "<code>D:\\secrets\\.env</code>");
  assert.ok(html.includes("<p>For <code>src\\a.py:3</code>: what the next chat request would send.</p>"), html);
});

test("every awkward path renders literally, in a section, with its line span, and left out", () => {
  for (const path of PATHS) {
    const withLines = { ...section(path), range: { start: { line: 2, character: 0 }, end: { line: 7, character: 4 } } };
    const html = render(manifest([section(path), withLines], [{ uri: path, reason: "too large" }]), path, []);
    const [plain, spanned, left] = rows(html);
    assert.equal(plain.length, 6, `${path}: ${html}`);
    assert.equal(shown(plain[2]), path, `${path}: ${plain[2]}`);
    assert.ok(plain[2].startsWith("<code>") && plain[2].endsWith("</code>"), plain[2]);
    assert.equal(spanned.length, 6, `${path}: ${html}`);
    assert.equal(shown(spanned[2]), `${path}:3-8`);
    assert.deepEqual(left.map(shown), [path, "too large"]);
    const intro = /<p>For (<code>[\s\S]*?<\/code>): what/.exec(html);
    assert.ok(intro, html);
    assert.equal(shown(intro[1]), path);
  }
});

test("reasons, kinds, the tokenizer and the purpose are text, never markdown", () => {
  const awkward = [
    "excluded by default (__pycache__/)",
    "secret *file* and **more**",
    "a | b \\| c \\",
    "<script>x</script> &copy; &amp;",
    "[docs](https://example.com) ![img](x.png) <https://example.com> mailto:a@example.com",
    "~~gone~~ `code` ``two``",
    "snake_case and _under_ and \\_escaped",
  ];
  for (const text of awkward) {
    const m: Manifest = {
      ...manifest([{ kind: text, uri: "file:///w/a.py", tokens: 1, reason: text, truncated: false }], [{ uri: "file:///w/b.py", reason: text }]),
      tokenizer: text,
      purpose: text,
    };
    const html = render(m);
    const [row, left] = rows(html);
    assert.equal(row.length, 6, `${text}: ${html}`);
    assert.equal(shown(row[1]), text);
    assert.equal(shown(row[4]), text);
    assert.deepEqual(left.map(shown), ["b.py", text]);
    assert.ok(!/<(em|strong|s|a|img|script)\b|href|<code>(?!a\.py|b\.py)/.test(row.join("") + left.join("")), `${text}: ${html}`);
    assert.ok(html.includes(`<h1>Kimi context (${renderedText(text)})</h1>`), html);
    assert.ok(html.includes(`<strong>Tokenizer:</strong> ${renderedText(text)} (exact counts)`), html);
  }
});

test("a newline in a path or a reason does not end the row", () => {
  const html = render(manifest([section("file:///w/a%0Ab.py", "first\nsecond\r\nthird")]));
  const [row] = rows(html);
  assert.equal(row.length, 6, html);
  assert.equal(shown(row[2]), "a b.py");
  assert.equal(shown(row[4]), "first second third");
});

test("plain names stay readable in the markdown source", () => {
  assert.equal(literal("current_file"), "current_file");
  assert.equal(literal("__init__"), "\\_\\_init\\_\\_");
  assert.equal(code("src/a.py:1-40"), "`src/a.py:1-40`");
});

/** `text` as the renderer's HTML escaping shows it in a paragraph. */
function renderedText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
