// The refactor preview's re-check: which files changed since the server computed the edit (kimi/refactor `bases`).

import { createHash } from "node:crypto";

/** `bases` of a kimi/refactor result: per touched file, the sha256 of the text the edit was computed from (null: the edit creates it). */
export type Bases = Record<string, string | null>;

/** Lowercase hex sha256 of `text` as UTF-8, or of raw bytes. */
export function sha256(text: string | Uint8Array): string {
  return createHash("sha256").update(typeof text === "string" ? Buffer.from(text, "utf8") : text).digest("hex");
}

/** A file's state now: an open document's text, the bytes on disk, or `null` when it does not exist. */
export type Current = string | Uint8Array | null;

/**
 * The files (of `touched`) that moved since the server answered: their current sha256 differs from
 * the base, a file to be created exists now, or a touched file has no base to compare with.
 * `bases` absent (a server from before issue 16) checks nothing.
 */
export async function movedFiles(
  touched: readonly string[],
  bases: Bases | undefined,
  current: (uri: string) => Promise<Current>,
): Promise<string[]> {
  if (!bases) return [];
  const moved: string[] = [];
  for (const uri of touched) {
    if (!Object.prototype.hasOwnProperty.call(bases, uri)) {
      moved.push(uri);
      continue;
    }
    const base = bases[uri];
    const now = await current(uri);
    const same = base === null ? now === null : now !== null && sha256(now) === base.toLowerCase();
    if (!same) moved.push(uri);
  }
  return moved;
}

/** The sentence shown when files moved (nothing was applied). */
export function movedMessage(names: readonly string[]): string {
  const list = names.join(", ");
  const verb = names.length === 1 ? "has changed" : "have changed";
  return `Kimi refactor: nothing applied: ${list} ${verb} since Kimi computed the edit. Run the refactor again.`;
}

/** The files a WorkspaceEdit writes (text edits and created files), each once, in order. */
export function touchedUris(edit: {
  changes?: Record<string, unknown>;
  documentChanges?: readonly unknown[];
}): string[] {
  const seen = new Set<string>(Object.keys(edit.changes ?? {}));
  for (const change of edit.documentChanges ?? []) {
    const c = change as { kind?: string; uri?: string; textDocument?: { uri: string } };
    if (c.textDocument?.uri) seen.add(c.textDocument.uri);
    else if (c.kind === "create" && c.uri) seen.add(c.uri);
  }
  return [...seen];
}
