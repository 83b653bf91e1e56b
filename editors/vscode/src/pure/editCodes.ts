// The codes the server sends beside the sentence of an edit that applied nothing (kimi/acceptEdit,
// kimi/rejectEdit, kimi/inlineEdit) or was dropped (kimi/editDropped): the extension switches on
// these, never on the server's English.

export type EditCode =
  | "not_pending"
  | "expired"
  | "document_closed"
  | "already_accepted"
  | "stale_document"
  | "no_change"
  | "client_refused"
  | "user_edited";

/** What a result or notification about an edit carries besides its own fields. */
export interface EditOutcome {
  applied?: boolean;
  /** Machine-readable; unknown codes (a newer server) are treated like no code. */
  code?: string;
  /** The sentence for the user. */
  reason?: string;
}

/** Codes meaning the server no longer holds the edit: nothing more can be accepted with it. */
const FORGOTTEN: ReadonlySet<string> = new Set<EditCode>(["not_pending", "expired", "document_closed"]);

/** Whether `result` says the server no longer holds the edit (unknown, finished, expired, closed). */
export function serverForgot(result: EditOutcome | undefined | null): boolean {
  return !!result && !result.applied && typeof result.code === "string" && FORGOTTEN.has(result.code);
}
