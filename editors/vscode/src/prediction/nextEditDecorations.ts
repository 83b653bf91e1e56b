// Draws next-edit suggestions like the inline-edit preview: removed text struck through in red, inserted text after it in green, a key hint.

import * as vscode from "vscode";
import { insertedLabel, type NextEdit, type Pos, type Span } from "../pure/nextEdits";

/** What is drawn (for the test API): per suggestion, the struck range and the inserted label. */
export interface DrawnSuggestion {
  id: string;
  removed: Span | undefined;
  inserted: { at: Pos; text: string } | undefined;
}

const HINT = "Tab accept · Alt+] next · Esc dismiss";

export class NextEditDecorations implements vscode.Disposable {
  // The theme colours of the inline-edit preview (src/edit/editDecorations.ts), per character range.
  private readonly removed = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor("diffEditor.removedTextBackground"),
    textDecoration: "line-through",
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.deletedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly inserted = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor("editor.foreground"),
      backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
      fontStyle: "italic",
    },
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.addedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly hint = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 2em", fontStyle: "italic" },
  });
  private drawnNow: DrawnSuggestion[] = [];

  /** Draws `edits` in `editor`; the key hint goes at the end of `focus`'s last line. */
  draw(editor: vscode.TextEditor, edits: readonly NextEdit[], focus: NextEdit | undefined): void {
    const removed: vscode.DecorationOptions[] = [];
    const inserted: vscode.DecorationOptions[] = [];
    this.drawnNow = [];
    for (const edit of edits) {
      const range = new vscode.Range(edit.range.start.line, edit.range.start.character, edit.range.end.line, edit.range.end.character);
      const hoverMessage = new vscode.MarkdownString();
      hoverMessage.appendMarkdown("**Kimi next edit** (Tab accepts the nearest, Esc dismisses)\n");
      hoverMessage.appendCodeblock(edit.text || "(delete)", editor.document.languageId);
      const drawn: DrawnSuggestion = { id: edit.id, removed: undefined, inserted: undefined };
      if (!range.isEmpty) {
        removed.push({ range, hoverMessage });
        drawn.removed = edit.range;
      }
      if (edit.text) {
        const label = insertedLabel(edit.text);
        inserted.push({ range: new vscode.Range(range.end, range.end), hoverMessage, renderOptions: { after: { contentText: label } } });
        drawn.inserted = { at: { ...edit.range.end }, text: label };
      }
      this.drawnNow.push(drawn);
    }
    const hints: vscode.DecorationOptions[] = [];
    if (focus && focus.range.end.line < editor.document.lineCount) {
      const line = editor.document.lineAt(focus.range.end.line);
      hints.push({ range: new vscode.Range(line.range.end, line.range.end), renderOptions: { after: { contentText: HINT } } });
    }
    editor.setDecorations(this.removed, removed);
    editor.setDecorations(this.inserted, inserted);
    editor.setDecorations(this.hint, hints);
  }

  clear(editor: vscode.TextEditor | undefined): void {
    this.drawnNow = [];
    for (const e of editor ? [editor] : vscode.window.visibleTextEditors) {
      e.setDecorations(this.removed, []);
      e.setDecorations(this.inserted, []);
      e.setDecorations(this.hint, []);
    }
  }

  drawn(): DrawnSuggestion[] {
    return this.drawnNow.map((d) => ({ ...d }));
  }

  dispose(): void {
    this.removed.dispose();
    this.inserted.dispose();
    this.hint.dispose();
  }
}
