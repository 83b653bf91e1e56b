// Draws a proposed edit in the editor: removed lines in red, proposed lines as ghost text, a hover with each hunk's diff.

import * as vscode from "vscode";
import { hunkDiff, lineDecorations, type LineHunk } from "../pure/previewDiff";

/** What was last drawn in a document (for the test API): lines, and the text shown after them. */
export interface DrawnDecorations {
  removed: number[];
  pending: number[];
  ghost: { line: number; text: string }[];
  labels: { line: number; text: string }[];
}

export class EditDecorations implements vscode.Disposable {
  /** By document URI; an entry goes when its drawing is cleared. */
  private readonly drawn = new Map<string, DrawnDecorations>();
  private readonly removed = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("diffEditor.removedLineBackground"),
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.deletedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly pending = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("editor.inactiveSelectionBackground"),
    opacity: "0.7",
  });
  private readonly ghost = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor("editor.foreground"),
      backgroundColor: new vscode.ThemeColor("diffEditor.insertedLineBackground"),
      margin: "0 0 0 2em",
      fontStyle: "italic",
    },
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.addedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly label = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 2em", fontStyle: "italic" },
  });

  /** Draw `hunks` in every editor showing `document`; `label` (optional) goes on `labelLine`. */
  draw(document: vscode.TextDocument, hunks: readonly LineHunk[], label?: { line: number; text: string }): void {
    const removed: vscode.DecorationOptions[] = [];
    const pending: vscode.DecorationOptions[] = [];
    const ghost: vscode.DecorationOptions[] = [];
    const hovers = hunks.map((hunk) => {
      const hover = new vscode.MarkdownString();
      hover.appendMarkdown("**Kimi proposal**\n");
      hover.appendCodeblock(hunkDiff(hunk), "diff");
      return hover;
    });
    for (const d of lineDecorations(hunks, document.lineCount)) {
      if (d.line >= document.lineCount) continue;
      const line = document.lineAt(d.line);
      const range = new vscode.Range(d.line, 0, d.line, line.text.length);
      const hoverMessage = hovers[d.hunk];
      if (d.kind === "removed") removed.push({ range, hoverMessage });
      if (d.kind === "pending") pending.push({ range, hoverMessage: "Kimi has not written this part yet" });
      if (d.after) ghost.push({ range: new vscode.Range(d.line, line.text.length, d.line, line.text.length), hoverMessage, renderOptions: { after: { contentText: d.after } } });
    }
    const labels: vscode.DecorationOptions[] = [];
    if (label && label.line < document.lineCount) {
      const end = document.lineAt(label.line).text.length;
      labels.push({ range: new vscode.Range(label.line, end, label.line, end), renderOptions: { after: { contentText: label.text } } });
    }
    const text = (o: vscode.DecorationOptions) => String(o.renderOptions?.after?.contentText ?? "");
    const drawn: DrawnDecorations = {
      removed: removed.map((o) => o.range.start.line),
      pending: pending.map((o) => o.range.start.line),
      ghost: ghost.map((o) => ({ line: o.range.start.line, text: text(o) })),
      labels: labels.map((o) => ({ line: o.range.start.line, text: text(o) })),
    };
    const key = document.uri.toString();
    if (removed.length + pending.length + ghost.length + labels.length === 0) this.drawn.delete(key);
    else this.drawn.set(key, drawn);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== document) continue;
      editor.setDecorations(this.removed, removed);
      editor.setDecorations(this.pending, pending);
      editor.setDecorations(this.ghost, ghost);
      editor.setDecorations(this.label, labels);
    }
  }

  /** What is drawn in the document `uri` now (nothing: undefined). */
  drawnIn(uri: string): DrawnDecorations | undefined {
    const d = this.drawn.get(uri);
    return d && { removed: [...d.removed], pending: [...d.pending], ghost: d.ghost.map((g) => ({ ...g })), labels: d.labels.map((l) => ({ ...l })) };
  }

  clear(document: vscode.TextDocument): void {
    this.draw(document, []);
  }

  dispose(): void {
    this.removed.dispose();
    this.pending.dispose();
    this.ghost.dispose();
    this.label.dispose();
  }
}
