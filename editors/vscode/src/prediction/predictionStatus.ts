// The status bar toggle of edit prediction: on/off, snooze 15 min / 1 h, the server's counts in the tooltip.

import * as vscode from "vscode";
import { modeText, modeTooltip, type PredictionStats } from "../pure/prediction";
import type { ClientHost } from "../host/clientHost";
import type { PredictionState } from "./predictionState";

/** How often the tooltip's counts are refreshed from kimi/status while the server runs. */
const REFRESH_MS = 30000;

export class PredictionStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("kimi-lsp.prediction", vscode.StatusBarAlignment.Right, 99);
  private readonly disposables: vscode.Disposable[] = [];
  private readonly ticker: ReturnType<typeof setInterval>;
  private stats: PredictionStats | undefined;

  constructor(
    private readonly host: ClientHost,
    private readonly state: PredictionState,
  ) {
    this.item.name = "Kimi Edit Prediction";
    this.item.command = "kimi-lsp.predictionMenu";
    this.disposables.push(
      this.item,
      state.onDidChange(() => {
        this.render();
        // The server learns of a snooze (or its end) as `prediction.enabled`; settings changes go by themselves.
        void host.pushSettings().then(() => this.refresh());
      }),
      host.onDidChangeState((s) => {
        if (s === "running") void this.refresh();
      }),
    );
    // The snooze's minutes left and the counts stay current without any event.
    this.ticker = setInterval(() => void this.refresh(), REFRESH_MS);
    this.render();
    this.item.show();
  }

  text(): string {
    return this.item.text;
  }

  tooltip(): string {
    return String(this.item.tooltip ?? "");
  }

  /** kimi/status.prediction for the tooltip. */
  async refresh(): Promise<PredictionStats | undefined> {
    const client = this.host.client();
    if (client && this.host.state === "running") {
      try {
        const status = (await client.sendRequest("kimi/status", {})) as { prediction?: PredictionStats };
        this.stats = status.prediction;
      } catch {
        // The tooltip keeps the last counts.
      }
    }
    this.render();
    return this.stats;
  }

  private render(): void {
    const now = Date.now();
    const mode = this.state.mode(now);
    this.item.text = modeText(mode, this.state.snoozedUntil, now);
    this.item.tooltip = modeTooltip(mode, this.state.snoozedUntil, now, this.stats);
  }

  /** The click: turn on/off, snooze, resume, the status. */
  async menu(): Promise<void> {
    const mode = this.state.mode();
    const items: (vscode.QuickPickItem & { run: () => unknown })[] = [];
    if (mode === "snoozed") items.push({ label: "$(play) Resume Edit Prediction", run: () => this.state.endSnooze() });
    if (mode === "off") items.push({ label: "$(sparkle) Turn Edit Prediction On", run: () => this.state.setEnabled(true) });
    if (mode === "on" || mode === "snoozed") items.push({ label: "$(circle-slash) Turn Edit Prediction Off", description: "kimi.prediction.enabled", run: () => this.state.setEnabled(false) });
    if (mode === "on") {
      items.push({ label: "$(clock) Snooze for 15 Minutes", run: () => this.state.snooze(15) });
      items.push({ label: "$(clock) Snooze for 1 Hour", run: () => this.state.snooze(60) });
    }
    if (mode === "restricted") items.push({ label: "$(shield) Manage Workspace Trust", run: () => vscode.commands.executeCommand("workbench.trust.manage") });
    items.push({ label: "$(gear) Prediction Settings", run: () => vscode.commands.executeCommand("workbench.action.openSettings", "kimi.prediction") });
    await this.refresh();
    const pick = await vscode.window.showQuickPick(items, { title: "Kimi Edit Prediction", placeHolder: this.tooltip().split("\n").slice(1).join(" · ") || undefined });
    if (pick) await pick.run();
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.disposables.forEach((d) => d.dispose());
  }
}
