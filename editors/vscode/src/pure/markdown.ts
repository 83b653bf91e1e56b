// A small, safe markdown renderer for chat answers: all text is escaped, only a fixed set of tags is produced.

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

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** Render `markdown` to HTML. Unfinished input (a stream cut mid-answer) renders as far as it goes. */
export function renderMarkdown(markdown: string): Rendered {
  const blocks: CodeBlock[] = [];
  const html = renderBlocks(markdown.replace(/\r\n?/g, "\n").split("\n"), blocks);
  return { html, blocks };
}

/** Only the code blocks of `markdown` (what the buttons of a rendered answer refer to). */
export function codeBlocks(markdown: string): CodeBlock[] {
  return renderMarkdown(markdown).blocks;
}

function renderBlocks(lines: string[], blocks: CodeBlock[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1];
      const body: string[] = [];
      i++;
      let open = true;
      while (i < lines.length) {
        const closing = lines[i].trim();
        if (closing.startsWith(marker[0].repeat(marker.length)) && /^(`+|~+)$/.test(closing)) {
          open = false;
          i++;
          break;
        }
        body.push(lines[i]);
        i++;
      }
      out.push(codeBlock({ lang: fence[2] ?? "", code: body.join("\n"), open }, blocks));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push("<hr>");
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        quoted.push((QUOTE.exec(lines[i]) as RegExpExecArray)[1]);
        i++;
      }
      out.push(`<blockquote>${renderBlocks(quoted, blocks)}</blockquote>`);
      continue;
    }
    if (ITEM.test(line)) {
      i = list(lines, i, blocks, out);
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]) && lines[i + 1].includes("-")) {
      i = table(lines, i, out);
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && lines[i].trim() && !startsBlock(lines[i])) {
      paragraph.push(lines[i].trim());
      i++;
    }
    if (paragraph.length === 0) {
      // A line that looks like a block start but was not consumed above: show it as text.
      paragraph.push(lines[i].trim());
      i++;
    }
    out.push(`<p>${paragraph.map(inline).join("<br>")}</p>`);
  }
  return out.join("\n");
}

function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

function codeBlock(block: CodeBlock, blocks: CodeBlock[]): string {
  const index = blocks.length;
  blocks.push(block);
  const lang = block.lang ? `<span class="lang">${escapeHtml(block.lang)}</span>` : `<span class="lang"></span>`;
  const buttons = block.open
    ? ""
    : `<button data-action="apply" data-block="${index}" title="Replace the editor's selection with this code">Apply to selection</button>` +
      `<button data-action="insert" data-block="${index}" title="Insert this code at the editor's cursor">Insert at cursor</button>` +
      `<button data-action="copy" data-block="${index}" title="Copy to the clipboard">Copy</button>`;
  return (
    `<div class="code-block" data-block="${index}"><div class="code-bar">${lang}${buttons}</div>` +
    `<pre><code>${highlight(block.code, block.lang)}</code></pre></div>`
  );
}

/** A list starting at `start`; returns the index after it. Nested lists come from indented items. */
function list(lines: string[], start: number, blocks: CodeBlock[], out: string[]): number {
  const first = ITEM.exec(lines[start]) as RegExpExecArray;
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const items: string[][] = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const item = ITEM.exec(line);
    if (item && item[1].length === indent && /\d/.test(item[2]) === ordered) {
      items.push([item[3]]);
      i++;
      continue;
    }
    const lineIndent = line.length - line.trimStart().length;
    if (line.trim() && lineIndent > indent) {
      items[items.length - 1].push(line.slice(Math.min(lineIndent, indent + 2)));
      i++;
      continue;
    }
    if (!line.trim() && i + 1 < lines.length) {
      const next = lines[i + 1];
      const nextItem = ITEM.exec(next);
      const nextIndent = next.length - next.trimStart().length;
      if ((nextItem && nextItem[1].length === indent && /\d/.test(nextItem[2]) === ordered) || (next.trim() && nextIndent > indent)) {
        items[items.length - 1].push("");
        i++;
        continue;
      }
    }
    break;
  }
  const startNumber = ordered ? parseInt(first[2], 10) : 1;
  const open = ordered ? (startNumber !== 1 ? `<ol start="${startNumber}">` : "<ol>") : "<ul>";
  const body = items
    .map((content) => {
      const simple = content.length === 1 || content.slice(1).every((l) => l.trim() && !startsBlock(l));
      // A tight item's first paragraph stays inline ("<li>text<ul>…"), as people write lists.
      const html = simple
        ? content.map((l) => inline(l.trim())).join("<br>")
        : renderBlocks(content, blocks).replace(/^<p>([\s\S]*?)<\/p>\n?/, "$1");
      return `<li>${html}</li>`;
    })
    .join("");
  out.push(`${open}${body}${ordered ? "</ol>" : "</ul>"}`);
  return i;
}

function cells(line: string): string[] {
  let text = line.trim();
  if (text.startsWith("|")) text = text.slice(1);
  if (text.endsWith("|") && !text.endsWith("\\|")) text = text.slice(0, -1);
  return text.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
}

function table(lines: string[], start: number, out: string[]): number {
  const head = cells(lines[start]);
  const aligns = cells(lines[start + 1]).map((c) =>
    c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : "",
  );
  // Classes, not style attributes: the chat's content security policy allows no inline styles.
  const style = (k: number) => (aligns[k] ? ` class="align-${aligns[k]}"` : "");
  let i = start + 2;
  const rows: string[] = [];
  while (i < lines.length && lines[i].trim() && lines[i].includes("|")) {
    const row = cells(lines[i]);
    rows.push(`<tr>${head.map((_, k) => `<td${style(k)}>${inline(row[k] ?? "")}</td>`).join("")}</tr>`);
    i++;
  }
  out.push(
    `<table><thead><tr>${head.map((h, k) => `<th${style(k)}>${inline(h)}</th>`).join("")}</tr></thead>` +
      `<tbody>${rows.join("")}</tbody></table>`,
  );
  return i;
}

const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\[([^\]\n]+)\]\(([^()\s]+)(?:\s+"[^"\n]*")?\)|<(https?:\/\/[^>\s]+)>/g;

/** Inline markdown: code spans, links, emphasis. Text is escaped before any tag is added. */
export function inline(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    out += emphasis(escapeHtml(text.slice(last, index)));
    const [whole, , code, label, url, autolink] = match;
    if (code !== undefined) {
      out += `<code>${escapeHtml(code.replace(/^ (.*) $/, "$1"))}</code>`;
    } else if (label !== undefined) {
      const href = safeUrl(url);
      out += href ? `<a href="${escapeHtml(href)}">${emphasis(escapeHtml(label))}</a>` : emphasis(escapeHtml(label));
    } else if (autolink !== undefined) {
      const href = safeUrl(autolink);
      out += href ? `<a href="${escapeHtml(href)}">${escapeHtml(autolink)}</a>` : escapeHtml(whole);
    }
    last = index + whole.length;
  }
  return out + emphasis(escapeHtml(text.slice(last)));
}

/** Bold, italic and strike-through on already escaped text (so the captured content is inert). */
function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\w])/g, "$1<em>$2</em>")
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>");
}
