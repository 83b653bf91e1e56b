// Counts the requests in flight (for the status bar spinner) around any promise.

import * as vscode from "vscode";

export class Activity implements vscode.Disposable {
  private count = 0;
  private readonly emitter = new vscode.EventEmitter<number>();
  readonly onDidChange = this.emitter.event;

  get busy(): number {
    return this.count;
  }

  /** Count `work` as in flight until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.count++;
    this.emitter.fire(this.count);
    const done = () => {
      this.count = Math.max(0, this.count - 1);
      this.emitter.fire(this.count);
    };
    work.then(done, done);
    return work;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
