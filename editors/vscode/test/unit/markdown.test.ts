// Unit tests of the chat's markdown renderer: escaping first, then the supported markdown.

import assert from "node:assert/strict";
import { test } from "node:test";
import { codeBlocks, inline, renderMarkdown } from "../../src/pure/markdown";
import { highlight } from "../../src/pure/highlight";

// markdown-it puts a newline after each block tag; these expectations are written without them.
const html = (md: string) => renderMarkdown(md).html.replace(/\n(?=<)|(?<=>)\n/g, "");

test("a <script> in model output comes out inert", () => {
  const out = html('Hello <script>alert("x")</script> world');
  assert.ok(!out.includes("<script"), out);
  assert.ok(out.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), out);
});

test("HTML tags, attributes and entities are escaped everywhere", () => {
  const cases = [
    "<img src=x onerror=alert(1)>",
    "# <b onmouseover=alert(1)>title</b>",
    "- <iframe src=javascript:alert(1)>",
    "> <svg onload=alert(1)>",
    "| <a> | b |\n|---|---|\n| <script>x</script> | y |",
    "**<i>bold</i>** and *<u>it</u>* and `<code>`",
  ];
  for (const md of cases) {
    const out = html(md);
    assert.ok(!/<(img|script|iframe|svg|b |i>|u>|a>)/.test(out), `${md} -> ${out}`);
    assert.ok(!/ on\w+=/.test(out.replace(/&[a-z]+;/g, "")) || out.includes("&lt;"), out);
  }
});

test("code blocks are escaped and highlighted, and keep their raw text", () => {
  const md = "Try:\n```python\nif x < 1:\n    print('<b>')  # note\n```\n";
  const { html: out, blocks } = renderMarkdown(md);
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0].lang, "python");
  assert.equal(blocks[0].code, "if x < 1:\n    print('<b>')  # note");
  assert.equal(blocks[0].open, false);
  assert.ok(out.includes('<span class="tok-keyword">if</span> x &lt; <span class="tok-number">1</span>'), out);
  assert.ok(out.includes('<span class="tok-string">&#x27;&lt;b&gt;&#x27;</span>'), out);
  assert.ok(out.includes('<span class="tok-comment"># note</span>'), out);
  assert.ok(out.includes('data-action="apply" data-block="0"'), out);
  assert.ok(out.includes('data-action="insert" data-block="0"'), out);
});

test("a code block still being streamed renders without buttons", () => {
  const { html: out, blocks } = renderMarkdown("```ts\nconst a = 1;");
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0].open, true);
  assert.ok(!out.includes("data-action"), out);
  assert.ok(out.includes('<span class="tok-keyword">const</span>'), out);
});

test("a script inside a code block stays text", () => {
  const out = html("```html\n<script>alert(1)</script>\n```");
  assert.ok(!out.includes("<script"), out);
  // The xml grammar wraps the tag name in a span; the text itself is escaped.
  assert.equal(out.replace(/<[^>]*>/g, "").trim(), "htmlApply to selectionInsert at cursorCopy&lt;script&gt;alert(1)&lt;/script&gt;");
});

test("links: http(s) only, the rest is plain text", () => {
  assert.equal(inline("[docs](https://example.com/a?b=1&c=2)"), '<a href="https://example.com/a?b=1&amp;c=2">docs</a>');
  // A refused link is not parsed as a link: its source shows as plain text.
  assert.equal(inline("[click](javascript:void)"), "[click](javascript:void)");
  assert.ok(!inline("[click](javascript:alert(1))").includes("href"));
  assert.ok(!inline('[x](command:workbench.action.quit)').includes("href"));
  assert.ok(!inline('[x](https://a.com" onclick="evil)').includes("onclick=\""));
});

test("headings, lists, emphasis, inline code, quotes, rules, tables", () => {
  assert.equal(html("## Title"), "<h2>Title</h2>");
  assert.equal(html("- a\n- **b**"), "<ul><li>a</li><li><strong>b</strong></li></ul>");
  assert.equal(html("1. one\n2. two"), "<ol><li>one</li><li>two</li></ol>");
  assert.equal(html("use `x<y` *now*"), "<p>use <code>x&lt;y</code> <em>now</em></p>");
  assert.equal(html("> quoted"), "<blockquote><p>quoted</p></blockquote>");
  assert.equal(html("---"), "<hr>");
  const table = html("| a | b |\n|:--|--:|\n| 1 | 2 |");
  assert.ok(table.startsWith("<table><thead><tr><th class=\"align-left\">a</th>"), table);
  assert.ok(table.includes('<td class="align-right">2</td>'), table);
  assert.ok(!table.includes("style="), "no inline styles: the CSP forbids them");
});

test("nested list items and a code block inside a list", () => {
  const out = html("- a\n  - b\n- c\n  ```js\n  let x;\n  ```");
  assert.ok(out.startsWith("<ul><li>a<ul><li>b</li></ul></li><li>c"), out);
  assert.equal(codeBlocks("- c\n  ```js\n  let x;\n  ```")[0].code, "let x;");
});

test("snake_case words do not turn italic", () => {
  assert.equal(inline("call my_var_name here"), "call my_var_name here");
});

test("the highlighter escapes unknown languages verbatim", () => {
  assert.equal(highlight("<a>&", "nosuchlang"), "&lt;a&gt;&amp;");
});

test("without buttons (the reasoning above an answer), code blocks have no actions", () => {
  // The webview sends (entry, block index) and the extension looks the block up in the answer, so a
  // button in the reasoning would apply one of the answer's blocks instead of the one clicked.
  const { html: out, blocks } = renderMarkdown("Maybe:\n```py\nx = 1\n```", { buttons: false });
  assert.equal(blocks.length, 1);
  assert.ok(!out.includes("data-action"), out);
  assert.ok(out.includes('<span class="tok-number">1</span>'), out);
});
