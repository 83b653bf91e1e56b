// One previewed edit of one document (its state from the request to the last hunk), and range helpers.

import * as vscode from "vscode";
import type { EditOutcome } from "../pure/editCodes";
import type { Change, PendingEdit, Range as PlainRange, TextEdit } from "../pure/hunks";

/** One edit of one document, from the request to the last accepted or rejected hunk. */
export interface Session {
  uri: string;
  document: vscode.TextDocument;
  /** Where the edited range starts now (follows lines added or removed above it). */
  start: { line: number; character: number };
  original: string[];
  editId?: string;
  streamText?: string;
  cancel?: vscode.CancellationTokenSource;
  /** Changes made while the model wrote, by document version: replayed onto the result's hunks. */
  changes: { version: number; changes: Change[] }[];
  pending?: PendingEdit;
  /** An accept is on its way: kimi/editDropped caused by it is not the user's doing. */
  accepting: number;
  /**
   * The server forgot the edit because of our own accept (it can take the change its
   * workspace/applyEdit caused for the user's typing): the rest is applied here, from the
   * hunks' tracked ranges, exactly as the server would have.
   */
  orphaned?: boolean;
  /** Only watched: an edit the server applies itself (a code action's command); no result here. */
  applyMode?: boolean;
}

export interface EditResult extends EditOutcome {
  editId: string;
  uri: string;
  version: number;
  edits: TextEdit[];
}

export function plain(range: vscode.Range): PlainRange {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

export function toChanges(event: vscode.TextDocumentChangeEvent): Change[] {
  return event.contentChanges.map((c) => ({ range: plain(c.range), text: c.text }));
}

/** The whole lines a selection covers: an edit of complete lines diffs and previews cleanly. */
export function wholeLines(document: vscode.TextDocument, selection: vscode.Range): vscode.Range {
  const first = selection.start.line;
  let last = selection.end.line;
  if (selection.end.character === 0 && last > first) last--;
  if (last + 1 < document.lineCount) return new vscode.Range(first, 0, last + 1, 0);
  return new vscode.Range(first, 0, last, document.lineAt(last).text.length);
}
