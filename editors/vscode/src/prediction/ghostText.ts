// Ghost text: vscode-languageclient's textDocument/inlineCompletion provider, asked only while prediction is on.

import * as vscode from "vscode";
import type { Middleware } from "vscode-languageclient/node";
import type { PredictionState } from "./predictionState";

/** What the provider did, for the test API and the log. */
export interface GhostCounts {
  /** VS Code asked for ghost text. */
  asked: number;
  /** Asked while prediction was off, snoozed, untrusted, with a selection or an open completion menu: nothing sent. */
  blocked: number;
  /** Requests sent to the server. */
  sent: number;
  /** Answers that carried at least one item. */
  offered: number;
}

/**
 * The client registers the provider itself (vscode-languageclient 11 has inline completion
 * support built in, from the server's `inlineCompletionProvider`); it passes VS Code's
 * cancellation token to the request, so a superseded one is cancelled at the server. This
 * middleware decides whether to ask at all.
 */
export class GhostText {
  readonly counts: GhostCounts = { asked: 0, blocked: 0, sent: 0, offered: 0 };

  constructor(private readonly state: PredictionState) {}

  middleware(): Pick<Middleware, "provideInlineCompletionItems"> {
    return {
      provideInlineCompletionItems: async (document, position, context, token, next) => {
        this.counts.asked += 1;
        if (!this.wanted(document, context)) {
          this.counts.blocked += 1;
          return null;
        }
        this.counts.sent += 1;
        const result = await next(document, position, context, token);
        const items = Array.isArray(result) ? result : result?.items;
        if (items && items.length > 0) this.counts.offered += 1;
        return result;
      },
    };
  }

  private wanted(document: vscode.TextDocument, context: vscode.InlineCompletionContext): boolean {
    if (!this.state.active) return false;
    // Nothing while the completion menu is open (its item would be what the ghost text continues).
    if (context.selectedCompletionInfo) return false;
    const editor = vscode.window.activeTextEditor;
    // Nothing while text is selected: typing replaces it, a continuation of it makes no sense.
    if (editor && editor.document === document && !editor.selection.isEmpty) return false;
    return true;
  }
}
