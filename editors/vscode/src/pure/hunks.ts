// Bookkeeping of a previewed edit: its hunks under their original indices, moved along with the document's changes.

import { splitLines } from "./lineDiff";
import type { LineHunk } from "./previewDiff";
import type { Position, Range } from "./wire";

export type { Position, Range };

export interface TextEdit {
  range: Range;
  newText: string;
}
/** A document change as VS Code reports it (range in the text before the change). */
export interface Change {
  range: Range;
  text: string;
}

export type HunkState = "offered" | "accepting" | "accepted" | "rejected";

export interface Hunk {
  /** Index into the result's `edits`: what kimi/acceptEdit's `hunks` refers to, forever. */
  index: number;
  /** Where the hunk is in the document now. */
  range: Range;
  newText: string;
  state: HunkState;
  /** The user changed text inside it (the server drops the edit and says so with kimi/editDropped). */
  touched: boolean;
}

function compare(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

/** Where the inserted text of `change` ends. */
function insertedEnd(change: Change): Position {
  const lines = change.text.split(/\r\n|\r|\n/);
  const start = change.range.start;
  if (lines.length === 1) {
    return { line: start.line, character: start.character + lines[0].length };
  }
  return { line: start.line + lines.length - 1, character: lines[lines.length - 1].length };
}

/**
 * `p` after `change`. `stickToEnd`: an insertion exactly at `p` goes before it (p moves right),
 * as for a range's start; otherwise the insertion goes after it, as for a range's end.
 */
export function movePosition(p: Position, change: Change, stickToEnd: boolean): { position: Position; inside: boolean } {
  const { start, end } = change.range;
  const atInsertion = compare(start, end) === 0 && compare(p, start) === 0;
  if (compare(p, start) < 0 || (atInsertion && !stickToEnd) || (compare(p, start) === 0 && !atInsertion)) {
    return { position: p, inside: false };
  }
  const newEnd = insertedEnd(change);
  if (compare(p, end) >= 0) {
    if (p.line === end.line) {
      return { position: { line: newEnd.line, character: newEnd.character + (p.character - end.character) }, inside: false };
    }
    return { position: { line: p.line + (newEnd.line - end.line), character: p.character }, inside: false };
  }
  return { position: stickToEnd ? newEnd : start, inside: true };
}

/** `range` after `change`, and whether the change reached into it. */
export function moveRange(range: Range, change: Change): { range: Range; touched: boolean } {
  const s = movePosition(range.start, change, true);
  let e = movePosition(range.end, change, false);
  const empty = compare(range.start, range.end) === 0;
  if (empty) {
    e = { position: s.position, inside: s.inside };
  } else if (compare(e.position, s.position) < 0) {
    e = { position: s.position, inside: true };
  }
  const { start, end } = change.range;
  // A change strictly inside the range, or one replacing text across a boundary, touches it.
  const overlaps = compare(start, range.end) < 0 && compare(end, range.start) > 0;
  return { range: { start: s.position, end: e.position }, touched: s.inside || e.inside || overlaps };
}

/** A previewed edit: the result of kimi/inlineEdit in preview mode, as hunks that follow the text. */
export class PendingEdit {
  readonly hunks: Hunk[];

  constructor(
    readonly editId: string,
    readonly uri: string,
    edits: readonly TextEdit[],
  ) {
    this.hunks = edits.map((edit, index) => ({
      index,
      range: { start: { ...edit.range.start }, end: { ...edit.range.end } },
      newText: edit.newText,
      state: "offered",
      touched: false,
    }));
  }

  /** Hunks still offered to the user, in document order. */
  offered(): Hunk[] {
    return this.hunks.filter((h) => h.state === "offered").sort((a, b) => compare(a.range.start, b.range.start));
  }

  hunk(index: number): Hunk | undefined {
    return this.hunks.find((h) => h.index === index);
  }

  /**
   * Follow document changes (given in the order VS Code reports them). Returns the indices of
   * offered hunks the changes reached into. Hunks being accepted are not followed: the change is
   * (most likely) their own application.
   */
  applyChanges(changes: readonly Change[]): number[] {
    const touched: number[] = [];
    for (const hunk of this.hunks) {
      if (hunk.state !== "offered") continue;
      for (const change of changes) {
        const moved = moveRange(hunk.range, change);
        hunk.range = moved.range;
        if (moved.touched && !hunk.touched) {
          hunk.touched = true;
          touched.push(hunk.index);
        }
      }
    }
    return touched;
  }

  /** Mark `indices` as on their way to the server; returns those that were offered. */
  beginAccept(indices: readonly number[]): number[] {
    const started: number[] = [];
    for (const index of indices) {
      const hunk = this.hunk(index);
      if (hunk && hunk.state === "offered") {
        hunk.state = "accepting";
        started.push(index);
      }
    }
    return started;
  }

  /** The server answered kimi/acceptEdit: applied, or not (the hunks are offered again). */
  finishAccept(indices: readonly number[], applied: boolean): void {
    for (const index of indices) {
      const hunk = this.hunk(index);
      if (hunk && hunk.state === "accepting") {
        hunk.state = applied ? "accepted" : "offered";
      }
    }
  }

  /** Stop offering one hunk (the server keeps it pending until the whole edit is settled). */
  rejectLocally(index: number): boolean {
    const hunk = this.hunk(index);
    if (!hunk || hunk.state !== "offered") return false;
    hunk.state = "rejected";
    return true;
  }

  /** Nothing is offered or on its way any more. */
  settled(): boolean {
    return this.hunks.every((h) => h.state === "accepted" || h.state === "rejected");
  }

  /** The server still holds hunks nobody accepted: it must be told with kimi/rejectEdit. */
  serverStillPending(): boolean {
    return this.hunks.some((h) => h.state !== "accepted");
  }
}

/**
 * One TextEdit as a whole-line hunk against the document's `lines`: the lines it touches before
 * and after, with the lines that stay the same trimmed off both ends.
 */
export function lineHunk(lines: readonly string[], edit: TextEdit): LineHunk {
  const { start, end } = edit.range;
  const count = lines.length;
  let old: string[] = [];
  let block = "";
  let startOffset = 0;
  let endOffset = 0;
  if (start.line < count) {
    const last = Math.min(end.line, count - 1);
    old = lines.slice(start.line, last + 1);
    block = old.join("\n") + "\n";
    startOffset = Math.min(start.character, old[0].length);
    if (end.line >= count) {
      endOffset = block.length;
    } else {
      endOffset = block.length - old[old.length - 1].length - 1 + Math.min(end.character, old[old.length - 1].length);
    }
  }
  const next = splitLines(block.slice(0, startOffset) + edit.newText + block.slice(endOffset));
  let head = 0;
  while (head < old.length && head < next.length && old[head] === next[head]) head++;
  let tail = 0;
  while (tail < old.length - head && tail < next.length - head && old[old.length - 1 - tail] === next[next.length - 1 - tail]) tail++;
  return {
    line: Math.min(start.line, count) + head,
    oldLines: old.slice(head, old.length - tail),
    newLines: next.slice(head, next.length - tail),
  };
}
