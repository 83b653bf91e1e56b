// Failed requests as sentences: JSON-RPC errors of kimi-lsp (data.kind) turned into readable text.

/** The `kind`s of protocol.md's RequestFailed errors, with a short title for each. */
const TITLES: Record<string, string> = {
  auth: "API key rejected",
  quota: "Quota exhausted",
  rate_limit: "Rate limited",
  overloaded: "Model overloaded",
  context_overflow: "Too long for the context window",
  content_filter: "Blocked by the content filter",
  network: "Network error",
  timeout: "Timed out",
  server: "API server error",
  bad_response: "Unexpected answer from the API",
  stale_document: "The document changed",
  config: "Configuration problem",
};

export const CANCELLED = -32800;
export const SERVER_CANCELLED = -32802;

/** The parts of an error this module looks at (ResponseError or any Error). */
export interface ErrorLike {
  code?: number;
  message?: string;
  data?: unknown;
}

export interface DescribedError {
  kind?: string;
  title: string;
  message: string;
  cancelled: boolean;
  /** One line: "Rate limited: … (retry in 3 s)". */
  text: string;
}

/** Describe a failed request for the user. */
export function describeError(error: unknown): DescribedError {
  const e = (error ?? {}) as ErrorLike;
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  const cancelled = e.code === CANCELLED || e.code === SERVER_CANCELLED || /cancel/i.test(e.constructor?.name ?? "");
  const data = e.data && typeof e.data === "object" ? (e.data as Record<string, unknown>) : {};
  const kind = typeof data.kind === "string" ? data.kind : undefined;
  if (cancelled) {
    return { kind, title: "Stopped", message: "Stopped.", cancelled: true, text: "Stopped." };
  }
  const title = kind ? (TITLES[kind] ?? `Error (${kind})`) : "Error";
  let text = `${title}: ${message}`;
  const retry = typeof data.retryAfter === "number" ? data.retryAfter : undefined;
  if (retry !== undefined) {
    text += ` (retry in ${Math.ceil(retry)} s)`;
  }
  if (kind === "auth" || /api key/i.test(message)) {
    // The server's sentence names the environment variable; in VS Code the key has a command.
    text += " In VS Code: run 'Kimi: Set API Key'.";
  }
  return { kind, title, message, cancelled: false, text };
}
