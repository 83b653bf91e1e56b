// CodeLenses above each proposed hunk (Accept | Reject, and for the whole edit Accept All | Reject All | Diff), plus the diff view's content.

import * as vscode from "vscode";
import type { InlineEdits } from "./inlineEdits";

export const PROPOSAL_SCHEME = "kimi-lsp-proposal";

export class EditLenses implements vscode.CodeLensProvider, vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly lensEmitter = new vscode.EventEmitter<void>();
  private readonly contentEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChangeCodeLenses = this.lensEmitter.event;
  readonly onDidChange = this.contentEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly shownDiffs = new Set<string>();

  constructor(private readonly edits: InlineEdits) {
    this.disposables.push(
      this.lensEmitter,
      this.contentEmitter,
      vscode.languages.registerCodeLensProvider([{ scheme: "file" }, { scheme: "untitled" }], this),
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this),
      edits.onDidChange(() => {
        this.lensEmitter.fire();
        for (const uri of this.shownDiffs) this.contentEmitter.fire(vscode.Uri.parse(uri));
      }),
    );
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const session = this.edits.sessionFor(document.uri.toString());
    if (!session) return [];
    if (session.streaming) return [];
    const lenses: vscode.CodeLens[] = [];
    const total = session.hunks.length;
    session.hunks.forEach((hunk, k) => {
      const line = Math.min(hunk.range.start.line, document.lineCount - 1);
      const range = new vscode.Range(line, 0, line, 0);
      const editId = session.editId;
      lenses.push(
        new vscode.CodeLens(range, { title: `$(check) Accept${total > 1 ? ` ${k + 1}/${total}` : ""}`, command: "kimi-lsp.acceptHunk", arguments: [editId, hunk.index], tooltip: "Accept this change (Ctrl+Alt+Y at the cursor)" }),
        new vscode.CodeLens(range, { title: "$(close) Reject", command: "kimi-lsp.rejectHunk", arguments: [editId, hunk.index], tooltip: "Reject this change (Ctrl+Alt+N at the cursor)" }),
      );
      if (k === 0 && total > 1) {
        lenses.push(
          new vscode.CodeLens(range, { title: "Accept All", command: "kimi-lsp.acceptAll", arguments: [editId], tooltip: "Accept every change (Ctrl+Alt+Shift+Y)" }),
          new vscode.CodeLens(range, { title: "Reject All", command: "kimi-lsp.rejectAll", arguments: [editId], tooltip: "Reject every change (Ctrl+Alt+Shift+N)" }),
        );
      }
      if (k === 0) {
        lenses.push(new vscode.CodeLens(range, { title: "Diff", command: "kimi-lsp.showEditDiff", arguments: [document.uri.toString()], tooltip: "Show the proposal in a diff editor" }));
      }
    });
    return lenses;
  }

  /** The proposed text of a document, for `kimi-lsp-proposal:` URIs (query = the document's URI). */
  provideTextDocumentContent(uri: vscode.Uri): string {
    const source = decodeURIComponent(uri.query);
    return this.edits.proposedText(source) ?? "(no Kimi proposal for this document any more)";
  }

  /** Open VS Code's diff editor: the document on the left, the document with the proposal on the right. */
  async showDiff(documentUri?: string): Promise<void> {
    const source = documentUri ?? vscode.window.activeTextEditor?.document.uri.toString();
    if (!source || this.edits.proposedText(source) === undefined) {
      void vscode.window.showWarningMessage("Kimi: there is no proposal for this document.");
      return;
    }
    const original = vscode.Uri.parse(source);
    const name = original.path.split("/").pop() ?? "document";
    const proposal = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/${name}`, query: encodeURIComponent(source) });
    this.shownDiffs.add(proposal.toString());
    await vscode.commands.executeCommand("vscode.diff", original, proposal, `${name} ↔ Kimi proposal`, { preview: true });
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
