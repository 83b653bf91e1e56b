// Asks once per host before the API key from secret storage goes to an endpoint other than Moonshot's, and remembers the answer.

import * as vscode from "vscode";
import { keyDecision, type KeyConsents } from "../pure/endpoint";

const STATE_KEY = "kimi-lsp.keyConsents";
/** How the question names the main key and the setting that sends it elsewhere. */
const MAIN_KEY = { name: "Kimi API key", setting: "kimi.baseUrl" };

export class KeyConsent {
  constructor(private readonly state: vscode.Memento) {}

  private consents(): KeyConsents {
    const stored = this.state.get<KeyConsents>(STATE_KEY);
    return stored && typeof stored === "object" ? stored : {};
  }

  /** What would happen to the key for `host` now (without asking). */
  decision(host: string): "send" | "withhold" | "ask" {
    return keyDecision(host, this.consents());
  }

  /**
   * Whether the stored key may be sent to `host`: yes for Moonshot's own host or a host allowed
   * before; no for one refused before; else a modal question (its answer remembered, a dismissal
   * counting as Cancel).
   */
  async allows(host: string, key: { name: string; setting: string } = MAIN_KEY): Promise<boolean> {
    const decision = keyDecision(host, this.consents());
    if (decision !== "ask") return decision === "send";
    const choice = await vscode.window.showWarningMessage(
      `Send your ${key.name} to ${host}?`,
      {
        modal: true,
        detail:
          `${key.setting} points at ${host}, not Moonshot's api.moonshot.ai. The key from VS Code's secret storage ` +
          "goes to that host with every request. Cancel starts the server without the key.",
      },
      "Allow",
    );
    const allowed = choice === "Allow";
    await this.state.update(STATE_KEY, { ...this.consents(), [host]: allowed ? "allow" : "deny" });
    return allowed;
  }

  /** Forget the refusals (the user set a key again: ask again). */
  async forgetDenials(): Promise<void> {
    const kept = Object.fromEntries(Object.entries(this.consents()).filter(([, answer]) => answer === "allow"));
    await this.state.update(STATE_KEY, kept);
  }
}
