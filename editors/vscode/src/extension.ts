// Entry point: wires the language client, chat, inline edits, refactor, context and status, and returns the test API.

import * as vscode from "vscode";
import type { KimiApi } from "./api";
import { ChatSession, type ChatFocus } from "./chat/chatSession";
import { CHAT_VIEW_ID, ChatViewProvider } from "./chat/chatView";
import { EditLenses } from "./edit/editLenses";
import { EditReview } from "./edit/editReview";
import { InlineEdits } from "./edit/inlineEdits";
import { ContextView } from "./features/contextView";
import { Refactor } from "./features/refactor";
import { commandMiddleware, type CommandTargets } from "./features/serverCommands";
import { Activity } from "./host/activity";
import { ApiKeyStore } from "./host/apiKey";
import { ClientHost, currentKeyRoutes, setPredictionForcedOff } from "./host/clientHost";
import { KeyConsent } from "./host/keyConsent";
import { clearEndpointApiKey, setEndpointApiKey } from "./host/endpointKeyCommands";
import { EditorDefinitions } from "./host/editorDefinitions";
import { LastEditor } from "./host/lastEditor";
import { KimiLog } from "./host/outputLog";
import { Trust } from "./host/trust";
import { GhostText } from "./prediction/ghostText";
import { NextEdits } from "./prediction/nextEdits";
import { PredictionState } from "./prediction/predictionState";
import { PredictionStatus } from "./prediction/predictionStatus";
import { describeError } from "./pure/errors";
import { StatusBar } from "./ui/statusBar";

let host: ClientHost | undefined;

export function activate(context: vscode.ExtensionContext): KimiApi {
  const log = new KimiLog("Kimi");
  const activity = new Activity();
  const apiKeys = new ApiKeyStore(context.secrets);
  const lastEditor = new LastEditor();
  const trust = new Trust();
  const keyConsent = new KeyConsent(context.globalState);
  let targets: CommandTargets | undefined;
  const prediction = new PredictionState(trust);
  setPredictionForcedOff(() => prediction.forcedOff);
  const ghost = new GhostText(prediction);
  const clientHost = new ClientHost(log, apiKeys, trust, keyConsent, (h) => ({
    ...commandMiddleware(h, activity, trust, () => targets as CommandTargets),
    ...ghost.middleware(),
  }));
  host = clientHost;
  const definitions = new EditorDefinitions(log);
  const chat = new ChatSession(clientHost, activity, lastEditor, definitions, trust);
  const chatView = new ChatViewProvider(context.extensionUri, chat, lastEditor, clientHost);
  const edits = new InlineEdits(clientHost, activity, lastEditor, definitions, trust);
  const review = new EditReview(edits, clientHost, lastEditor);
  const lenses = new EditLenses(edits);
  const refactor = new Refactor(clientHost, activity, lastEditor, definitions, trust);
  const contextView = new ContextView(clientHost, lastEditor, context.extensionUri, definitions, trust);
  const status = new StatusBar(clientHost, activity);
  const nextEdits = new NextEdits(clientHost, prediction, trust, log);
  const predictionStatus = new PredictionStatus(clientHost, prediction);

  // Questions from code actions and commands: shown in the chat view, errors in its transcript.
  const chatFrom = async (message: string, focus: ChatFocus) => {
    await chatView.reveal();
    return chat.send(message, focus).catch(() => undefined);
  };
  targets = {
    editSelection: (arg) => edits.editSelection(arg),
    chat: chatFrom,
    showContext: (arg) => contextView.show(arg),
    refactor: (arg) => refactor.run(arg),
    showStatus: async () => vscode.commands.executeCommand("kimi-lsp.showStatus"),
    watchApply: (work) => edits.watchApply(work),
  };

  const command = (id: string, run: (...args: any[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: any[]) => {
      try {
        return await run(...args);
      } catch (error) {
        void vscode.window.showErrorMessage(`Kimi: ${describeError(error).text}`);
        return undefined;
      }
    });

  context.subscriptions.push(
    log,
    activity,
    apiKeys,
    trust,
    lastEditor,
    clientHost,
    chat,
    chatView,
    edits,
    lenses,
    refactor,
    contextView,
    status,
    prediction,
    nextEdits,
    predictionStatus,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, chatView, { webviewOptions: { retainContextWhenHidden: true } }),
    command("kimi-lsp.restart", () => clientHost.restart("restart requested")),
    command("kimi-lsp.showLog", () => log.show()),
    command("kimi-lsp.openSettings", () => vscode.commands.executeCommand("workbench.action.openSettings", "@ext:kimi-lsp.kimi-lsp")),
    command("kimi-lsp.setApiKey", async () => {
      // Setting a key again is the way to be asked again about a host refused before.
      await keyConsent.forgetDenials();
      const stored = await apiKeys.prompt();
      // The same key again fires no change event: a host refused before is asked again here.
      if (stored) void clientHost.restartIfChanged("the API key was set");
      return stored;
    }),
    command("kimi-lsp.clearApiKey", () => apiKeys.clear()),
    command("kimi-lsp.setEndpointApiKey", (name?: unknown) => setEndpointApiKey(apiKeys, keyConsent, clientHost, name)),
    command("kimi-lsp.clearEndpointApiKey", (name?: unknown) => clearEndpointApiKey(apiKeys, name)),
    command("kimi-lsp.openChat", () => chatView.reveal()),
    command("kimi-lsp.newChat", async () => {
      chat.newConversation();
      await chatView.reveal();
    }),
    command("kimi-lsp.stopChat", () => chat.stop()),
    command("kimi-lsp.explainSelection", () =>
      trust.allows("Explain Selection") ? chatFrom("/explain", chat.editorFocus()) : undefined,
    ),
    command("kimi-lsp.editSelection", (arg?: { instruction?: string }) => edits.editSelection(arg && typeof arg === "object" && !(arg instanceof vscode.Uri) ? arg : undefined)),
    command("kimi-lsp.acceptHunk", (editId?: string, index?: number) => review.acceptHunk(editId, index)),
    command("kimi-lsp.rejectHunk", (editId?: string, index?: number) => review.rejectHunk(editId, index)),
    command("kimi-lsp.acceptAll", (editId?: string) => review.acceptAll(editId)),
    command("kimi-lsp.rejectAll", (editId?: string) => review.rejectAll(editId)),
    command("kimi-lsp.showEditDiff", (uri?: string) => lenses.showDiff(uri)),
    command("kimi-lsp.refactor", (arg?: { instruction?: string }) => refactor.run(arg && typeof arg === "object" && !(arg instanceof vscode.Uri) ? arg : undefined)),
    command("kimi-lsp.suggestNextEdit", () => nextEdits.request()),
    command("kimi-lsp.acceptNextEdit", () => nextEdits.accept()),
    command("kimi-lsp.jumpToNextEdit", () => nextEdits.jump()),
    command("kimi-lsp.dismissNextEdit", () => nextEdits.dismiss()),
    command("kimi-lsp.togglePrediction", () => prediction.setEnabled(prediction.mode() === "off")),
    command("kimi-lsp.snoozePrediction", async (minutes?: unknown) => {
      const pick = typeof minutes === "number" ? minutes : (await vscode.window.showQuickPick([{ label: "15 minutes", minutes: 15 }, { label: "1 hour", minutes: 60 }], { title: "Snooze Kimi edit prediction" }))?.minutes;
      if (pick) prediction.snooze(pick);
    }),
    command("kimi-lsp.predictionMenu", () => predictionStatus.menu()),
    command("kimi-lsp.showContext", (arg?: { purpose?: "chat" | "edit" | "refactor" }) => contextView.show(arg && typeof arg === "object" && !(arg instanceof vscode.Uri) ? arg : undefined)),
  );

  void clientHost.start();

  return {
    ready: () => clientHost.ready(),
    client: () => clientHost.client(),
    logText: () => log.text(),
    chat: {
      send: (message: string) => chat.send(message),
      stop: () => chat.stop(),
      transcript: () => chat.transcript.snapshot(),
      reveal: () => chatView.reveal(),
    },
    edits: {
      pending: () =>
        edits.pendingEdits().map((p) => ({
          editId: p.editId,
          uri: p.uri,
          hunks: p.hunks.map((h) => ({
            index: h.index,
            range: { start: { ...h.range.start }, end: { ...h.range.end } },
            newText: h.newText,
          })),
        })),
      decorations: (uri: string) => edits.decorationsIn(uri),
    },
    statusText: () => status.text(),
    prediction: {
      mode: () => prediction.mode(),
      statusText: () => predictionStatus.text(),
      tooltip: () => predictionStatus.tooltip(),
      refresh: async () => (await predictionStatus.refresh()) as Record<string, unknown> | undefined,
      ghostCounts: () => ({ ...ghost.counts }),
      nextEditCounts: () => ({ ...nextEdits.counts }),
      nextEdits: () => nextEdits.visible(),
    },
    trust: {
      restrictedMode: () => clientHost.restrictedMode,
      refusals: () => trust.refusals(),
    },
    keyWithheldFrom: () => clientHost.keyWithheldFrom,
    endpointKeysWithheld: () => ({ ...clientHost.endpointKeysWithheld }),
    keyRoutes: () => currentKeyRoutes(),
    lastAnswer: () => status.lastAnswer(),
    definitionsSent: () => definitions.sent(),
  };
}

export async function deactivate(): Promise<void> {
  await host?.stop();
}
