// kimi-lsp.showContext: the kimi/context manifest for the cursor, as a markdown document opened in the preview.

import * as vscode from "vscode";
import type { ClientHost } from "../host/clientHost";
import type { LastEditor } from "../host/lastEditor";
import { describeError } from "../pure/errors";
import { manifestMarkdown, type Manifest } from "../pure/manifest";

export const CONTEXT_SCHEME = "kimi-lsp-context";

export class ContextView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly host: ClientHost,
    private readonly lastEditor: LastEditor,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(CONTEXT_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "# Kimi context\n\nRun **Kimi: Show Context** again.\n";
  }

  /** Fetch the manifest for the editor's cursor (or selection) and show it; returns the manifest. */
  async show(args?: { purpose?: "chat" | "edit" | "refactor"; uri?: string; position?: { line: number; character: number } }): Promise<Manifest | undefined> {
    const editor = this.lastEditor.get();
    const uri = args?.uri ?? editor?.document.uri.toString();
    if (!uri) {
      void vscode.window.showWarningMessage("Kimi: open a file to see what a request about it would send.");
      return undefined;
    }
    const purpose = args?.purpose ?? "chat";
    const params: Record<string, unknown> = { textDocument: { uri }, purpose };
    let where = vscode.workspace.asRelativePath(vscode.Uri.parse(uri));
    if (args?.position) {
      params.position = args.position;
      where += `:${args.position.line + 1}`;
    } else if (editor && editor.document.uri.toString() === uri) {
      const s = editor.selection;
      params.position = { line: s.active.line, character: s.active.character };
      if (!s.isEmpty) {
        params.range = { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } };
        where += `:${s.start.line + 1}-${s.end.line + 1}`;
      } else {
        where += `:${s.active.line + 1}`;
      }
    }
    let manifest: Manifest;
    try {
      const client = await this.host.running();
      manifest = (await client.sendRequest("kimi/context", params)) as Manifest;
    } catch (error) {
      void vscode.window.showErrorMessage(`Kimi context: ${describeError(error).text}`);
      return undefined;
    }
    const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString());
    const doc = vscode.Uri.from({ scheme: CONTEXT_SCHEME, path: `/Kimi context (${purpose}).md` });
    this.contents.set(doc.toString(), manifestMarkdown(manifest, `\`${where}\``, roots));
    this.emitter.fire(doc);
    try {
      await vscode.commands.executeCommand("markdown.showPreview", doc);
    } catch {
      const text = await vscode.workspace.openTextDocument(doc);
      await vscode.window.showTextDocument(text, { preview: true });
    }
    return manifest;
  }

  dispose(): void {
    this.registration.dispose();
    this.emitter.dispose();
  }
}
