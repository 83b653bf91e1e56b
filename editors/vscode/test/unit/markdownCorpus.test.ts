// The chat renderer on a corpus of model answers (test/fixtures/answers): safe markup, the right structure, code blocks for the buttons.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { renderMarkdown, type CodeBlock } from "../../src/pure/markdown";

// Compiled to out/test/unit/: the fixtures stay in the source tree.
const DIR = path.join(__dirname, "..", "..", "..", "test", "fixtures", "answers");
const answer = (name: string): string => readFileSync(path.join(DIR, `${name}.md`), "utf8");
const render = (name: string) => renderMarkdown(answer(name));
/** The visible text of some HTML (tags dropped, the few entities we emit decoded). */
const text = (html: string): string =>
  html.replace(/<[^>]*>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");

const TAGS = new Set([
  "p", "br", "strong", "em", "s", "code", "pre", "a", "ul", "ol", "li", "blockquote", "hr",
  "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "div", "span", "button",
]);
const ATTRIBUTES = new Set(["href", "title", "class", "data-action", "data-block", "start"]);

/** Every tag and attribute is one the renderer means to produce; links are http(s) or mailto. */
function assertSafe(html: string, where: string): void {
  for (const [, name, attrs] of html.matchAll(/<\/?([A-Za-z][\w-]*)([^>]*)>/g)) {
    assert.ok(TAGS.has(name.toLowerCase()), `${where}: unexpected <${name}> in ${html}`);
    const rest = attrs.replace(/\s([\w-]+)="[^"<>]*"/g, (whole, attr: string) => {
      assert.ok(ATTRIBUTES.has(attr), `${where}: unexpected attribute ${attr} in ${whole}`);
      if (attr === "href") assert.match(whole, /^ href="(https?:\/\/|mailto:)/, where);
      return "";
    });
    assert.equal(rest.replace(/\/$/, "").trim(), "", `${where}: unquoted attribute text in <${name}${attrs}>`);
  }
}

const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith(".md"))
  .map((f) => f.slice(0, -3))
  .sort();

test("the corpus is there", () => {
  assert.ok(NAMES.length >= 15, NAMES.join(", "));
});

test("every answer, and every prefix of it (a stream cut anywhere), renders only safe markup", () => {
  for (const name of NAMES) {
    const full = answer(name);
    for (let end = 0; end <= full.length; end += 1) {
      assertSafe(renderMarkdown(full.slice(0, end)).html, `${name}[:${end}]`);
    }
  }
});

test("a code block closed in a prefix of the stream keeps the code it has in the whole answer", () => {
  for (const name of NAMES) {
    const full = answer(name);
    const final = renderMarkdown(full).blocks;
    for (let end = 0; end <= full.length; end += 1) {
      renderMarkdown(full.slice(0, end)).blocks.forEach((block: CodeBlock, i: number) => {
        if (!block.open) assert.deepEqual(block, final[i], `${name}[:${end}] block ${i}`);
      });
    }
  }
});

test("HTML in the text is shown as text, never rendered", () => {
  const { html } = render("html-in-text");
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), html);
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"), html);
  assert.ok(html.includes("&lt;kbd&gt;Ctrl&lt;/kbd&gt;"), html);
  assert.ok(html.includes("&lt;!-- a comment --&gt;"), html);
  assert.ok(html.includes("Vec&lt;T&gt; or Map&lt;string, number&gt;"), html);
});

test("links: http(s) and mailto only; javascript:, data:, vbscript:, command: stay text", () => {
  const { html } = render("links");
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(hrefs, [
    "https://pygls.readthedocs.io/en/latest/",
    "https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/",
    "https://en.wikipedia.org/wiki/Closure_(computer_programming)",
    "mailto:dev@example.com",
    "https://example.com/a?b=1&amp;c=2",
    "https://example.com/CHANGELOG.md",
    "https://example.com/diagram.png",
    "https://github.com/openlsp/pygls/issues/1",
  ]);
  assert.ok(!/href="[^"]*(script|data):/i.test(html), html);
  assert.ok(html.includes("[this](javascript:alert(document.cookie))"), "a refused link shows its source");
  assert.ok(!html.includes("<img"), "no images: the chat's CSP refuses remote ones");
  assert.ok(html.includes(">diagram</a>"), "an image becomes a link labelled by its alt text");
  assert.ok(!html.includes("[log]:"), "a link reference definition is not shown");
});

test("tables: alignment as classes (no inline styles), escaped pipes, ragged rows", () => {
  const compare = render("table-compare").html;
  assert.ok(!compare.includes("style="), "the CSP forbids inline styles");
  assert.equal((compare.match(/<tr>/g) ?? []).length, 5);
  assert.ok(compare.includes('<th class="align-right">Latency</th>'), compare);
  assert.ok(compare.includes('<td class="align-center">bounded</td>'), compare);
  assert.ok(compare.includes("<code>a | b</code> union"), compare);
  const ragged = render("table-ragged").html;
  assert.ok(ragged.startsWith("<p>Results per file:</p>\n<table>"), "a table right after a paragraph");
  assert.equal((ragged.match(/<tr>/g) ?? []).length, 4);
  assert.ok(!ragged.includes("extra cell"), "cells beyond the header are dropped, as GitHub does");
});

test("nested lists: levels, a paragraph and a code block inside items, a new list on a new marker", () => {
  const { html, blocks } = render("nested-lists");
  assert.match(html, /<ol>\s*<li>[\s\S]*<ul>\s*<li>take the lock[\s\S]*<ul>\s*<li>otherwise a slow model/);
  assert.ok(html.includes("<p>The counter is per conversation"), html);
  assert.equal(blocks.length, 1);
  // The item's indent is not part of the code: Apply inserts it as the model wrote it.
  assert.ok(blocks[0].code.startsWith("async def test_turns_never_repeat(server):\n    first"), blocks[0].code);
  assert.equal((html.match(/<ul>/g) ?? []).length, 4, "the * item starts its own list");
  assert.ok(html.includes("with blank lines between items<br>\ncontinued on a lazy line"), html);
});

test("fences: several languages highlighted, tildes, info strings, a fence inside a longer fence", () => {
  const { html, blocks } = render("fences");
  assert.deepEqual(
    blocks.map((b) => b.lang),
    ["python", "ts", "rust", "go", "bash", "json", "diff", "python", "markdown", ""],
  );
  assert.ok(blocks.every((b) => !b.open));
  assert.equal(blocks[8].code, "# README\n```sh\nmake test\n```");
  assert.equal(blocks[9].code, "plain text <not a tag>");
  for (const kind of ["keyword", "string", "comment", "number", "addition", "deletion"]) {
    assert.ok(html.includes(`class="tok-${kind}"`), `no ${kind} token`);
  }
  // Highlighting never changes the code's text.
  const shown = [...html.matchAll(/<pre><code>([\s\S]*?)<\/code><\/pre>/g)].map((m) => text(m[1]));
  assert.deepEqual(shown, blocks.map((b) => b.code));
});

test("inline code, backslash escapes and emphasis", () => {
  const inlineCode = render("inline-code").html;
  assert.ok(inlineCode.includes("<code>a`b</code>"), inlineCode);
  assert.ok(inlineCode.includes("<code>**not bold**</code>"), inlineCode);
  assert.ok(inlineCode.includes("*not italic*, `not code`, 2 * 3."), inlineCode);
  const emphasis = render("emphasis").html;
  assert.ok(emphasis.includes("<em><strong>both</strong></em>"), emphasis);
  assert.ok(emphasis.includes("<s>gone</s>"), emphasis);
  assert.ok(emphasis.includes("<strong>bold with <code>code</code> inside</strong>"), emphasis);
  assert.ok(emphasis.includes('<em>italic with a <a href="https://example.com">link</a></em>'), emphasis);
  assert.ok(emphasis.includes("<strong>two<br>\nlines</strong>"), emphasis);
  assert.ok(emphasis.includes("snake_case_names, my_var_name"), emphasis);
});

test("headings (ATX and setext) and block quotes (nested, lazy, with a list and code)", () => {
  const headings = render("headings").html;
  assert.ok(headings.includes("<h2>What changed</h2>"), headings);
  assert.ok(headings.includes("<h3><code>server.py</code></h3>"), headings);
  assert.ok(headings.includes("<p>#hashtag is not a heading</p>"), headings);
  assert.ok(headings.includes("<h1>Setext heading</h1>") && headings.includes("<h2>Another one</h2>"), headings);
  const { html, blocks } = render("blockquote");
  assert.ok(html.includes("changes.<br>\nlazy continuation line</p>\n</blockquote>"), html);
  assert.match(html, /<blockquote>\s*<p>Nested:<\/p>\s*<blockquote>\s*<p>inner quote/);
  assert.deepEqual(blocks, [{ lang: "python", code: 'print("in a quote")', open: false }]);
});

test("streams cut mid-block: an open fence has no buttons, half a table is still a table", () => {
  const fence = render("stream-open-fence");
  assert.equal(fence.blocks.length, 1);
  assert.equal(fence.blocks[0].open, true);
  assert.ok(fence.blocks[0].code.endsWith("def get(self, key"), fence.blocks[0].code);
  assert.ok(!fence.html.includes("data-action"), fence.html);
  const inList = render("stream-open-fence-in-list");
  assert.deepEqual(inList.blocks, [{ lang: "bash", code: "pip install kimi-lsp", open: true }]);
  assert.ok(render("stream-half-table").html.includes("<th>Default</th>"));
  const rows = render("stream-table-rows").html;
  assert.ok(rows.includes("<td><code>kimi.model</code></td>") && rows.includes("<td>`au</td>"), rows);
});

test("real answers: the buttons point at the blocks, in order", () => {
  const { html, blocks } = render("real-bugfix");
  assert.deepEqual(blocks, [
    { lang: "python", code: "def add(a, b):\n    return a + b", open: false },
    { lang: "bash", code: "pytest -q tests/test_calc.py", open: false },
  ]);
  for (const [i] of blocks.entries()) {
    for (const action of ["apply", "insert", "copy"]) {
      assert.ok(html.includes(`data-action="${action}" data-block="${i}"`), `${action} ${i}`);
    }
  }
  const explain = render("real-explain").html;
  assert.match(explain, /<li><code>this<\/code> is <strong>not<\/strong> preserved[^]*?<ol>\s*<li>inside a class method/);
  assert.ok(explain.includes('<th class="align-center">Timer reset?</th>'), explain);
});
