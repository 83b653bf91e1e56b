// The server's executeCommand commands (carried by its code actions): routed to the extension's UI where it has one, else run with progress and Cancel.

import * as vscode from "vscode";
import { ExecuteCommandRequest, type Middleware } from "vscode-languageclient/node";
import type { Activity } from "../host/activity";
import type { ClientHost } from "../host/clientHost";
import type { Trust } from "../host/trust";
import { describeError } from "../pure/errors";

/** What the routed commands need from the rest of the extension. */
export interface CommandTargets {
  editSelection(arg: { uri: string; range: any; instruction?: string }): Promise<unknown>;
  chat(message: string, focus: { uri?: string; range?: any }): Promise<unknown>;
  showContext(arg: { uri?: string; position?: any }): Promise<unknown>;
  refactor(arg: { instruction?: string }): Promise<unknown>;
  showStatus(): Promise<unknown>;
  /** Draw the live diff of an edit the server applies itself while `work` runs. */
  watchApply<T>(work: () => Promise<T>): Promise<T>;
}

const TITLES: Record<string, string> = {
  "kimi.fix": "Kimi: fixing…",
  "kimi.docstring": "Kimi: writing documentation…",
  "kimi.inlineEdit": "Kimi: editing…",
};

export function commandMiddleware(host: ClientHost, activity: Activity, trust: Trust, targets: () => CommandTargets): Middleware {
  return {
    executeCommand: async (command, args, next) => {
      const t = targets();
      const [first, second, third] = args ?? [];
      switch (command) {
        case "kimi.inlineEdit":
          if (typeof third !== "string" && typeof first === "string") {
            // "Kimi: edit selection…" carries [uri, range]: ask for the instruction and preview the edit.
            return t.editSelection({ uri: first, range: second });
          }
          break;
        case "kimi.explain":
          return trust.allows("Explain") ? t.chat("/explain", { uri: first, range: second }) : undefined;
        case "kimi.tests":
          return trust.allows("Write tests") ? t.chat("/tests", { uri: first }) : undefined;
        case "kimi.chat":
          if (typeof first === "string") return t.chat(first, { uri: second ?? undefined, range: third ?? undefined });
          break;
        case "kimi.showContext":
          return t.showContext({ uri: first, position: second });
        case "kimi.refactor":
          return t.refactor({ instruction: typeof first === "string" ? first : undefined });
        case "kimi.status":
          return t.showStatus();
      }
      void next; // the default would run without progress or Cancel
      // The rest (fix, docstring, tests, edits) read or write the workspace.
      if (!trust.allows(`Kimi's ${command} command`)) return undefined;
      return vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: TITLES[command] ?? `Kimi: ${command}…`, cancellable: true },
        async (_progress, token) => {
          try {
            const client = await host.running();
            const run = () =>
              activity.track(Promise.resolve(client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token)));
            return await (command in TITLES ? t.watchApply(run) : run());
          } catch (error) {
            const described = describeError(error);
            if (!described.cancelled) void vscode.window.showErrorMessage(`Kimi: ${described.text}`);
            return undefined;
          }
        },
      );
    },
  };
}
