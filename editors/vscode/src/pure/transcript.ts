// The chat transcript: turns of the user and of Kimi, filled from kimi/chatDelta and the kimi/chat result.

import { describeError } from "./errors";
import { usageLine, type Usage } from "./format";

export interface Entry {
  role: "user" | "assistant";
  content: string;
  reasoning?: string;
  cost?: string;
  error?: string;
  /** The assistant is still writing this entry. */
  streaming?: boolean;
  /** Answered locally by the server (a slash command such as /cost): no model call. */
  local?: boolean;
}

/** The parts of a kimi/chat result used here. */
export interface ChatResult {
  conversationId?: string;
  turn?: number;
  content?: string;
  reasoning?: string;
  finishReason?: string;
  usage?: Usage;
}

export interface ChatDelta {
  conversationId: string;
  turn?: number;
  kind: "content" | "reasoning";
  text: string;
}

/** One conversation as shown in the chat view. */
export class Transcript {
  readonly entries: Entry[] = [];
  conversationId: string | undefined;

  /** The user sent `message`: add it and an empty answer that deltas fill. Returns the answer's index. */
  ask(message: string): number {
    this.entries.push({ role: "user", content: message });
    this.entries.push({ role: "assistant", content: "", streaming: true });
    return this.entries.length - 1;
  }

  /** A streamed piece of the answer at `index`; deltas of another conversation are ignored. */
  delta(index: number, delta: ChatDelta): boolean {
    const entry = this.entries[index];
    if (!entry || !entry.streaming) return false;
    if (this.conversationId && delta.conversationId && delta.conversationId !== this.conversationId) return false;
    this.conversationId ??= delta.conversationId;
    if (delta.kind === "reasoning") {
      entry.reasoning = (entry.reasoning ?? "") + delta.text;
    } else {
      entry.content += delta.text;
    }
    return true;
  }

  /** The answer is complete: the result is the truth (it replaces what the deltas built). */
  finish(index: number, result: ChatResult): void {
    const entry = this.entries[index];
    if (!entry) return;
    entry.streaming = false;
    if (result.conversationId) this.conversationId = result.conversationId;
    if (typeof result.content === "string") entry.content = result.content;
    if (typeof result.reasoning === "string" && result.reasoning) entry.reasoning = result.reasoning;
    entry.local = result.finishReason === "local";
    if (!entry.local && result.usage) entry.cost = usageLine(result.usage);
    if (result.finishReason === "length") {
      entry.error = "The answer was cut short: it reached maxOutputTokens.";
    }
  }

  /** The request failed or was stopped: keep what arrived, and say why. */
  fail(index: number, error: unknown): void {
    const entry = this.entries[index];
    if (!entry) return;
    entry.streaming = false;
    const described = describeError(error);
    entry.error = described.text;
  }

  /** Forget everything shown (the server's /clear empties the conversation itself). */
  reset(): void {
    this.entries.length = 0;
    this.conversationId = undefined;
  }

  /** What the test API reports: plain copies without the streaming flags. */
  snapshot(): { role: "user" | "assistant"; content: string; reasoning?: string; cost?: string; error?: string }[] {
    return this.entries.map((e) => {
      const out: { role: "user" | "assistant"; content: string; reasoning?: string; cost?: string; error?: string } = {
        role: e.role,
        content: e.content,
      };
      if (e.reasoning) out.reasoning = e.reasoning;
      if (e.cost) out.cost = e.cost;
      if (e.error) out.error = e.error;
      return out;
    });
  }
}
