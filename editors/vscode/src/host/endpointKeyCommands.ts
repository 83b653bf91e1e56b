// "Kimi: Set/Clear API Key for an Endpoint…": one secret per variable that kimi.models / kimi.fallback name in apiKeyEnv.

import * as vscode from "vscode";
import type { ApiKeyStore } from "./apiKey";
import { currentKeyRoutes, type ClientHost } from "./clientHost";
import type { KeyConsent } from "./keyConsent";

/** The variable to act on: `given` when the settings name it, else the user's pick; undefined when there is none. */
async function pickVariable(apiKeys: ApiKeyStore, title: string, given: unknown): Promise<[string, string[]] | undefined> {
  const routes = currentKeyRoutes();
  const names = Object.keys(routes.endpoints);
  if (names.length === 0) {
    const problems = routes.problems.length ? `\n${routes.problems.join("\n")}` : "";
    const choice = await vscode.window.showInformationMessage(
      "Kimi: no endpoint names its own key. Set apiKeyEnv (an environment variable name) in an entry of " +
        `kimi.models or kimi.fallback in your user settings first.${problems}`,
      "Open Settings",
    );
    if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "kimi.models");
    return undefined;
  }
  if (typeof given === "string") {
    if (!names.includes(given)) throw new Error(`no kimi.models / kimi.fallback entry names ${given} as its apiKeyEnv.`);
    return [given, routes.endpoints[given]];
  }
  const items = await Promise.all(
    names.map(async (name) => ({
      label: name,
      description: routes.endpoints[name].join(", "),
      detail: (await apiKeys.getEndpoint(name)) ? "a key is stored" : "no key stored",
    })),
  );
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: "The environment variable an endpoint reads its key from" });
  return pick ? [pick.label, routes.endpoints[pick.label]] : undefined;
}

/** Ask for a variable and its key; the server restarts with it (after the question per host). */
export async function setEndpointApiKey(apiKeys: ApiKeyStore, keyConsent: KeyConsent, host: ClientHost, given?: unknown): Promise<boolean> {
  const picked = await pickVariable(apiKeys, "Kimi: Set API Key for an Endpoint", given);
  if (!picked) return false;
  // Setting a key again is the way to be asked again about a host refused before.
  await keyConsent.forgetDenials();
  const stored = await apiKeys.promptEndpoint(picked[0], picked[1]);
  // The same key again fires no change event: a host refused before is asked again here.
  if (stored) void host.restartIfChanged(`the key for ${picked[0]} was set`);
  return stored;
}

export async function clearEndpointApiKey(apiKeys: ApiKeyStore, given?: unknown): Promise<void> {
  const picked = await pickVariable(apiKeys, "Kimi: Clear API Key for an Endpoint", given);
  if (picked) await apiKeys.clearEndpoint(picked[0]);
}
