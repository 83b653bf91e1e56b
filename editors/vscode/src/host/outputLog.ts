// The one "Kimi" output channel: a log channel that also keeps what it showed (for the test API) and honours kimi.trace.server.

import * as vscode from "vscode";

/** Keep at most this many characters of history for logText(). */
const HISTORY_LIMIT = 4_000_000;

/**
 * A LogOutputChannel around VS Code's own, used by vscode-languageclient as both its output and
 * trace channel. vscode-languageclient 10+ traces only when the channel's level is Trace; here the
 * `kimi.trace.server` setting also turns it on (trace lines are then written at info level, so they
 * show without changing the channel's level).
 */
export class KimiLog implements vscode.LogOutputChannel {
  private readonly inner: vscode.LogOutputChannel;
  private readonly levelEmitter = new vscode.EventEmitter<vscode.LogLevel>();
  private readonly disposables: vscode.Disposable[] = [];
  private history = "";
  private traceSetting: string;

  readonly onDidChangeLogLevel = this.levelEmitter.event;

  constructor(name = "Kimi") {
    this.inner = vscode.window.createOutputChannel(name, { log: true });
    this.traceSetting = KimiLog.readTraceSetting();
    this.disposables.push(
      this.inner.onDidChangeLogLevel(() => this.levelEmitter.fire(this.logLevel)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("kimi.trace.server")) {
          this.traceSetting = KimiLog.readTraceSetting();
          this.levelEmitter.fire(this.logLevel);
        }
      }),
    );
  }

  private static readTraceSetting(): string {
    return vscode.workspace.getConfiguration("kimi").get<string>("trace.server", "off");
  }

  get name(): string {
    return this.inner.name;
  }

  get logLevel(): vscode.LogLevel {
    return this.traceSetting !== "off" ? vscode.LogLevel.Trace : this.inner.logLevel;
  }

  /** Everything written so far, one line per entry with its level. */
  text(): string {
    return this.history;
  }

  private record(level: string, message: string): void {
    this.history += `[${level}] ${message}\n`;
    if (this.history.length > HISTORY_LIMIT) {
      this.history = this.history.slice(this.history.length - HISTORY_LIMIT / 2);
    }
  }

  trace(message: string, ...args: unknown[]): void {
    if (this.inner.logLevel <= vscode.LogLevel.Trace && this.inner.logLevel !== vscode.LogLevel.Off) {
      this.inner.trace(message, ...args);
    } else if (this.traceSetting !== "off") {
      this.inner.info(message, ...args);
    } else {
      return;
    }
    this.record("trace", message);
  }

  debug(message: string, ...args: unknown[]): void {
    this.inner.debug(message, ...args);
    this.record("debug", message);
  }

  info(message: string, ...args: unknown[]): void {
    this.inner.info(message, ...args);
    this.record("info", message);
  }

  warn(message: string, ...args: unknown[]): void {
    this.inner.warn(message, ...args);
    this.record("warning", message);
  }

  error(error: string | Error, ...args: unknown[]): void {
    this.inner.error(error, ...args);
    this.record("error", typeof error === "string" ? error : (error.stack ?? error.message));
  }

  append(value: string): void {
    this.inner.append(value);
    this.history += value;
  }

  appendLine(value: string): void {
    this.inner.appendLine(value);
    this.history += value + "\n";
  }

  replace(value: string): void {
    this.inner.replace(value);
    this.history = value;
  }

  clear(): void {
    this.inner.clear();
  }

  show(preserveFocus?: boolean): void;
  show(column?: vscode.ViewColumn, preserveFocus?: boolean): void;
  show(a?: boolean | vscode.ViewColumn, b?: boolean): void {
    if (typeof a === "boolean" || a === undefined) {
      this.inner.show(a);
    } else {
      this.inner.show(a, b);
    }
  }

  hide(): void {
    this.inner.hide();
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    this.levelEmitter.dispose();
    this.inner.dispose();
  }
}
