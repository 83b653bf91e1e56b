// Reviewing a proposal: accept or reject hunks (kimi/acceptEdit, kimi/rejectEdit), by index or at the cursor.

import * as vscode from "vscode";
import type { ClientHost } from "../host/clientHost";
import type { LastEditor } from "../host/lastEditor";
import { type EditOutcome, serverForgot } from "../pure/editCodes";
import { describeError } from "../pure/errors";
import type { Hunk, PendingEdit } from "../pure/hunks";
import type { InlineEdits } from "./inlineEdits";
import type { Session } from "./session";

export class EditReview {
  constructor(
    private readonly edits: InlineEdits,
    private readonly host: ClientHost,
    private readonly lastEditor: LastEditor,
  ) {}

  /** The session for an explicit editId, else for the active editor (or the only one). */
  private target(editId?: string): Session | undefined {
    if (editId) return [...this.edits.sessions.values()].find((s) => s.editId === editId);
    const editor = this.lastEditor.get();
    const session = editor ? this.edits.sessions.get(editor.document.uri.toString()) : undefined;
    if (session) return session;
    return this.edits.sessions.size === 1 ? [...this.edits.sessions.values()][0] : undefined;
  }

  /** The offered hunk nearest the cursor of the editor showing the session. */
  private hunkAtCursor(session: Session): Hunk | undefined {
    const offered = session.pending?.offered() ?? [];
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === session.document);
    if (!editor) return offered[0];
    const line = editor.selection.active.line;
    let best: Hunk | undefined;
    let distance = Infinity;
    for (const hunk of offered) {
      const d = line < hunk.range.start.line ? hunk.range.start.line - line : line > hunk.range.end.line ? line - hunk.range.end.line : 0;
      if (d < distance) {
        best = hunk;
        distance = d;
      }
    }
    return best;
  }

  private ready(editId?: string): Session | undefined {
    const session = this.target(editId);
    if (!session) {
      void vscode.window.showWarningMessage("Kimi: there is no proposal to accept or reject here.");
      return undefined;
    }
    if (!session.pending) {
      void vscode.window.showWarningMessage("Kimi is still writing: wait for the proposal, or Reject All to stop it.");
      return undefined;
    }
    return session;
  }

  async acceptHunk(editId?: string, index?: number): Promise<boolean> {
    const session = this.ready(editId);
    if (!session?.pending) return false;
    const hunk = index !== undefined ? session.pending.hunk(index) : this.hunkAtCursor(session);
    if (!hunk || hunk.state !== "offered") return false;
    return this.accept(session, [hunk.index]);
  }

  async acceptAll(editId?: string): Promise<boolean> {
    const session = this.ready(editId);
    if (!session?.pending) return false;
    return this.accept(session, session.pending.offered().map((h) => h.index));
  }

  private async accept(session: Session, indices: number[]): Promise<boolean> {
    const pending = session.pending as PendingEdit;
    const started = pending.beginAccept(indices);
    if (started.length === 0) return false;
    session.accepting++;
    this.edits.draw(session);
    this.edits.changed();
    let applied = false;
    let reason: string | undefined;
    let forgotten = false;
    try {
      if (session.orphaned) {
        applied = await this.applyLocally(session, started);
        if (!applied) reason = "VS Code refused the change";
      } else {
        const client = await this.host.running();
        const result = (await client.sendRequest("kimi/acceptEdit", { editId: pending.editId, hunks: started })) as
          | EditOutcome
          | undefined;
        applied = !!result?.applied;
        reason = result?.reason;
        forgotten = serverForgot(result);
        if (forgotten && session.orphaned) {
          applied = await this.applyLocally(session, started);
        }
      }
    } catch (error) {
      reason = describeError(error).text;
    } finally {
      session.accepting--;
    }
    pending.finishAccept(started, applied);
    if (!applied) {
      void vscode.window.showWarningMessage(`Kimi: not applied — ${reason ?? "the edit was refused"}`);
      if (forgotten) {
        this.edits.end(session.uri);
        return false;
      }
    }
    await this.settleIfDone(session);
    if (this.edits.sessions.get(session.uri) === session) {
      this.edits.draw(session);
      this.edits.changed();
    }
    return applied;
  }

  async rejectHunk(editId?: string, index?: number): Promise<boolean> {
    const session = this.ready(editId);
    if (!session?.pending) return false;
    const hunk = index !== undefined ? session.pending.hunk(index) : this.hunkAtCursor(session);
    if (!hunk || !session.pending.rejectLocally(hunk.index)) return false;
    await this.settleIfDone(session);
    if (this.edits.sessions.get(session.uri) === session) {
      this.edits.draw(session);
      this.edits.changed();
    }
    return true;
  }

  /** Apply hunks from their tracked ranges (one undo step), for an edit the server no longer holds. */
  private async applyLocally(session: Session, indices: number[]): Promise<boolean> {
    const pending = session.pending as PendingEdit;
    const edit = new vscode.WorkspaceEdit();
    for (const index of indices) {
      const hunk = pending.hunk(index);
      if (!hunk || hunk.touched) return false;
      const r = hunk.range;
      edit.replace(session.document.uri, new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character), hunk.newText);
    }
    return vscode.workspace.applyEdit(edit);
  }

  /** Nothing left to offer: end the session, telling the server about hunks nobody accepted. */
  private async settleIfDone(session: Session): Promise<void> {
    const pending = session.pending;
    if (!pending || !pending.settled()) return;
    this.edits.end(session.uri);
    if (pending.serverStillPending() && !session.orphaned) await this.edits.sendReject(pending.editId);
  }

  /** Reject the whole proposal, or stop it while the model is still writing. */
  async rejectAll(editId?: string): Promise<void> {
    const session = this.target(editId);
    if (!session) {
      void vscode.window.showWarningMessage("Kimi: there is no proposal here.");
      return;
    }
    await this.edits.discard(session);
  }

}
