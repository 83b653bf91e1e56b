// Whose host the API key goes to: the endpoint's host, and whether sending the stored key there needs the user's yes.

/** The server's default endpoint (server/kimi_lsp/config.py DEFAULT_BASE_URL). */
export const DEFAULT_BASE_URL = "https://api.moonshot.ai/v1";
export const DEFAULT_HOST = "api.moonshot.ai";

/**
 * The endpoint the server will use: the user's kimi.baseUrl when set, else the KIMI_BASE_URL the
 * server inherits from this environment, else the default (the server's own order of layers).
 */
export function effectiveBaseUrl(setting: unknown, env: Record<string, string | undefined>): string {
  if (typeof setting === "string" && setting.trim()) return setting.trim();
  const fromEnv = env.KIMI_BASE_URL?.trim();
  return fromEnv || DEFAULT_BASE_URL;
}

/** The host (with a non-default port) of `baseUrl`, lowercased; the whole text when it is not a URL. */
export function endpointHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host.toLowerCase();
  } catch {
    return baseUrl.trim().toLowerCase();
  }
}

/** The user's remembered answers, per host. */
export type KeyConsents = Record<string, "allow" | "deny">;

/**
 * What to do with the key from secret storage for `host`: send it (the default host, or a host
 * the user allowed), withhold it (a host the user refused), or ask first.
 */
export function keyDecision(host: string, consents: KeyConsents | undefined): "send" | "withhold" | "ask" {
  if (host === DEFAULT_HOST) return "send";
  const remembered = consents?.[host];
  if (remembered === "allow") return "send";
  if (remembered === "deny") return "withhold";
  return "ask";
}
