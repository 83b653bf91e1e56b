// kimi-lsp.showContext: the kimi/context manifest for the cursor, rendered as a table in a script-free webview panel.

import * as crypto from "node:crypto";
import * as vscode from "vscode";
import type { ClientHost } from "../host/clientHost";
import { focusOf, openDocument, type EditorDefinitions } from "../host/editorDefinitions";
import type { LastEditor } from "../host/lastEditor";
import type { Trust } from "../host/trust";
import { describeError } from "../pure/errors";
import { lineSpan, manifestMarkdown, type Manifest } from "../pure/manifest";
import type { Point } from "../pure/identifiers";
import { renderMarkdown } from "../pure/markdown";

export class ContextView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private markdown = "";

  constructor(
    private readonly host: ClientHost,
    private readonly lastEditor: LastEditor,
    private readonly extensionUri: vscode.Uri,
    private readonly definitions: EditorDefinitions,
    private readonly trust: Trust,
  ) {}

  /** The manifest last shown, as markdown (what the panel renders). */
  text(): string {
    return this.markdown;
  }

  /** Fetch the manifest for the editor's cursor (or selection) and show it; returns the manifest. */
  async show(args?: { purpose?: "chat" | "edit" | "refactor"; uri?: string; position?: { line: number; character: number } }): Promise<Manifest | undefined> {
    if (!this.trust.allows("Show Context")) return undefined;
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
        where += `:${lineSpan({ start: s.start, end: s.end })}`;
      } else {
        where += `:${s.active.line + 1}`;
      }
    }
    const range = params.range as { start: Point; end: Point } | undefined;
    const position = params.position as Point | undefined;
    const focus = range ? { ...focusOf(range), cursor: position ?? range.start } : position ? { cursor: position } : undefined;
    await this.definitions.attach("kimi/context", params, openDocument(uri), focus);
    let manifest: Manifest;
    try {
      const client = await this.host.running();
      manifest = (await client.sendRequest("kimi/context", params)) as Manifest;
    } catch (error) {
      void vscode.window.showErrorMessage(`Kimi context: ${describeError(error).text}`);
      return undefined;
    }
    const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString());
    this.markdown = manifestMarkdown(manifest, where, roots);
    this.render(purpose);
    return manifest;
  }

  private render(purpose: string): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel("kimi-lsp.context", "Kimi Context", { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: false,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, "media")],
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    const webview = this.panel.webview;
    this.panel.title = `Kimi Context (${purpose})`;
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "media", "chat.css"));
    const nonce = crypto.randomBytes(16).toString("base64");
    webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'nonce-${nonce}';">
<link rel="stylesheet" href="${style}"><title>Kimi Context</title></head>
<body class="document"><div class="content">${renderMarkdown(this.markdown).html}</div></body></html>`;
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
