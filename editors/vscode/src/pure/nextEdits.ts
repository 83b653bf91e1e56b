// Next-edit suggestions without VS Code: which one is nearest, which comes next, and moving the rest past an accepted one.

export interface Pos {
  line: number;
  character: number;
}

export interface Span {
  start: Pos;
  end: Pos;
}

/** One suggestion of `kimi/nextEdit`, with the document version its range belongs to. */
export interface NextEdit {
  id: string;
  text: string;
  range: Span;
  version: number;
}

export function compare(a: Pos, b: Pos): number {
  return a.line - b.line || a.character - b.character;
}

/** The suggestions of a `kimi/nextEdit` result that are well formed, for `version`, sorted, never overlapping. */
export function fromWire(result: unknown, uri: string, version: number): NextEdit[] {
  const raw = result && typeof result === "object" ? (result as { edits?: unknown }).edits : undefined;
  if (!Array.isArray(raw)) return [];
  const edits: NextEdit[] = [];
  for (const e of raw) {
    if (!e || typeof e !== "object") continue;
    const { id, text, range, textDocument } = e as Record<string, any>;
    if (typeof id !== "string" || typeof text !== "string" || !isSpan(range)) continue;
    // An edit for another document or version is dropped: its range would land in the wrong text.
    if (textDocument && (!sameUri(textDocument.uri, uri) || textDocument.version !== version)) continue;
    edits.push({ id, text, range: { start: { ...range.start }, end: { ...range.end } }, version });
  }
  edits.sort((a, b) => compare(a.range.start, b.range.start));
  return edits.filter((e, i) => i === 0 || compare(edits[i - 1].range.end, e.range.start) <= 0);
}

/** URIs compared as the same document even when one side percent-encodes differently. */
function sameUri(a: unknown, b: string): boolean {
  if (a === undefined) return true;
  if (typeof a !== "string") return false;
  const plain = (u: string) => {
    try {
      return decodeURIComponent(u);
    } catch {
      return u;
    }
  };
  return plain(a) === plain(b);
}

function isPos(p: any): p is Pos {
  return p && Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.character >= 0;
}

function isSpan(r: any): r is Span {
  return r && isPos(r.start) && isPos(r.end) && compare(r.start, r.end) <= 0;
}

/** Lines between `pos` and the span (0 when on one of its lines), then characters, for picking the nearest. */
function distance(span: Span, pos: Pos): [number, number] {
  if (compare(pos, span.start) < 0) {
    return [span.start.line - pos.line, span.start.line === pos.line ? span.start.character - pos.character : 0];
  }
  if (compare(pos, span.end) > 0) {
    return [pos.line - span.end.line, pos.line === span.end.line ? pos.character - span.end.character : 0];
  }
  return [0, 0];
}

/** The suggestion nearest the cursor (the one Tab accepts). */
export function nearest(edits: readonly NextEdit[], pos: Pos): NextEdit | undefined {
  let best: NextEdit | undefined;
  let bestDistance: [number, number] = [Infinity, Infinity];
  for (const edit of edits) {
    const d = distance(edit.range, pos);
    if (d[0] < bestDistance[0] || (d[0] === bestDistance[0] && d[1] < bestDistance[1])) {
      best = edit;
      bestDistance = d;
    }
  }
  return best;
}

/** The first suggestion starting after the cursor, else the first one (the jump wraps around). */
export function following(edits: readonly NextEdit[], pos: Pos): NextEdit | undefined {
  const sorted = [...edits].sort((a, b) => compare(a.range.start, b.range.start));
  return sorted.find((e) => compare(e.range.start, pos) > 0) ?? sorted[0];
}

/** Where `pos` ends up once `range` was replaced by `text` (positions before it stay). */
export function shift(pos: Pos, range: Span, text: string): Pos {
  if (compare(pos, range.end) < 0) return { ...pos };
  const lines = text.split("\n");
  const added = lines.length - 1;
  const endLine = range.start.line + added;
  const endChar = added === 0 ? range.start.character + text.length : lines[lines.length - 1].length;
  if (pos.line === range.end.line) {
    return { line: endLine, character: endChar + (pos.character - range.end.character) };
  }
  return { line: pos.line + endLine - range.end.line, character: pos.character };
}

/**
 * The other suggestions once `applied` was accepted (which made the document `version`): their
 * ranges moved past its text, so that they can be accepted next, hunk by hunk.
 */
export function rebase(edits: readonly NextEdit[], applied: NextEdit, version: number): NextEdit[] {
  return edits
    .filter((e) => e.id !== applied.id)
    .map((e) => ({
      ...e,
      version,
      range: { start: shift(e.range.start, applied.range, applied.text), end: shift(e.range.end, applied.range, applied.text) },
    }));
}

/** The inserted text as one line for an after-decoration (newlines shown as ⏎), cut to `max` characters. */
export function insertedLabel(text: string, max = 80): string {
  const one = text.replace(/\r?\n/g, "⏎");
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/**
 * Whether a document change looks like typing (one change within a line, at most a newline
 * added): only that asks for next edits by itself. A whole-file replacement (a reload, an
 * accepted inline edit, a formatter) or a multi-cursor edit is not where the user is heading.
 */
export function typingLike(changes: readonly { range: Span; text: string }[]): boolean {
  if (changes.length !== 1) return false;
  const [change] = changes;
  const newlines = change.text.split("\n").length - 1;
  return change.range.start.line === change.range.end.line && newlines <= 1 && change.text.length <= 200;
}
