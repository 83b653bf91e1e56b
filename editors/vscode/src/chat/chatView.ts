// The chat webview view: renders the session's transcript (markdown rendered here, escaped) and relays the user's actions.

import * as vscode from "vscode";
import type { ClientHost } from "../host/clientHost";
import type { LastEditor } from "../host/lastEditor";
import { sessionTooltip, type Usage } from "../pure/format";
import { renderMarkdown } from "../pure/markdown";
import { escapeHtml } from "../pure/html";
import { SLASH_COMMANDS } from "../pure/slash";
import type { ShownEntry } from "../pure/shownEntry";
import type { Entry } from "../pure/transcript";
import { chatHtml } from "./chatHtml";
import type { ChatSession } from "./chatSession";

export const CHAT_VIEW_ID = "kimi-lsp.chatView";


function show(entry: Entry): ShownEntry {
  return {
    role: entry.role,
    html: renderMarkdown(entry.content).html,
    // No code buttons in the reasoning: a button's block index refers to the answer's code blocks.
    reasoningHtml: entry.reasoning ? renderMarkdown(entry.reasoning, { buttons: false }).html : undefined,
    reasoningChars: entry.reasoning?.length,
    cost: entry.cost,
    error: entry.error ? escapeHtml(entry.error) : undefined,
    streaming: !!entry.streaming,
  };
}

/** Streaming updates are sent at most this often (ms). */
const THROTTLE = 50;

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pending = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private session: Usage | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly chat: ChatSession,
    private readonly lastEditor: LastEditor,
    host: ClientHost,
  ) {
    this.disposables.push(
      chat.onDidChange(({ index }) => (index === undefined ? this.postAll() : this.schedule(index))),
      host.onNotification("kimi/usage", (params: { session?: Usage }) => {
        if (params?.session) {
          this.session = params.session;
          this.post({ type: "session", text: sessionTooltip(this.session).replace(/^Kimi this session: /, "Session: ") });
        }
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, "dist"), vscode.Uri.joinPath(this.extensionUri, "media")],
    };
    view.webview.html = chatHtml(view.webview, this.extensionUri);
    view.webview.onDidReceiveMessage((message) => void this.receive(message), undefined, this.disposables);
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
  }

  /** Show the chat view (and focus its input). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    this.post({ type: "focus" });
  }

  private post(message: unknown): void {
    void this.view?.webview.postMessage(message);
  }

  private postAll(): void {
    this.pending.clear();
    this.post({
      type: "all",
      entries: this.chat.transcript.entries.map(show),
      busy: this.chat.busy,
    });
  }

  private schedule(index: number): void {
    this.pending.add(index);
    const entry = this.chat.transcript.entries[index];
    if (entry && !entry.streaming) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), THROTTLE);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const index of this.pending) {
      const entry = this.chat.transcript.entries[index];
      if (entry) this.post({ type: "entry", index, entry: show(entry), busy: this.chat.busy });
    }
    this.pending.clear();
  }

  private async receive(message: { type?: string; text?: string; action?: string; entry?: number; block?: number }): Promise<void> {
    switch (message?.type) {
      case "ready":
        this.post({ type: "slash", commands: SLASH_COMMANDS });
        this.postAll();
        if (this.session) this.post({ type: "session", text: sessionTooltip(this.session).replace(/^Kimi this session: /, "Session: ") });
        return;
      case "send":
        if (message.text?.trim()) {
          // Errors are shown in the transcript; nothing else to do with them here.
          await this.chat.send(message.text).catch(() => undefined);
        }
        return;
      case "stop":
        this.chat.stop();
        return;
      case "new":
        this.chat.newConversation();
        return;
      case "code":
        await this.codeAction(message.action ?? "", message.entry ?? -1, message.block ?? -1);
        return;
    }
  }

  private async codeAction(action: string, entryIndex: number, blockIndex: number): Promise<void> {
    const entry = this.chat.transcript.entries[entryIndex];
    const block = entry ? renderMarkdown(entry.content).blocks[blockIndex] : undefined;
    if (!block) return;
    if (action === "copy") {
      await vscode.env.clipboard.writeText(block.code);
      return;
    }
    const editor = this.lastEditor.get();
    if (!editor) {
      void vscode.window.showWarningMessage("Kimi: open a file to put the code in.");
      return;
    }
    const code = block.code;
    const ok = await editor.edit((edit) => {
      if (action === "apply") {
        edit.replace(editor.selection, code);
      } else {
        edit.insert(editor.selection.active, code);
      }
    });
    if (ok) {
      await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
    } else {
      void vscode.window.showWarningMessage("Kimi: the editor refused the change (is it read-only?).");
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}
