// The chat's markdown renderer: markdown-it (CommonMark + GFM tables) with raw HTML off, http(s)/mailto links only.

import MarkdownIt from "markdown-it";
import type Token from "markdown-it/lib/token.mjs";
import { highlight } from "./highlight";
import { escapeHtml, safeUrl } from "./html";

/** A fenced code block of the answer, kept raw for "Apply to selection" / "Insert at cursor". */
export interface CodeBlock {
  lang: string;
  code: string;
  /** Still being written (the closing fence has not arrived yet). */
  open: boolean;
}

export interface Rendered {
  html: string;
  blocks: CodeBlock[];
}

/** What one render collects while markdown-it walks the answer. */
interface Env {
  blocks: CodeBlock[];
  /** Whether code blocks get their Apply / Insert / Copy buttons. */
  buttons: boolean;
  /** The answer's lines, to tell a closed fence from one the stream has not closed yet. */
  lines: string[];
}

const md = new MarkdownIt("default", {
  html: false, // model output never becomes markup: tags are shown as text
  breaks: true, // a newline in an answer is a line break, as in every chat
  linkify: true,
  typographer: false, // quotes and dashes stay as the model wrote them (they may be code)
});
// Only URLs with a scheme become links: "server.py" or "example.com" stay text.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
// markdown-it decodes entities and percent-encodes before asking, so "java&#115;cript:" is caught too.
md.validateLink = (url: string): boolean => safeUrl(url) !== undefined;

md.renderer.rules.fence = (tokens, idx, _options, env: Env) => codeBlock(fenceBlock(tokens[idx], env), env);
md.renderer.rules.code_block = (tokens, idx, _options, env: Env) =>
  codeBlock({ lang: "", code: tokens[idx].content.replace(/\n$/, ""), open: false }, env);
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  // No remote images in the chat (its content security policy refuses them): link to the image instead.
  const token = tokens[idx];
  const label = self.renderInlineAsText(token.children ?? [], options, env) || token.attrGet("src") || "";
  return `<a href="${escapeHtml(token.attrGet("src") ?? "")}">${escapeHtml(label)}</a>`;
};
md.core.ruler.push("align_classes", (state) => {
  // Classes, not style attributes: the chat's content security policy allows no inline styles.
  for (const token of state.tokens) {
    const style = token.attrGet("style");
    const align = style ? /^text-align:(left|center|right)$/.exec(style) : null;
    if (align) {
      token.attrs = (token.attrs ?? []).filter(([name]) => name !== "style");
      token.attrJoin("class", `align-${align[1]}`);
    }
  }
});

export interface RenderOptions {
  /**
   * Give code blocks their Apply / Insert / Copy buttons (default true). The webview sends the entry and
   * the block's index, which the extension looks up in the entry's answer: text with other code blocks
   * (the reasoning shown above an answer) must not have buttons, or they would act on the answer's blocks.
   */
  buttons?: boolean;
}

/** Render `markdown` to HTML. Unfinished input (a stream cut mid-answer) renders as far as it goes. */
export function renderMarkdown(markdown: string, options: RenderOptions = {}): Rendered {
  const env: Env = { blocks: [], buttons: options.buttons ?? true, lines: markdown.split(/\r\n?|\n/) };
  const html = md.render(markdown, env).trimEnd();
  return { html, blocks: env.blocks };
}

/** Only the code blocks of `markdown` (what the buttons of a rendered answer refer to). */
export function codeBlocks(markdown: string): CodeBlock[] {
  return renderMarkdown(markdown).blocks;
}

/** Inline markdown only (code spans, links, emphasis), escaped like the rest. */
export function inline(text: string): string {
  return md.renderInline(text, { blocks: [], buttons: false, lines: [] } satisfies Env);
}

function fenceBlock(token: Token, env: Env): CodeBlock {
  const lang = token.info.trim().split(/\s+/)[0] ?? "";
  return { lang, code: token.content.replace(/\n$/, ""), open: !closedFence(token, env.lines) };
}

/**
 * Whether the fence of `token` has its closing marker. markdown-it ends an unclosed fence at the end of
 * the document (or of its list item or quote), so look at the block's last line: a closing fence is
 * the opening marker's character, at least as many times, after nothing but quote marks and indent.
 */
function closedFence(token: Token, lines: string[]): boolean {
  const [start, end] = token.map ?? [0, 0];
  if (end - 1 <= start) return false;
  const marker = token.markup;
  const last = /^[ \t>]*(`+|~+)[ \t]*$/.exec(lines[end - 1] ?? "");
  return !!last && last[1][0] === marker[0] && last[1].length >= marker.length;
}

function codeBlock(block: CodeBlock, env: Env): string {
  const index = env.blocks.length;
  env.blocks.push(block);
  const lang = `<span class="lang">${escapeHtml(block.lang)}</span>`;
  const buttons = block.open || !env.buttons
    ? ""
    : `<button data-action="apply" data-block="${index}" title="Replace the editor's selection with this code">Apply to selection</button>` +
      `<button data-action="insert" data-block="${index}" title="Insert this code at the editor's cursor">Insert at cursor</button>` +
      `<button data-action="copy" data-block="${index}" title="Copy to the clipboard">Copy</button>`;
  return (
    `<div class="code-block" data-block="${index}"><div class="code-bar">${lang}${buttons}</div>` +
    `<pre><code>${highlight(block.code, block.lang)}</code></pre></div>\n`
  );
}
