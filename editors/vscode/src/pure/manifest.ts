// The kimi/context manifest as a markdown document: budget, totals, tokenizer, sections and exclusions.

import { count } from "./format";

export interface ManifestSection {
  kind: string;
  uri?: string;
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  tokens: number;
  reason: string;
  truncated: boolean;
  redactions?: unknown;
}

export interface Manifest {
  budget: number;
  totalTokens: number;
  tokenizer: string;
  exact: boolean;
  purpose?: string;
  sections: ManifestSection[];
  excluded: { uri: string; reason: string }[];
}

/** One line: a newline would end the table row or the paragraph the text is in. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

/**
 * `text` as an inline code span, shown exactly as it is (paths: `__init__.py`, `C:\dir`, backticks).
 * The fence is one backtick longer than the longest run inside; a space pads both sides when the text
 * starts or ends with a backtick, or with a space on both ends (CommonMark strips one from each side).
 */
export function code(text: string): string {
  const flat = oneLine(text);
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = /^`|`$/.test(flat) || (/^ .* $/.test(flat) && flat.trim() !== "") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/**
 * `text` as markdown that renders literally inside a line (never at its start, where `#` or `-` would
 * matter): a backslash before every character markdown-it's inline rules act on (emphasis, code, links,
 * autolinks, entities, strikethrough, table pipes, and `:`, where linkify finds `https://`). An underscore
 * between two letters or digits is left alone, as it can never open or close emphasis (`current_file`).
 */
export function literal(text: string): string {
  return oneLine(text)
    .replace(/[\\`*[\]<>&~|:]/g, "\\$&")
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, "\\_");
}

/**
 * Markdown for a table cell. A table row is split at every `|` not preceded by a backslash, before
 * inline parsing and even inside code spans, and the backslash of `\|` is then dropped, also inside code
 * spans: so every pipe gets exactly one backslash (`literal` has already given its pipes theirs).
 */
function cellCode(text: string): string {
  return code(text).replace(/\|/g, "\\|");
}

/** A short path for a URI: relative to one of `roots` (file URIs) when inside it. */
export function shortUri(uri: string, roots: readonly string[]): string {
  for (const root of roots) {
    const base = root.endsWith("/") ? root : root + "/";
    if (uri.startsWith(base)) return decodeURIComponent(uri.slice(base.length));
  }
  return uri.startsWith("file://") ? decodeURIComponent(uri.slice("file://".length)) : uri;
}

/** "12-40": 1-based first and last line (an end at column 0 belongs to the line before). */
export function lineSpan(range: NonNullable<ManifestSection["range"]>): string {
  const first = range.start.line + 1;
  const last = range.end.character === 0 && range.end.line > range.start.line ? range.end.line : range.end.line + 1;
  return first === last ? `${first}` : `${first}-${last}`;
}

/**
 * The manifest for a person; lines are 1-based. `where` (the file and line asked about) is plain text,
 * like everything from the server: paths become code spans, other text is escaped, so none of it is
 * read as markdown.
 */
export function manifestMarkdown(manifest: Manifest, where: string, roots: readonly string[] = []): string {
  const purpose = literal(manifest.purpose ?? "chat");
  const share = manifest.budget > 0 ? (100 * manifest.totalTokens) / manifest.budget : 0;
  const percent = share > 0 && share < 1 ? "<1" : `${Math.round(share)}`;
  const lines = [
    `# Kimi context (${purpose})`,
    "",
    `For ${code(where)}: what the next ${purpose} request would send.`,
    "",
    `- **Total:** ${count(manifest.totalTokens)} of ${count(manifest.budget)} tokens (${percent}% of the budget)`,
    `- **Tokenizer:** ${literal(manifest.tokenizer)} (${manifest.exact ? "exact counts" : "approximate counts"})`,
    "",
    "## Sections",
    "",
  ];
  if (manifest.sections.length === 0) {
    lines.push("_No sections._");
  } else {
    lines.push("| # | kind | where | tokens | reason | truncated |", "|---:|---|---|---:|---|---|");
    manifest.sections.forEach((s, i) => {
      let path = s.uri ? shortUri(s.uri, roots) : "";
      if (s.range) path += `:${lineSpan(s.range)}`;
      const redacted = s.redactions ? " (secrets redacted)" : "";
      lines.push(
        `| ${i + 1} | ${literal(s.kind)} | ${path ? cellCode(path) : "—"} | ${count(s.tokens)} | ${literal(s.reason)}${redacted} | ${s.truncated ? "yes" : ""} |`,
      );
    });
  }
  lines.push("", "## Left out", "");
  if (manifest.excluded.length === 0) {
    lines.push("_Nothing was left out._");
  } else {
    lines.push("| file | reason |", "|---|---|");
    for (const item of manifest.excluded) {
      lines.push(`| ${cellCode(shortUri(item.uri, roots))} | ${literal(item.reason)} |`);
    }
  }
  return lines.join("\n") + "\n";
}
