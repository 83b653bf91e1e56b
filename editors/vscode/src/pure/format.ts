// Numbers for people: money, token counts, the cost line of an answer and the status bar text.

/** Token usage as the server reports it (kimi/chat result `usage`, kimi/usage `usage` / `session`). */
export interface Usage {
  requests?: number;
  promptTokens?: number;
  cachedTokens?: number;
  completionTokens?: number;
  cost?: number;
  currency?: string;
  /** v2 (issue 17): the model that answered, its role, whether a fallback served, whether counted locally. */
  model?: string;
  role?: string;
  fallback?: boolean;
  estimated?: boolean;
}

/** "$0.0012" for USD, "0.0012 CNY" otherwise; small amounts keep 4 decimals, large ones 2. */
export function money(cost: number | undefined, currency: string | undefined): string {
  const value = Number.isFinite(cost) ? (cost as number) : 0;
  const digits = Math.abs(value) >= 100 ? 2 : 4;
  const text = value.toFixed(digits);
  if (!currency || currency === "USD") {
    return `$${text}`;
  }
  return `${text} ${currency}`;
}

/** "12,345" */
export function count(n: number | undefined): string {
  const value = Math.floor(Number.isFinite(n) ? (n as number) : 0);
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * The cost line under an answer: "$0.0031 · 2,048 in (1,024 cached) · 310 out", then
 * "· fast-model (fallback)" when a fallback answered and "(estimated)" when the endpoint reported
 * no usage.
 */
export function usageLine(usage: Usage | undefined): string {
  if (!usage) {
    return "";
  }
  const parts = [money(usage.cost, usage.currency)];
  const cached = usage.cachedTokens ? ` (${count(usage.cachedTokens)} cached)` : "";
  parts.push(`${count(usage.promptTokens)} in${cached}`);
  parts.push(`${count(usage.completionTokens)} out${usage.estimated === true ? " (estimated)" : ""}`);
  if (usage.fallback === true && usage.model) parts.push(`${usage.model} (fallback)`);
  return parts.join(" · ");
}

/** The status bar text: "$(sparkle) kimi-k2.6 $0.0123", with a spinner while a request runs. */
export function statusText(state: {
  model?: string;
  busy: number;
  session?: Usage;
  server: "starting" | "running" | "stopped" | "failed";
  /** The stored API key was not sent to the endpoint (the user refused its host). */
  keyWithheld?: boolean;
  /** The last answer came from a fallback model (`model` is then that model). */
  fallback?: boolean;
}): string {
  if (state.server === "failed") {
    return "$(error) Kimi";
  }
  const icon = state.busy > 0 || state.server === "starting" ? "$(sync~spin)" : "$(sparkle)";
  if (state.fallback && state.server === "running" && !state.keyWithheld) {
    return `${state.busy > 0 ? icon : "$(warning)"} Kimi: ${state.model ?? "?"} (fallback)`;
  }
  const parts = [icon, state.model ?? "Kimi"];
  if (state.server === "stopped") {
    parts.push("(stopped)");
  } else if (state.keyWithheld) {
    parts.push("(no key)");
  } else if (state.session && state.session.cost !== undefined) {
    parts.push(money(state.session.cost, state.session.currency));
  }
  return parts.join(" ");
}

/** The status bar tooltip: the session's usage in one sentence. */
export function sessionTooltip(session: Usage | undefined): string {
  if (!session) {
    return "Kimi: no model call yet in this session";
  }
  return (
    `Kimi this session: ${count(session.requests)} request(s), ` +
    `${count(session.promptTokens)} prompt tokens (${count(session.cachedTokens)} cached), ` +
    `${count(session.completionTokens)} output tokens, ${money(session.cost, session.currency)}`
  );
}
