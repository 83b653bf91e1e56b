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

/** Markdown table cells must not break the table: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");
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

/** The manifest for a person; lines are 1-based. */
export function manifestMarkdown(manifest: Manifest, where: string, roots: readonly string[] = []): string {
  const purpose = manifest.purpose ?? "chat";
  const share = manifest.budget > 0 ? (100 * manifest.totalTokens) / manifest.budget : 0;
  const percent = share > 0 && share < 1 ? "<1" : `${Math.round(share)}`;
  const lines = [
    `# Kimi context (${purpose})`,
    "",
    `For ${where}: what the next ${purpose} request would send.`,
    "",
    `- **Total:** ${count(manifest.totalTokens)} of ${count(manifest.budget)} tokens (${percent}% of the budget)`,
    `- **Tokenizer:** ${manifest.tokenizer} (${manifest.exact ? "exact counts" : "approximate counts"})`,
    "",
    "## Sections",
    "",
  ];
  if (manifest.sections.length === 0) {
    lines.push("_No sections._");
  } else {
    lines.push("| # | kind | where | tokens | reason | truncated |", "|---:|---|---|---:|---|---|");
    manifest.sections.forEach((s, i) => {
      let where = s.uri ? shortUri(s.uri, roots) : "";
      if (s.range) where += `:${lineSpan(s.range)}`;
      const redacted = s.redactions ? " (secrets redacted)" : "";
      lines.push(
        `| ${i + 1} | ${cell(s.kind)} | ${cell(where) || "—"} | ${count(s.tokens)} | ${cell(s.reason)}${redacted} | ${s.truncated ? "yes" : ""} |`,
      );
    });
  }
  lines.push("", "## Left out", "");
  if (manifest.excluded.length === 0) {
    lines.push("_Nothing was left out._");
  } else {
    lines.push("| file | reason |", "|---|---|");
    for (const item of manifest.excluded) {
      lines.push(`| ${cell(shortUri(item.uri, roots))} | ${cell(item.reason)} |`);
    }
  }
  return lines.join("\n") + "\n";
}
