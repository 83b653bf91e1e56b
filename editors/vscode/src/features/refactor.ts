// kimi-lsp.refactor: kimi/refactor in preview mode with progress, then the WorkspaceEdit through VS Code's refactor preview.

import * as vscode from "vscode";
import type { WorkspaceEdit as ProtocolWorkspaceEdit } from "vscode-languageclient/node";
import type { Activity } from "../host/activity";
import type { ClientHost } from "../host/clientHost";
import { focusOf, type EditorDefinitions } from "../host/editorDefinitions";
import type { LastEditor } from "../host/lastEditor";
import type { Trust } from "../host/trust";
import { movedFiles, movedMessage, touchedUris, type Bases, type Current } from "../pure/bases";
import { describeError } from "../pure/errors";
import { usageLine, type Usage } from "../pure/format";

interface RefactorResult {
  refactorId: string;
  edit: ProtocolWorkspaceEdit;
  files: string[];
  summary: string;
  usage?: Usage;
  applied?: boolean;
  /** Per touched file, the sha256 of the text the edit was computed from (null: created). */
  bases?: Bases;
}

export interface RefactorArgs {
  instruction?: string;
  scope?: { uris?: string[]; glob?: string };
  /** Apply without VS Code's refactor preview (for scripts and tests). */
  apply?: boolean;
}

/** The change annotation of edits to editor or CI configuration (files that can run commands). */
const CONFIG_ANNOTATION = "kimiRefactorConfig";

/** Drop needsConfirmation from the edit's change annotations (the preview is skipped). */
function confirmed(edit: ProtocolWorkspaceEdit): ProtocolWorkspaceEdit {
  if (!edit.changeAnnotations) return edit;
  const annotations = Object.fromEntries(
    Object.entries(edit.changeAnnotations).map(([id, a]) => [id, { ...a, needsConfirmation: false }]),
  );
  return { ...edit, changeAnnotations: annotations };
}

/** A file's state now: the open document's text (what the server holds), else its bytes on disk. */
async function currentState(uri: string): Promise<Current> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
  if (open) return open.getText();
  try {
    return await vscode.workspace.fs.readFile(vscode.Uri.parse(uri));
  } catch (error) {
    if (error instanceof vscode.FileSystemError && error.code === "FileNotFound") return null;
    throw error;
  }
}

function changeCount(edit: ProtocolWorkspaceEdit): number {
  return (edit.documentChanges?.length ?? 0) + Object.keys(edit.changes ?? {}).length;
}

export class Refactor implements vscode.Disposable {
  private progress: vscode.Progress<{ message?: string }> | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly host: ClientHost,
    private readonly activity: Activity,
    private readonly lastEditor: LastEditor,
    private readonly definitions: EditorDefinitions,
    private readonly trust: Trust,
  ) {
    this.subscription = host.onNotification("kimi/refactorProgress", (p: { message?: string; uri?: string; step?: number }) => {
      if (!this.progress || !p) return;
      const file = p.uri ? ` — ${vscode.workspace.asRelativePath(vscode.Uri.parse(p.uri))}` : "";
      this.progress.report({ message: `${p.message ?? ""}${file}` });
    });
  }

  async run(args?: RefactorArgs): Promise<{ refactorId: string; files: string[]; summary: string; applied: boolean; moved?: string[] } | undefined> {
    if (!this.trust.allows("Refactor")) return undefined;
    let instruction = args?.instruction;
    if (instruction === undefined) {
      instruction = await vscode.window.showInputBox({
        title: "Kimi: Refactor",
        prompt: "Describe the change across the workspace; you review every file before anything is written.",
        placeHolder: "e.g. rename Config.load to Config.from_file and update the callers",
        ignoreFocusOut: true,
      });
    }
    if (!instruction?.trim()) return undefined;
    const params: Record<string, unknown> = { instruction: instruction.trim(), mode: "preview" };
    if (args?.scope) params.scope = args.scope;
    // Refactors span the workspace, but what the cursor uses is still the best place to start reading.
    const editor = this.lastEditor.get();
    await this.definitions.attach("kimi/refactor", params, editor?.document, editor ? focusOf(editor.selection) : undefined);
    let result: RefactorResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "Kimi: refactoring", cancellable: true },
        async (progress, token) => {
          this.progress = progress;
          progress.report({ message: "planning…" });
          try {
            const client = await this.host.running();
            return (await this.activity.track(Promise.resolve(client.sendRequest("kimi/refactor", params, token)))) as RefactorResult;
          } finally {
            this.progress = undefined;
          }
        },
      );
    } catch (error) {
      const described = describeError(error);
      if (!described.cancelled) void vscode.window.showErrorMessage(`Kimi refactor: ${described.text}`);
      return undefined;
    }
    const cost = result.usage ? ` (${usageLine(result.usage)})` : "";
    if (!result.edit || changeCount(result.edit) === 0) {
      void vscode.window.showInformationMessage(`Kimi: no changes proposed. ${result.summary ?? ""}${cost}`);
      return { refactorId: result.refactorId, files: [], summary: result.summary, applied: false };
    }
    // Files that changed since the server computed the edit would get it on the wrong lines.
    const moved = await movedFiles(touchedUris(result.edit), result.bases, currentState);
    if (moved.length > 0) {
      const names = moved.map((uri) => vscode.workspace.asRelativePath(vscode.Uri.parse(uri)));
      void vscode.window.showWarningMessage(movedMessage(names));
      return { refactorId: result.refactorId, files: result.files ?? [], summary: result.summary, applied: false, moved: names };
    }
    if (args?.apply && result.edit.changeAnnotations?.[CONFIG_ANNOTATION]) {
      // Never written without a person looking: such files can run commands.
      const message = `Kimi refactor: not applied: it changes editor or CI configuration, which can run commands. Run it without "apply" to review it in the Refactor Preview.`;
      void vscode.window.showWarningMessage(message);
      return { refactorId: result.refactorId, files: result.files ?? [], summary: `${message} ${result.summary ?? ""}`, applied: false };
    }
    const client = await this.host.running();
    const edit = await client.protocol2CodeConverter.asWorkspaceEdit(args?.apply ? confirmed(result.edit) : result.edit);
    if (!args?.apply) {
      // VS Code leaves changes that need confirmation unticked in its Refactor Preview: say so.
      void vscode.window.showInformationMessage(
        `Kimi refactor: ${result.files?.length ?? 0} file(s) proposed. In the Refactor Preview, tick what to apply (the file's box ticks all its changes), then Apply.`,
      );
    }
    const applied = await vscode.workspace.applyEdit(edit, { isRefactoring: true });
    const files = result.files?.length ?? 0;
    if (applied) {
      void vscode.window.showInformationMessage(`Kimi refactor: ${files} file(s) changed. ${result.summary ?? ""}${cost}`);
    } else {
      void vscode.window.showInformationMessage(`Kimi refactor: not applied. ${result.summary ?? ""}${cost}`);
    }
    return { refactorId: result.refactorId, files: result.files ?? [], summary: result.summary, applied };
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
