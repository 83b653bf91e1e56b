// One chat conversation against the server: sends kimi/chat, streams kimi/chatDelta into the transcript, stops, clears.

import * as vscode from "vscode";
import type { Activity } from "../host/activity";
import type { ClientHost } from "../host/clientHost";
import { editorFocus, focusOf, openDocument, type EditorDefinitions } from "../host/editorDefinitions";
import type { LastEditor } from "../host/lastEditor";
import type { Trust } from "../host/trust";
import { isClear } from "../pure/slash";
import { Transcript, type ChatDelta, type ChatResult } from "../pure/transcript";

/** Where a question is about: a document and optionally a range in it. */
export interface ChatFocus {
  uri?: string;
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
}

export class ChatSession implements vscode.Disposable {
  readonly transcript = new Transcript();
  private readonly changed = new vscode.EventEmitter<{ index?: number }>();
  /** Fires when the transcript changed: one entry (`index`) or all of it. */
  readonly onDidChange = this.changed.event;
  private streaming: { index: number; cancel: vscode.CancellationTokenSource } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly host: ClientHost,
    private readonly activity: Activity,
    private readonly lastEditor: LastEditor,
    private readonly definitions: EditorDefinitions,
    private readonly trust: Trust,
  ) {
    this.disposables.push(
      this.changed,
      host.onNotification("kimi/chatDelta", (params: ChatDelta) => {
        const current = this.streaming;
        if (current && params && typeof params.text === "string" && this.transcript.delta(current.index, params)) {
          this.changed.fire({ index: current.index });
        }
      }),
    );
  }

  get busy(): boolean {
    return this.streaming !== undefined;
  }

  /** The focus of the active editor: its document and its selection when something is selected. */
  editorFocus(): ChatFocus {
    const editor = this.lastEditor.get();
    if (!editor) return {};
    const focus: ChatFocus = { uri: editor.document.uri.toString() };
    if (!editor.selection.isEmpty) {
      const s = editor.selection;
      focus.range = {
        start: { line: s.start.line, character: s.start.character },
        end: { line: s.end.line, character: s.end.character },
      };
    }
    return focus;
  }

  /** Ask `message` (turns run one after another); resolves with the kimi/chat result, rejects on error. */
  send(message: string, focus?: ChatFocus): Promise<ChatResult> {
    const run = this.queue.then(
      () => this.ask(message, focus ?? this.editorFocus()),
      () => this.ask(message, focus ?? this.editorFocus()),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ask(message: string, asked: ChatFocus): Promise<ChatResult> {
    // Restricted Mode: chat without workspace context (no document, no range, no definitions).
    const restricted = !this.trust.trusted;
    const focus: ChatFocus = restricted ? {} : asked;
    const index = this.transcript.ask(message);
    this.changed.fire({});
    const cancel = new vscode.CancellationTokenSource();
    this.streaming = { index, cancel };
    const params: Record<string, unknown> = { message };
    if (restricted) params.context = "none";
    if (this.transcript.conversationId) params.conversationId = this.transcript.conversationId;
    if (focus.uri) params.textDocument = { uri: focus.uri };
    if (focus.uri && focus.range) params.range = focus.range;
    try {
      if (focus.uri) {
        const where = focus.range ? focusOf(focus.range) : editorFocus(this.lastEditor.get(), focus.uri);
        await this.definitions.attach("kimi/chat", params, openDocument(focus.uri), where);
      }
      const client = await this.host.running();
      const result = (await this.activity.track(
        Promise.resolve(client.sendRequest("kimi/chat", params, cancel.token)),
      )) as ChatResult;
      this.streaming = undefined;
      this.transcript.finish(index, result ?? {});
      if (isClear(message)) {
        this.transcript.reset();
        this.changed.fire({});
      } else {
        this.changed.fire({ index });
      }
      return result;
    } catch (error) {
      this.streaming = undefined;
      this.transcript.fail(index, error);
      this.changed.fire({ index });
      throw error;
    } finally {
      cancel.dispose();
    }
  }

  /** Stop the answer being written (the server closes the upstream stream). */
  stop(): void {
    this.streaming?.cancel.cancel();
  }

  /** Start a new conversation (the old one stays on the server). */
  newConversation(): void {
    this.stop();
    this.transcript.reset();
    this.changed.fire({});
  }

  dispose(): void {
    this.stop();
    this.disposables.forEach((d) => d.dispose());
  }
}
