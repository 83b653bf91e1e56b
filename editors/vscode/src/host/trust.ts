// Workspace trust: whether this window's workspace is trusted, and the refusal of what Restricted Mode turns off.

import * as vscode from "vscode";

/** The sentence a refused feature shows; `what` starts with a capital ("Inline edit"). */
export function restrictedSentence(what: string): string {
  return (
    `Kimi: ${what} is off in Restricted Mode: it reads or writes the workspace, which is not trusted. ` +
    "Trust the workspace (Workspaces: Manage Workspace Trust) to use it; chat without workspace context works meanwhile."
  );
}

export class Trust implements vscode.Disposable {
  private readonly refused: string[] = [];
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly subscription: vscode.Disposable;
  /** Fires once the user trusts the workspace (VS Code never takes trust back without a reload). */
  readonly onDidGrant = this.emitter.event;

  constructor() {
    this.subscription = vscode.workspace.onDidGrantWorkspaceTrust(() => this.emitter.fire());
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  /** Whether `what` may run; when not (Restricted Mode), shows why and offers to manage trust. */
  allows(what: string): boolean {
    if (this.trusted) return true;
    const sentence = restrictedSentence(what);
    this.refused.push(sentence);
    void vscode.window.showWarningMessage(sentence, "Manage Workspace Trust").then((choice) => {
      if (choice) void vscode.commands.executeCommand("workbench.trust.manage");
    });
    return false;
  }

  /** The sentences shown so far (for the test API). */
  refusals(): string[] {
    return [...this.refused];
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
