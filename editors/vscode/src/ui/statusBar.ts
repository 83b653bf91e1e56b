// The status bar item: model, spinner while a request runs, session cost; click for Kimi's commands and kimi/status.

import * as vscode from "vscode";
import { count, money, sessionTooltip, statusText, type Usage } from "../pure/format";
import type { Activity } from "../host/activity";
import type { ClientHost } from "../host/clientHost";

interface StatusResult {
  version?: string;
  model?: string;
  baseUrl?: string;
  apiKeyConfigured?: boolean;
  tokenizer?: string;
  usage?: Usage;
  lastError?: { kind?: string; message?: string };
}

/** Why requests fail when the user refused to send the key to the endpoint's host. */
function withheldSentence(host: string): string {
  return `Kimi: your API key was not sent to ${host} (you chose Cancel), so requests to the model will fail. Run 'Kimi: Set API Key' to be asked again.`;
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("kimi-lsp.status", vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private model: string | undefined;
  private session: Usage | undefined;
  private keyNagShown = false;

  constructor(
    private readonly host: ClientHost,
    private readonly activity: Activity,
  ) {
    this.item.name = "Kimi";
    this.item.command = "kimi-lsp.statusMenu";
    this.disposables.push(
      this.item,
      host.onNotification("kimi/usage", (params: { session?: Usage }) => {
        if (params && typeof params.session === "object") {
          this.session = params.session;
          this.render();
        }
      }),
      host.onDidChangeState((state) => {
        if (state === "running") void this.refresh(true);
        this.render();
      }),
      activity.onDidChange(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("kimi") && host.state === "running") {
          // The server applies new settings (e.g. the model) when it is told: ask again shortly after.
          setTimeout(() => void this.refresh(false), 500);
        }
      }),
      vscode.commands.registerCommand("kimi-lsp.statusMenu", () => this.menu()),
      vscode.commands.registerCommand("kimi-lsp.showStatus", () => this.showStatus()),
    );
    this.render();
    this.item.show();
  }

  /** The text shown now (for the test API). */
  text(): string {
    return this.item.text;
  }

  private render(): void {
    this.item.text = statusText({
      model: this.model,
      busy: this.activity.busy,
      session: this.session,
      server: this.host.state,
      keyWithheld: this.host.keyWithheldFrom !== undefined,
    });
    const withheld = this.host.keyWithheldFrom;
    this.item.tooltip =
      this.host.state === "failed"
        ? "Kimi: the server is not running — click for options"
        : withheld
          ? withheldSentence(withheld)
        : this.activity.busy > 0
          ? `Kimi is working… (${this.activity.busy} request${this.activity.busy === 1 ? "" : "s"})\n${sessionTooltip(this.session)}`
          : sessionTooltip(this.session);
    this.item.backgroundColor =
      this.host.state === "failed" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  /** Ask kimi/status for the model and the session; on a fresh start, offer to set a missing key once. */
  async refresh(started: boolean): Promise<StatusResult | undefined> {
    const client = this.host.client();
    if (!client) return undefined;
    try {
      const status = (await client.sendRequest("kimi/status", {})) as StatusResult;
      this.model = status.model ?? this.model;
      if (status.usage) this.session = status.usage;
      this.render();
      const withheld = this.host.keyWithheldFrom;
      if (started && withheld) {
        void vscode.window.showWarningMessage(withheldSentence(withheld), "Set API Key").then((choice) => {
          if (choice) void vscode.commands.executeCommand("kimi-lsp.setApiKey");
        });
      } else if (started && status.apiKeyConfigured === false && !this.keyNagShown) {
        this.keyNagShown = true;
        void vscode.window
          .showWarningMessage("Kimi: no API key is set, so requests to the model will fail.", "Set API Key")
          .then((choice) => {
            if (choice) void vscode.commands.executeCommand("kimi-lsp.setApiKey");
          });
      }
      return status;
    } catch {
      return undefined;
    }
  }

  private async showStatus(): Promise<void> {
    const status = await this.refresh(false);
    if (!status) {
      void vscode.window.showWarningMessage("Kimi: the server is not running.");
      return;
    }
    const usage = status.usage ?? {};
    const lines = [
      `kimi-lsp ${status.version ?? "?"} · model ${status.model ?? "?"} · ${status.baseUrl ?? ""}`,
      this.host.keyWithheldFrom
        ? withheldSentence(this.host.keyWithheldFrom)
        : status.apiKeyConfigured
          ? "API key: configured"
          : "API key: missing (Kimi: Set API Key)",
      `Session: ${count(usage.requests)} request(s), ${count(usage.promptTokens)} prompt tokens (${count(usage.cachedTokens)} cached), ` +
        `${count(usage.completionTokens)} output tokens, ${money(usage.cost, usage.currency)}`,
      status.tokenizer ? `Tokenizer: ${status.tokenizer}` : "",
      status.lastError ? `Last error (${status.lastError.kind ?? "?"}): ${status.lastError.message ?? ""}` : "",
    ].filter(Boolean);
    void vscode.window.showInformationMessage(lines[0], { modal: true, detail: lines.slice(1).join("\n") });
  }

  private async menu(): Promise<void> {
    const items: (vscode.QuickPickItem & { command?: string })[] = [
      { label: "$(comment-discussion) Open Chat", command: "kimi-lsp.openChat" },
      { label: "$(edit) Edit Selection…", command: "kimi-lsp.editSelection" },
      { label: "$(references) Refactor…", command: "kimi-lsp.refactor" },
      { label: "$(list-tree) Show Context", description: "what the next request would send", command: "kimi-lsp.showContext" },
      { label: "$(info) Status", description: "version, model, key, session cost", command: "kimi-lsp.showStatus" },
      { label: "$(key) Set API Key", command: "kimi-lsp.setApiKey" },
      { label: "$(debug-restart) Restart Server", command: "kimi-lsp.restart" },
      { label: "$(output) Show Log", command: "kimi-lsp.showLog" },
      { label: "$(gear) Settings", command: "kimi-lsp.openSettings" },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: "Kimi", placeHolder: this.item.tooltip as string });
    if (pick?.command) await vscode.commands.executeCommand(pick.command);
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
