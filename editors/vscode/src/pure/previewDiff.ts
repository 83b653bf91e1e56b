// What to draw for a proposed edit: per-line decorations (removed, pending, ghost text) from old and new lines.

import { diffLines, splitLines } from "./lineDiff";

/** One hunk seen as whole lines: `oldLines` (from document line `line`) become `newLines`. */
export interface LineHunk {
  /** 0-based document line where the hunk starts (for an insertion: the line it goes before). */
  line: number;
  oldLines: string[];
  newLines: string[];
  /** Streaming only: the removal runs to the end of the range, i.e. the model has not got there yet. */
  pending?: boolean;
}

/** One decoration on one document line. */
export interface LineDecoration {
  line: number;
  /** removed: red band; pending: not written yet (dim); anchor: the line carries added text only. */
  kind: "removed" | "pending" | "anchor";
  /** Ghost text shown after the line: the proposed line(s). */
  after?: string;
  /** Index of the hunk (in the list given) this decoration belongs to. */
  hunk: number;
}

/** While streaming: the proposal so far against the range's original lines (first at `firstLine`). */
export function streamHunks(firstLine: number, original: readonly string[], proposed: string, done = false): LineHunk[] {
  const newLines = splitLines(proposed);
  const changes = diffLines(original, newLines);
  return changes.map((c, k) => ({
    line: firstLine + c.aStart,
    oldLines: original.slice(c.aStart, c.aStart + c.aCount),
    newLines: newLines.slice(c.bStart, c.bStart + c.bCount),
    pending: !done && k === changes.length - 1 && c.aCount > 0 && c.aStart + c.aCount === original.length,
  }));
}

/** Longest ghost text shown on one line before it is cut with an ellipsis. */
const GHOST_LIMIT = 160;

function ghost(text: string): string {
  if (!text.trim()) return "(blank line)";
  const visible = text.replace(/\t/g, "    ");
  return visible.length > GHOST_LIMIT ? visible.slice(0, GHOST_LIMIT - 1) + "…" : visible;
}

/**
 * Decorations for `hunks` in a document of `lineCount` lines. Old lines are marked removed (or
 * pending); the new lines are shown as ghost text: paired line by line with the removed ones, and
 * the extra new lines summarised on the hunk's last line ("+3 more lines", full text in the hover).
 * A pure insertion is anchored on the line above it (or the first line).
 */
export function lineDecorations(hunks: readonly LineHunk[], lineCount: number): LineDecoration[] {
  const out: LineDecoration[] = [];
  const last = Math.max(0, lineCount - 1);
  hunks.forEach((hunk, index) => {
    const { oldLines, newLines } = hunk;
    if (oldLines.length > 0) {
      for (let k = 0; k < oldLines.length; k++) {
        const line = Math.min(hunk.line + k, last);
        let after: string | undefined;
        if (!hunk.pending && k < newLines.length) {
          after = `→ ${ghost(newLines[k])}`;
        }
        if (!hunk.pending && k === oldLines.length - 1 && newLines.length > oldLines.length) {
          after = `${after ?? ""}${more(newLines.slice(oldLines.length))}`;
        }
        if (!hunk.pending && newLines.length === 0 && k === 0) {
          after = "✕ removed";
        }
        out.push({ line, kind: hunk.pending ? "pending" : "removed", after, hunk: index });
      }
      return;
    }
    if (newLines.length === 0) {
      return;
    }
    const above = hunk.line > 0;
    const line = Math.min(above ? hunk.line - 1 : 0, last);
    const prefix = above ? "↓ + " : "↑ + ";
    out.push({ line, kind: "anchor", after: `${prefix}${ghost(newLines[0])}${more(newLines.slice(1))}`, hunk: index });
  });
  return out;
}

function more(lines: string[]): string {
  if (lines.length === 0) return "";
  if (lines.length === 1) return `  ⏎ ${ghost(lines[0])}`;
  return `  ⏎ ${ghost(lines[0])}  (+${lines.length - 1} more line${lines.length === 2 ? "" : "s"})`;
}

/** A hunk as a unified-diff snippet (for hovers). */
export function hunkDiff(hunk: LineHunk): string {
  return [...hunk.oldLines.map((l) => `- ${l}`), ...hunk.newLines.map((l) => `+ ${l}`)].join("\n");
}
