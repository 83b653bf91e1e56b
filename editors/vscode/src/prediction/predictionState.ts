// Whether edit prediction runs now: the kimi.prediction.* settings, a snooze, workspace trust; turning it on, off, snoozing.

import * as vscode from "vscode";
import { predictionMode, type PredictionMode } from "../pure/prediction";
import type { Trust } from "../host/trust";

export class PredictionState implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  private snoozeTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the snooze ends (ms since the epoch), if snoozed. */
  snoozedUntil: number | undefined;
  /** Fires when the mode may have changed (settings, snooze, trust). */
  readonly onDidChange = this.emitter.event;

  constructor(private readonly trust: Trust) {
    this.disposables.push(
      this.emitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("kimi.prediction")) this.emitter.fire();
      }),
      trust.onDidGrant(() => this.emitter.fire()),
    );
  }

  private setting<T>(key: string, fallback: T): T {
    const value = vscode.workspace.getConfiguration("kimi.prediction").get<T>(key);
    return value === undefined || value === null ? fallback : value;
  }

  mode(now = Date.now()): PredictionMode {
    return predictionMode({
      enabled: this.setting("enabled", true),
      trusted: this.trust.trusted,
      snoozedUntil: this.snoozedUntil,
      now,
    });
  }

  /** Ghost text may be asked for. */
  get active(): boolean {
    return this.mode() === "on";
  }

  /** Next edits may be asked for (prediction on and kimi.prediction.nextEdit). */
  get nextEditActive(): boolean {
    return this.active && this.setting("nextEdit", true);
  }

  /** Whether the server must be told `enabled: false` whatever the setting (snoozed, or Restricted Mode). */
  get forcedOff(): boolean {
    const mode = this.mode();
    return mode === "snoozed" || mode === "restricted";
  }

  /** How long typing must pause before next edits are asked for (ms): the server's debounce, at least 300. */
  get nextEditPauseMs(): number {
    const debounce = Number(this.setting("debounceMs", 75));
    return Math.max(300, Number.isFinite(debounce) ? debounce : 75);
  }

  /** Turns prediction on or off in the user's settings (and ends a snooze). */
  async setEnabled(enabled: boolean): Promise<void> {
    this.endSnooze(false);
    await vscode.workspace.getConfiguration("kimi.prediction").update("enabled", enabled, vscode.ConfigurationTarget.Global);
    this.emitter.fire();
  }

  /** Turns prediction off for `minutes` (this window only; a restart of VS Code ends it). */
  snooze(minutes: number): void {
    this.endSnooze(false);
    this.snoozedUntil = Date.now() + minutes * 60000;
    this.snoozeTimer = setTimeout(() => this.endSnooze(true), minutes * 60000);
    this.emitter.fire();
  }

  endSnooze(fire = true): void {
    if (this.snoozeTimer) clearTimeout(this.snoozeTimer);
    this.snoozeTimer = undefined;
    const was = this.snoozedUntil !== undefined;
    this.snoozedUntil = undefined;
    if (fire && was) this.emitter.fire();
  }

  dispose(): void {
    this.endSnooze(false);
    this.disposables.forEach((d) => d.dispose());
  }
}
