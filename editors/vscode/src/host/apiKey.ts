// The API keys in VS Code's SecretStorage (the main one, one per endpoint variable): set, clear, read, a change event.

import * as vscode from "vscode";
import { endpointSecretName } from "../pure/endpointKeys";

const SECRET = "kimi-lsp.apiKey";

export class ApiKeyStore implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange = this.emitter.event;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscription = secrets.onDidChange((e) => {
      if (e.key === SECRET || e.key.startsWith(endpointSecretName(""))) this.emitter.fire();
    });
  }

  get(): Thenable<string | undefined> {
    return this.secrets.get(SECRET);
  }

  /** Ask for the key (password box) and store it; returns whether one was stored. */
  async prompt(): Promise<boolean> {
    const key = await vscode.window.showInputBox({
      title: "Kimi: Set API Key",
      prompt: "Your Moonshot API key (platform.moonshot.ai or .cn). Stored in VS Code's secret storage.",
      placeHolder: "sk-…",
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : "The key is empty."),
    });
    if (!key?.trim()) return false;
    await this.secrets.store(SECRET, key.trim());
    vscode.window.showInformationMessage("Kimi: API key stored; the server restarts with it.");
    return true;
  }

  async clear(): Promise<void> {
    await this.secrets.delete(SECRET);
    vscode.window.showInformationMessage("Kimi: API key removed from VS Code's secret storage.");
  }

  /** The key stored for the endpoint variable `name` (kimi.models.*.apiKeyEnv / kimi.fallback[].apiKeyEnv). */
  getEndpoint(name: string): Thenable<string | undefined> {
    return this.secrets.get(endpointSecretName(name));
  }

  /** Ask for the key of the endpoint variable `name` (password box) and store it. */
  async promptEndpoint(name: string, hosts: string[]): Promise<boolean> {
    const key = await vscode.window.showInputBox({
      title: `Kimi: Set API Key for ${name}`,
      prompt: `The key for ${hosts.join(", ")} (passed to the server as $${name}). Stored in VS Code's secret storage.`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : "The key is empty."),
    });
    if (!key?.trim()) return false;
    await this.secrets.store(endpointSecretName(name), key.trim());
    vscode.window.showInformationMessage(`Kimi: key for ${name} stored; the server restarts with it.`);
    return true;
  }

  async clearEndpoint(name: string): Promise<void> {
    await this.secrets.delete(endpointSecretName(name));
    vscode.window.showInformationMessage(`Kimi: key for ${name} removed from VS Code's secret storage.`);
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
