// Next-edit suggestions: kimi/nextEdit after a typing pause (or on demand), drawn per hunk; Tab accepts, Esc dismisses, Alt+] jumps.

import * as vscode from "vscode";
import { following, fromWire, nearest, rebase, shift, typingLike, type NextEdit, type Pos } from "../pure/nextEdits";
import type { ClientHost } from "../host/clientHost";
import type { KimiLog } from "../host/outputLog";
import type { Trust } from "../host/trust";
import { NextEditDecorations, type DrawnSuggestion } from "./nextEditDecorations";
import type { PredictionState } from "./predictionState";

export const VISIBLE_CONTEXT = "kimi.nextEditVisible";

type Outcome = "accepted" | "rejected" | "ignored";

export interface NextEditCounts {
  sent: number;
  blocked: number;
  shown: number;
  accepted: number;
  rejected: number;
  ignored: number;
}

interface Shown {
  editor: vscode.TextEditor;
  edits: NextEdit[];
}

function pos(p: vscode.Position): Pos {
  return { line: p.line, character: p.character };
}

function toRange(edit: NextEdit): vscode.Range {
  return new vscode.Range(edit.range.start.line, edit.range.start.character, edit.range.end.line, edit.range.end.character);
}

export class NextEdits implements vscode.Disposable {
  readonly counts: NextEditCounts = { sent: 0, blocked: 0, shown: 0, accepted: 0, rejected: 0, ignored: 0 };
  private readonly decorations = new NextEditDecorations();
  private readonly disposables: vscode.Disposable[] = [];
  private shown: Shown | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;
  /** Set while our own accepted edit changes the document (that change clears nothing). */
  private applying = false;

  constructor(
    private readonly host: ClientHost,
    private readonly state: PredictionState,
    private readonly trust: Trust,
    private readonly log: KimiLog,
  ) {
    this.disposables.push(
      this.decorations,
      vscode.workspace.onDidChangeTextDocument((e) => this.changed(e)),
      vscode.window.onDidChangeActiveTextEditor(() => this.reset("ignored")),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (this.shown && e.textEditor === this.shown.editor) this.redraw();
      }),
      state.onDidChange(() => {
        if (!state.nextEditActive) this.reset("ignored");
      }),
      host.onDidChangeState(() => this.reset(undefined)),
    );
  }

  private changed(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0 || this.applying) return;
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document !== e.document) return;
    // The user typed: what was suggested for the old text goes, a new suggestion follows the pause.
    this.reset("ignored");
    if (!this.state.nextEditActive || !this.trust.trusted || !typingLike(e.contentChanges)) return;
    this.timer = setTimeout(() => void this.request(editor, false), this.state.nextEditPauseMs);
  }

  /** Asks kimi/nextEdit for the editor's document and cursor; shows what comes back. `manual`: the command. */
  async request(editor: vscode.TextEditor | undefined = vscode.window.activeTextEditor, manual = true): Promise<NextEdit[]> {
    if (!editor) return [];
    if (manual && !this.trust.allows("Next-edit suggestions")) return [];
    this.reset("ignored");
    if (!this.state.nextEditActive || !editor.selection.isEmpty || editor.document.isClosed) {
      this.counts.blocked += 1;
      if (manual && !this.state.nextEditActive) void vscode.window.showInformationMessage(`Kimi: edit prediction is ${this.state.mode()} (click the Predict item in the status bar).`);
      return [];
    }
    const client = manual ? await this.host.running() : this.host.client();
    if (!client) return [];
    const document = editor.document;
    const version = document.version;
    const uri = client.code2ProtocolConverter.asUri(document.uri);
    const source = new vscode.CancellationTokenSource();
    this.inFlight = source;
    this.counts.sent += 1;
    let result: unknown;
    try {
      const params = { textDocument: { uri, version }, position: pos(editor.selection.active) };
      result = await client.sendRequest("kimi/nextEdit", params, source.token);
    } catch (error) {
      if (!source.token.isCancellationRequested) this.log.warn(`kimi/nextEdit failed: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    } finally {
      if (this.inFlight === source) this.inFlight = undefined;
      source.dispose();
    }
    // Dropped when the user typed meanwhile or moved to another editor: the ranges are for `version`.
    if (source.token.isCancellationRequested || document.version !== version || vscode.window.activeTextEditor !== editor) return [];
    const edits = fromWire(result, uri, version);
    this.show(editor, edits);
    return edits;
  }

  private show(editor: vscode.TextEditor, edits: NextEdit[]): void {
    if (edits.length === 0) {
      this.reset(undefined);
      return;
    }
    this.counts.shown += edits.length;
    this.shown = { editor, edits };
    this.redraw();
    void vscode.commands.executeCommand("setContext", VISIBLE_CONTEXT, true);
  }

  private redraw(): void {
    if (!this.shown) return;
    const { editor, edits } = this.shown;
    this.decorations.draw(editor, edits, nearest(edits, pos(editor.selection.active)));
  }

  /** Tab: applies the suggestion nearest the cursor if the document is still at its version. */
  async accept(): Promise<boolean> {
    const shown = this.shown;
    const editor = vscode.window.activeTextEditor;
    if (!shown || editor !== shown.editor) return false;
    const edit = nearest(shown.edits, pos(editor.selection.active));
    if (!edit) return false;
    if (editor.document.version !== edit.version) {
      this.reset("ignored");
      return false;
    }
    this.applying = true;
    let applied = false;
    try {
      applied = await editor.edit((b) => b.replace(toRange(edit), edit.text));
    } finally {
      this.applying = false;
    }
    if (!applied) return false;
    this.outcome(edit.id, "accepted");
    const rest = rebase(shown.edits, edit, editor.document.version);
    // The cursor goes after the accepted text, as after typing it.
    const end = shift(edit.range.end, edit.range, edit.text);
    const after = new vscode.Position(end.line, end.character);
    this.shown = rest.length ? { editor, edits: rest } : undefined;
    editor.selection = new vscode.Selection(after, after);
    if (this.shown) this.redraw();
    else this.reset(undefined);
    return true;
  }

  /** Alt+]: moves the cursor to the next suggestion (after the cursor, wrapping around). */
  jump(): boolean {
    const shown = this.shown;
    const editor = vscode.window.activeTextEditor;
    if (!shown || editor !== shown.editor) return false;
    const next = following(shown.edits, pos(editor.selection.active));
    if (!next) return false;
    const at = new vscode.Position(next.range.start.line, next.range.start.character);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(toRange(next), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.redraw();
    return true;
  }

  /** Esc: every suggestion shown is rejected (the server does not suggest them again). */
  dismiss(): void {
    this.reset("rejected");
  }

  /** Clears what is shown (telling the server `outcome` for each), cancels a request and a pending pause. */
  private reset(outcome: Outcome | undefined): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.cancel();
    this.inFlight = undefined;
    const shown = this.shown;
    this.shown = undefined;
    if (!shown) return;
    if (outcome) for (const edit of shown.edits) this.outcome(edit.id, outcome);
    this.decorations.clear(shown.editor);
    void vscode.commands.executeCommand("setContext", VISIBLE_CONTEXT, false);
  }

  private outcome(id: string, outcome: Outcome): void {
    this.counts[outcome] += 1;
    const client = this.host.client();
    void client?.sendNotification("kimi/nextEditOutcome", { id, outcome }).catch(() => undefined);
  }

  /** The suggestions shown now and what is drawn for them (for the test API). */
  visible(): { uri: string; edits: NextEdit[]; drawn: DrawnSuggestion[] } | undefined {
    if (!this.shown) return undefined;
    return { uri: this.shown.editor.document.uri.toString(), edits: this.shown.edits.map((e) => ({ ...e })), drawn: this.decorations.drawn() };
  }

  dispose(): void {
    this.reset(undefined);
    this.disposables.forEach((d) => d.dispose());
  }
}
