// The status bar item: the model that answered, a fallback notice, spinner, session cost; click for commands and kimi/status.

import * as vscode from "vscode";
import { count, money, sessionTooltip, statusText, type Usage } from "../pure/format";
import { answeredBy, fallbackTooltip, rolesLines, type AnsweredBy, type RolesStatus } from "../pure/roles";
import type { Activity } from "../host/activity";
import type { ClientHost } from "../host/clientHost";

interface StatusResult extends RolesStatus {
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
  /** Who answered the last model call (kimi/usage), and the last kimi/status (for the primary's name). */
  private answer: AnsweredBy | undefined;
  private status: StatusResult | undefined;
  private keyNagShown = false;

  constructor(
    private readonly host: ClientHost,
    private readonly activity: Activity,
  ) {
    this.item.name = "Kimi";
    this.item.command = "kimi-lsp.statusMenu";
    this.disposables.push(
      this.item,
      host.onNotification("kimi/usage", (params: { usage?: unknown; session?: Usage }) => {
        if (!params || typeof params !== "object") return;
        if (typeof params.session === "object") this.session = params.session;
        const answer = answeredBy(params.usage);
        if (answer) {
          this.answer = answer;
          // kimi/status knows why the primary was passed over (lastFallback.kind) for the tooltip.
          if (answer.fallback) void this.refresh(false);
        }
        this.render();
      }),
      host.onDidChangeState((state) => {
        if (state === "starting") this.answer = undefined; // a new server: nobody answered yet
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

  /** Who answered the last model call, if a server with roles said (for the test API). */
  lastAnswer(): AnsweredBy | undefined {
    return this.answer ? { ...this.answer } : undefined;
  }

  private render(): void {
    const fallback = this.answer?.fallback === true;
    this.item.text = statusText({
      model: this.answer?.model ?? this.model,
      busy: this.activity.busy,
      session: this.session,
      server: this.host.state,
      keyWithheld: this.host.keyWithheldFrom !== undefined,
      fallback,
    });
    this.item.tooltip = this.tooltip();
    const warn = fallback && this.host.state === "running" && !this.host.keyWithheldFrom;
    this.item.backgroundColor =
      this.host.state === "failed"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : warn
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
  }

  private tooltip(): string {
    const withheld = this.host.keyWithheldFrom;
    if (this.host.state === "failed") return "Kimi: the server is not running — click for options";
    if (withheld) return withheldSentence(withheld);
    const lines: string[] = [];
    if (this.answer?.fallback) lines.push(fallbackTooltip(this.answer, this.status));
    else if (this.answer?.role) lines.push(`Last answer: ${this.answer.model} (${this.answer.role})`);
    if (this.answer?.estimated) lines.push("Its token counts are estimated (the endpoint reported none).");
    if (this.activity.busy > 0) lines.push(`Kimi is working… (${this.activity.busy} request${this.activity.busy === 1 ? "" : "s"})`);
    lines.push(sessionTooltip(this.session));
    return lines.join("\n");
  }

  /** Ask kimi/status for the model and the session; on a fresh start, offer to set a missing key once. */
  async refresh(started: boolean): Promise<StatusResult | undefined> {
    const client = this.host.client();
    if (!client) return undefined;
    try {
      const status = (await client.sendRequest("kimi/status", {})) as StatusResult;
      this.model = status.model ?? this.model;
      this.status = status;
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
      ...rolesLines(status),
      this.answer ? `Last answer: ${this.answer.model}${this.answer.role ? ` (${this.answer.role})` : ""}${this.answer.fallback ? " via fallback" : ""}` : "",
      ...Object.entries(this.host.endpointKeysWithheld).map(([name, host]) => `The key stored for ${name} was not sent to ${host} (you chose Cancel).`),
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
      { label: "$(key) Set API Key for an Endpoint…", description: "kimi.models / kimi.fallback apiKeyEnv", command: "kimi-lsp.setEndpointApiKey" },
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
