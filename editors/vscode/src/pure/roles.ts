// Model roles and fallback for people: who answered the last request, and the roles of kimi/status.

/** The answer's origin as `kimi/usage` `usage` carries it (protocol.md "Usage and status (v2)"). */
export interface AnsweredBy {
  model: string;
  role?: string;
  fallback: boolean;
  /** The endpoint reported no usage: the figures were counted locally. */
  estimated?: boolean;
}

/** `kimi/status` `roles` and `lastFallback`. */
export interface RolesStatus {
  model?: string;
  roles?: Record<string, { model?: string; baseUrl?: string }>;
  lastFallback?: { at?: string | number; from?: string; to?: string; kind?: string };
}

/**
 * Who answered, from a `kimi/usage` notification's `usage` (or a result's); undefined when it
 * does not say (a server without roles): the caller then keeps what it showed.
 */
export function answeredBy(usage: unknown): AnsweredBy | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  const u = usage as Record<string, unknown>;
  if (typeof u.model !== "string" || !u.model) return undefined;
  return {
    model: u.model,
    role: typeof u.role === "string" && u.role ? u.role : undefined,
    fallback: u.fallback === true,
    estimated: u.estimated === true,
  };
}

/** What went wrong with the primary, as the end of "<model> …" (the fallback kinds of issue 17). */
export function failureWords(kind: string | undefined): string {
  switch (kind) {
    case "overloaded":
      return "was overloaded";
    case "rate_limit":
      return "was rate-limited";
    case "server":
      return "had a server error";
    case "network":
      return "could not be reached";
    case "timeout":
      return "timed out";
    case "quota":
      return "is out of quota";
    default:
      return "failed";
  }
}

/**
 * The model a fallback stood in for: the role's primary model from kimi/status, else the
 * lastFallback's `from`, else the top-level model.
 */
export function primaryModel(answer: AnsweredBy, status: RolesStatus | undefined): string {
  const role = answer.role ? status?.roles?.[answer.role] : undefined;
  return role?.model || status?.lastFallback?.from || status?.model || "the primary model";
}

/** The status bar item while a fallback's answer is the last one: "$(warning) Kimi: fast-model (fallback)". */
export function fallbackText(answer: AnsweredBy): string {
  return `$(warning) Kimi: ${answer.model} (fallback)`;
}

/** Its tooltip: "kimi-k2.6 was overloaded; fast-model answered via fallback". */
export function fallbackTooltip(answer: AnsweredBy, status: RolesStatus | undefined): string {
  const kind = status?.lastFallback?.to === answer.model ? status.lastFallback.kind : undefined;
  return `${primaryModel(answer, status)} ${failureWords(kind)}; ${answer.model} answered via fallback`;
}

/** The lines Show Status adds: one per role, then the last fallback (none when the server has no roles). */
export function rolesLines(status: RolesStatus): string[] {
  const lines: string[] = [];
  const roles = status.roles && typeof status.roles === "object" ? status.roles : {};
  for (const [role, info] of Object.entries(roles)) {
    lines.push(`Role ${role}: ${info?.model ?? "?"}${info?.baseUrl ? ` · ${info.baseUrl}` : ""}`);
  }
  const last = status.lastFallback;
  if (last && typeof last === "object") {
    const at = last.at === undefined ? "" : ` at ${fallbackTime(last.at)}`;
    lines.push(`Last fallback${at}: ${last.from ?? "?"} → ${last.to ?? "?"} (${last.kind ?? "?"})`);
  }
  return lines;
}

/** `lastFallback.at` as the server sent it: an ISO string kept, epoch seconds or ms made ISO. */
export function fallbackTime(at: string | number): string {
  if (typeof at === "string") return at;
  if (!Number.isFinite(at)) return String(at);
  const ms = at < 1e12 ? at * 1000 : at;
  return new Date(ms).toISOString();
}
