// The extension's API (returned by activate): what the end-to-end tests drive and observe.

import type { LanguageClient } from "vscode-languageclient/node";

export interface KimiApi {
  /** Resolves once the language client is running. */
  ready(): Promise<void>;
  client(): LanguageClient | undefined;
  /** Everything written to the "Kimi" output channel so far. */
  logText(): string;
  chat: {
    /** Like typing in the view + Enter; resolves with the kimi/chat result. */
    send(message: string): Promise<unknown>;
    /** Like pressing Stop. */
    stop(): void;
    transcript(): { role: "user" | "assistant"; content: string; reasoning?: string; cost?: string; error?: string }[];
    /** Shows the chat view. */
    reveal(): Promise<void>;
  };
  edits: {
    pending(): {
      editId: string;
      uri: string;
      hunks: {
        index: number;
        range: { start: { line: number; character: number }; end: { line: number; character: number } };
        newText: string;
      }[];
    }[];
    /**
     * The preview drawn in the document `uri` now (undefined: nothing): whole lines marked removed
     * or not written yet (pending), and the text shown after a line (ghost: the proposal; labels).
     */
    decorations(uri: string):
      | { removed: number[]; pending: number[]; ghost: { line: number; text: string }[]; labels: { line: number; text: string }[] }
      | undefined;
  };
  /** The current status bar text. */
  statusText(): string;
  /** Edit prediction (issue 18): the toggle, what the ghost-text provider and next edits did, what is shown. */
  prediction: {
    mode(): "on" | "off" | "snoozed" | "restricted";
    /** The toggle's status bar text and tooltip (the tooltip carries kimi/status.prediction's counts). */
    statusText(): string;
    tooltip(): string;
    /** Asks kimi/status for the counts (the tooltip then shows them); resolves with kimi/status.prediction. */
    refresh(): Promise<Record<string, unknown> | undefined>;
    /** VS Code asked for ghost text / was refused here (prediction off, selection, menu open) / requests sent / answers with an item. */
    ghostCounts(): { asked: number; blocked: number; sent: number; offered: number };
    nextEditCounts(): { sent: number; blocked: number; shown: number; accepted: number; rejected: number; ignored: number };
    /** The next-edit suggestions shown now and what is drawn for each (struck range, inserted label). */
    nextEdits():
      | {
          uri: string;
          edits: { id: string; text: string; version: number; range: { start: { line: number; character: number }; end: { line: number; character: number } } }[];
          drawn: { id: string; removed?: { start: { line: number; character: number }; end: { line: number; character: number } }; inserted?: { at: { line: number; character: number }; text: string } }[];
        }
      | undefined;
  };
  trust: {
    /** Whether the running server was started for an untrusted workspace (no folder, no document). */
    restrictedMode(): boolean;
    /** The sentences shown when a feature was refused in Restricted Mode, oldest first. */
    refusals(): string[];
  };
  /** The endpoint host the stored API key was withheld from (the user chose Cancel), if any. */
  keyWithheldFrom(): string | undefined;
  /** Endpoint variable -> the host its stored key was withheld from (the user chose Cancel). */
  endpointKeysWithheld(): Record<string, string>;
  /** Where each stored key would go under the user's settings (kimi.baseUrl, kimi.models, kimi.fallback). */
  keyRoutes(): { main: string[]; endpoints: Record<string, string[]>; problems: string[] };
  /** Who answered the last model call (kimi/usage's model, role, fallback), once a server with roles said. */
  lastAnswer(): { model: string; role?: string; fallback: boolean; estimated?: boolean } | undefined;
  /** The `definitions` the last requests (up to 20, most recent last) carried, or why none were looked up. */
  definitionsSent(): {
    method: string;
    uri?: string;
    definitions: { uri: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } }[];
    skipped?: string;
  }[];
}
