// Inline edits in preview: kimi/inlineEdit streamed as a live diff, the proposal's hunks drawn and kept in step with the document.

import * as vscode from "vscode";
import type { Activity } from "../host/activity";
import type { ClientHost } from "../host/clientHost";
import { editorFocus, focusOf, type EditorDefinitions } from "../host/editorDefinitions";
import type { LastEditor } from "../host/lastEditor";
import type { Trust } from "../host/trust";
import type { EditOutcome } from "../pure/editCodes";
import { describeError } from "../pure/errors";
import { PendingEdit, lineHunk, movePosition, type Hunk, type Range as PlainRange } from "../pure/hunks";
import { streamHunks, type LineHunk } from "../pure/previewDiff";
import { EditDecorations, type DrawnDecorations } from "./editDecorations";
import { plain, toChanges, wholeLines, type EditResult, type Session } from "./session";

export class InlineEdits implements vscode.Disposable {
  /** By document URI; shared with EditReview. */
  readonly sessions = new Map<string, Session>();
  private readonly decorations = new EditDecorations();
  private readonly changedEmitter = new vscode.EventEmitter<void>();
  /** Fires when a session starts, changes or ends (CodeLenses, context keys). */
  readonly onDidChange = this.changedEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly host: ClientHost,
    private readonly activity: Activity,
    private readonly lastEditor: LastEditor,
    private readonly definitions: EditorDefinitions,
    private readonly trust: Trust,
  ) {
    this.disposables.push(
      this.decorations,
      this.changedEmitter,
      host.onNotification("kimi/editPreview", (p) => this.onPreview(p)),
      host.onNotification("kimi/editDropped", (p) => this.onDropped(p)),
      vscode.workspace.onDidChangeTextDocument((e) => this.onDocumentChanged(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.end(d.uri.toString())),
      vscode.window.onDidChangeVisibleTextEditors(() => this.redrawAll()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContext()),
      vscode.window.onDidChangeTextEditorSelection(() => this.updateContext()),
      host.onDidChangeState((state) => {
        if (state !== "running") for (const uri of [...this.sessions.keys()]) this.end(uri);
      }),
    );
    this.updateContext();
  }

  /** Sessions with a result (for the test API and the CodeLenses). */
  pendingEdits(): { editId: string; uri: string; hunks: Hunk[] }[] {
    const out: { editId: string; uri: string; hunks: Hunk[] }[] = [];
    for (const session of this.sessions.values()) {
      if (session.pending) out.push({ editId: session.pending.editId, uri: session.uri, hunks: session.pending.offered() });
    }
    return out;
  }

  /** The preview's decorations drawn in the document `uri` (for the test API). */
  decorationsIn(uri: string): DrawnDecorations | undefined {
    return this.decorations.drawnIn(uri);
  }

  sessionFor(uri: string): { editId?: string; streaming: boolean; hunks: Hunk[] } | undefined {
    const s = this.sessions.get(uri);
    if (!s) return undefined;
    return { editId: s.editId, streaming: !s.pending, hunks: s.pending?.offered() ?? [] };
  }

  /** kimi-lsp.editSelection: ask for an instruction, then edit the selected lines (or the cursor's line). */
  async editSelection(arg?: { instruction?: string; uri?: string; range?: PlainRange }): Promise<void> {
    if (!this.trust.allows("Inline edit")) return;
    let document: vscode.TextDocument | undefined;
    let range: vscode.Range;
    if (arg?.uri && arg.range) {
      document = await vscode.workspace.openTextDocument(vscode.Uri.parse(arg.uri));
      const r = arg.range;
      range = wholeLines(document, new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character));
    } else {
      const editor = this.lastEditor.get();
      if (!editor) {
        void vscode.window.showWarningMessage("Kimi: open a file and select the lines to edit.");
        return;
      }
      document = editor.document;
      range = wholeLines(document, editor.selection);
    }
    let instruction = arg?.instruction;
    if (instruction === undefined) {
      const lines = range.end.line - range.start.line + (range.end.character > 0 ? 1 : 0);
      instruction = await vscode.window.showInputBox({
        title: "Kimi: Edit Selection",
        prompt: `What should change in ${lines === 1 ? "this line" : `these ${lines} lines`}?`,
        placeHolder: "e.g. add type hints, handle the empty case, translate the comments",
        ignoreFocusOut: true,
      });
    }
    if (!instruction?.trim()) return;
    await this.start(document, range, instruction.trim());
  }

  private async start(document: vscode.TextDocument, range: vscode.Range, instruction: string): Promise<void> {
    const uri = document.uri.toString();
    const previous = this.sessions.get(uri);
    if (previous) await this.discard(previous);
    const original = this.rangeLines(document, range);
    const cancel = new vscode.CancellationTokenSource();
    const session: Session = {
      uri,
      document,
      start: { line: range.start.line, character: 0 },
      original,
      cancel,
      changes: [],
      accepting: 0,
    };
    this.sessions.set(uri, session);
    this.draw(session);
    this.changed();
    const params: Record<string, unknown> = { textDocument: { uri }, range: plain(range), instruction, mode: "preview" };
    try {
      // The user's selection when this editor shows the document, else the lines asked about.
      const focus = editorFocus(this.lastEditor.get(), uri) ?? focusOf(plain(range));
      await this.definitions.attach("kimi/inlineEdit", params, document, focus);
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "Kimi: editing…", cancellable: true },
        async (_progress, token) => {
          token.onCancellationRequested(() => cancel.cancel());
          const client = await this.host.running();
          return (await this.activity.track(
            Promise.resolve(client.sendRequest("kimi/inlineEdit", params, cancel.token)),
          )) as EditResult;
        },
      );
      if (this.sessions.get(uri) !== session) {
        // Stopped or replaced meanwhile: the server may still hold it.
        if (result?.editId) void this.sendReject(result.editId);
        return;
      }
      session.cancel = undefined;
      this.onResult(session, result);
    } catch (error) {
      session.cancel = undefined;
      if (this.sessions.get(uri) === session) this.end(uri);
      const described = describeError(error);
      if (!described.cancelled) void vscode.window.showErrorMessage(`Kimi edit: ${described.text}`);
    } finally {
      cancel.dispose();
    }
  }

  private onResult(session: Session, result: EditResult): void {
    session.editId = result.editId;
    const edits = result.edits ?? [];
    if (edits.length === 0) {
      this.end(session.uri);
      void this.sendReject(result.editId);
      void vscode.window.showInformationMessage("Kimi: the proposal changes nothing.");
      return;
    }
    const pending = new PendingEdit(result.editId, session.uri, edits);
    // The user may have typed while the model wrote: move the hunks along (the server rebases the same way).
    for (const entry of session.changes) {
      if (entry.version > result.version) pending.applyChanges(entry.changes);
    }
    session.changes = [];
    session.pending = pending;
    this.draw(session);
    this.changed();
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === session.document);
    const first = pending.offered()[0];
    if (editor && first) {
      editor.revealRange(new vscode.Range(first.range.start.line, 0, first.range.start.line, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  /** Server commands (code actions) that edit in apply mode and are running now. */
  private watching = 0;

  /** Draw the stream of edits the server applies itself while `work` (a code action's command) runs. */
  async watchApply<T>(work: () => Promise<T>): Promise<T> {
    this.watching++;
    try {
      return await work();
    } finally {
      this.watching--;
      for (const session of [...this.sessions.values()]) if (session.applyMode) this.end(session.uri);
    }
  }

  private watched(params: { uri?: string; range?: PlainRange }): Session | undefined {
    if (this.watching === 0 || !params.uri || !params.range) return undefined;
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === params.uri);
    if (!document) return undefined;
    const r = params.range;
    const range = new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
    const session: Session = {
      uri: params.uri,
      document,
      start: { line: range.start.line, character: 0 },
      original: this.rangeLines(document, range),
      changes: [],
      accepting: 0,
      applyMode: true,
    };
    this.sessions.set(params.uri, session);
    this.changed();
    return session;
  }

  private onPreview(params: { editId?: string; uri?: string; range?: PlainRange; text?: string }): void {
    const session = params?.uri ? (this.sessions.get(params.uri) ?? this.watched(params)) : undefined;
    if (!session || session.pending || typeof params.text !== "string") return;
    if (session.editId && params.editId !== session.editId) return;
    session.editId = params.editId;
    session.streamText = params.text;
    this.draw(session);
  }

  private onDropped(params: EditOutcome & { editId?: string; uri?: string }): void {
    const session = params?.uri ? this.sessions.get(params.uri) : undefined;
    if (!session || !session.pending || session.pending.editId !== params.editId) return;
    if (session.accepting > 0) {
      // Sent before the answer to our kimi/acceptEdit: the change was the accepted hunk itself.
      session.orphaned = true;
      return;
    }
    this.end(session.uri);
    void vscode.window.showWarningMessage(`Kimi: ${params.reason ?? "the proposal was dropped."}`);
  }

  private onDocumentChanged(event: vscode.TextDocumentChangeEvent): void {
    const session = this.sessions.get(event.document.uri.toString());
    if (!session || event.contentChanges.length === 0) return;
    if (session.applyMode) {
      this.end(session.uri); // the server applied it (or the user typed): nothing more to draw
      return;
    }
    const changes = toChanges(event);
    if (session.pending) {
      const touched = session.pending.applyChanges(changes);
      if (session.orphaned && touched.length > 0 && session.accepting === 0) {
        // The server no longer watches this edit: drop it here, as it would have.
        this.end(session.uri);
        void vscode.window.showWarningMessage("Kimi: you changed the lines of this proposal, so it was dropped.");
        return;
      }
    } else {
      session.changes.push({ version: event.document.version, changes });
      for (const change of changes) session.start = movePosition(session.start, change, true).position;
    }
    this.draw(session);
    this.changed();
  }

  draw(session: Session): void {
    const document = session.document;
    if (session.pending) {
      const lines = this.lines(document);
      const hunks: LineHunk[] = session.pending.offered().map((h) => lineHunk(lines, h));
      this.decorations.draw(document, hunks);
      return;
    }
    const hunks = session.streamText === undefined ? [] : streamHunks(session.start.line, session.original, session.streamText);
    this.decorations.draw(document, hunks, { line: Math.min(session.start.line, document.lineCount - 1), text: "Kimi is writing…" });
  }

  /** The lines a range covers (an end at column 0 belongs to the line before). */
  private rangeLines(document: vscode.TextDocument, range: vscode.Range): string[] {
    const lines: string[] = [];
    const last = range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
    for (let line = range.start.line; line <= Math.min(last, document.lineCount - 1); line++) {
      lines.push(document.lineAt(line).text);
    }
    return lines;
  }

  private lines(document: vscode.TextDocument): string[] {
    const lines: string[] = [];
    for (let i = 0; i < document.lineCount; i++) lines.push(document.lineAt(i).text);
    return lines;
  }

  private redrawAll(): void {
    for (const session of this.sessions.values()) this.draw(session);
  }

  /** Forget the session of `uri` and erase its drawing (the server is told separately). */
  end(uri: string): void {
    const session = this.sessions.get(uri);
    if (!session) return;
    this.sessions.delete(uri);
    session.cancel?.cancel();
    this.decorations.clear(session.document);
    this.changed();
  }

  changed(): void {
    this.changedEmitter.fire();
    this.updateContext();
  }

  private updateContext(): void {
    const editor = vscode.window.activeTextEditor;
    const session = editor ? this.sessions.get(editor.document.uri.toString()) : undefined;
    void vscode.commands.executeCommand("setContext", "kimi.hasPendingEdit", !!session?.pending && session.pending.offered().length > 0);
    void vscode.commands.executeCommand("setContext", "kimi.editStreaming", !!session && !session.pending);
  }

  async sendReject(editId: string): Promise<void> {
    try {
      const client = await this.host.running();
      await client.sendRequest("kimi/rejectEdit", { editId });
    } catch {
      // The server forgets pending edits on its own after a while.
    }
  }

  /** Drop a session: stop the request if the model is still writing, else tell the server. */
  async discard(session: Session): Promise<void> {
    const editId = session.pending?.editId ?? session.editId;
    const streaming = !session.pending;
    this.end(session.uri);
    if (!streaming && editId && !session.orphaned) await this.sendReject(editId);
  }

  /** The document text with every offered hunk applied (for the diff view). */
  proposedText(uri: string): string | undefined {
    const session = this.sessions.get(uri);
    if (!session?.pending) return undefined;
    const document = session.document;
    let text = document.getText();
    const hunks = [...session.pending.offered()].sort(
      (a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character,
    );
    for (const h of hunks) {
      const start = document.offsetAt(new vscode.Position(h.range.start.line, h.range.start.character));
      const end = document.offsetAt(new vscode.Position(h.range.end.line, h.range.end.character));
      text = text.slice(0, start) + h.newText + text.slice(end);
    }
    return text;
  }

  dispose(): void {
    for (const uri of [...this.sessions.keys()]) this.end(uri);
    this.disposables.forEach((d) => d.dispose());
  }
}
