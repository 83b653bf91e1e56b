// The `kimi` settings the server reads, and the object sent to it (user-set values only, never the API key).

/** Every server setting of protocol.md (plus the server's additions); `apiKey` is deliberately absent. */
export const SERVER_SETTING_KEYS = [
  "baseUrl",
  "model",
  "thinking",
  "prefixMode",
  "contextWindow",
  "maxOutputTokens",
  "tokenLimitParam",
  "temperature",
  "maxConcurrentRequests",
  "requestTimeoutSeconds",
  "maxRetries",
  "pricing",
  "exclude",
  "redactSecrets",
  "tokenizerPath",
  "maxFileSizeBytes",
  "contextBudget",
  "models",
  "fallback",
] as const;

export type ServerSettingKey = (typeof SERVER_SETTING_KEYS)[number];

/** Keys that must never leave the client in settings, whatever the user wrote in settings.json. */
const FORBIDDEN = new Set(["apiKey", "apikey", "api_key"]);

/** What `WorkspaceConfiguration.inspect` reports for one key (only the fields used here). */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
  globalLanguageValue?: unknown;
  workspaceLanguageValue?: unknown;
  workspaceFolderLanguageValue?: unknown;
}

/**
 * Settings a workspace must not choose (they name a program, a path or an endpoint, or turn a
 * protection off): declared `"scope": "machine"` in package.json, and read here from the user's
 * own settings only, so a cloned repository's .vscode/settings.json is ignored even if VS Code
 * surfaces its value.
 */
export const MACHINE_SETTING_KEYS: ReadonlySet<string> = new Set([
  "baseUrl",
  "models",
  "fallback",
  "tokenizerPath",
  "redactSecrets",
  "server.command",
  "server.args",
  "server.pythonPath",
]);

/** Which layers of a setting may be read: all of them, or the user's own (global) value only. */
export type Layers = "all" | "user";

/** The most specific value the user set, or undefined when the key is at its default. */
export function userValue(inspected: Inspected | undefined, layers: Layers = "all"): unknown {
  if (!inspected) {
    return undefined;
  }
  const candidates =
    layers === "user"
      ? [inspected.globalValue]
      : [
          inspected.workspaceFolderLanguageValue,
          inspected.workspaceLanguageValue,
          inspected.globalLanguageValue,
          inspected.workspaceFolderValue,
          inspected.workspaceValue,
          inspected.globalValue,
        ];
  return candidates.find((value) => value !== undefined && value !== null);
}

/** The layers `key` may be read from: machine keys always from the user's settings only, every
 * key so in Restricted Mode (an untrusted workspace chooses nothing). */
export function layersFor(key: string, trusted: boolean): Layers {
  return trusted && !MACHINE_SETTING_KEYS.has(key) ? "all" : "user";
}

/** The value to use for a client-side machine setting: the user's, else the default. */
export function machineValue<T>(inspected: Inspected | undefined, fallback: T): T {
  const value = userValue(inspected, "user") ?? inspected?.defaultValue;
  return value === undefined || value === null ? fallback : (value as T);
}

/**
 * The settings object for initializationOptions, didChangeConfiguration and workspace/configuration.
 * Only values the user set are sent, so the server's own layers (environment variables such as
 * KIMI_BASE_URL, ~/.config/kimi-lsp/settings.json) still fill the rest; the server's defaults are
 * the same as the contributed ones. Client-only keys (server.*, trace.*) and the API key never go.
 * Machine keys come from the user's settings only; in an untrusted workspace every key does.
 */
export function serverSettings(inspect: (key: string) => Inspected | undefined, trusted = true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SERVER_SETTING_KEYS) {
    const value = userValue(inspect(key), layersFor(key, trusted));
    if (value !== undefined) {
      out[key] = clone(value);
    }
  }
  return withoutSecrets(out);
}

/** A copy of a settings-like object with every API-key-like entry removed, at any depth. */
export function withoutSecrets<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((item) => withoutSecrets(item)) as T;
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (!FORBIDDEN.has(key)) {
        out[key] = withoutSecrets(inner);
      }
    }
    return out as T;
  }
  return value;
}

function clone(value: unknown): unknown {
  return value && typeof value === "object" ? JSON.parse(JSON.stringify(value)) : value;
}
