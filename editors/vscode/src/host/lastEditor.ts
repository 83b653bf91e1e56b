// Remembers the last focused text editor, so views (the chat) act on it even while they have the focus.

import * as vscode from "vscode";

export class LastEditor implements vscode.Disposable {
  private editor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly subscription = vscode.window.onDidChangeActiveTextEditor((editor) => {
    if (editor && editor.document.uri.scheme !== "output") this.editor = editor;
  });

  /** The active text editor, else the last one still visible or open. */
  get(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active && active.document.uri.scheme !== "output") return active;
    const last = this.editor;
    if (!last || last.document.isClosed) return undefined;
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === last.document);
    return visible ?? last;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
