// The chat's slash commands (handled by the server) and the hints offered while typing one.

export interface SlashCommand {
  name: string;
  description: string;
}

export const SLASH_COMMANDS: readonly SlashCommand[] = [
  { name: "/explain", description: "explain the selection (or the current file)" },
  { name: "/fix", description: "find and fix the problems in the selection" },
  { name: "/tests", description: "write tests for the current file" },
  { name: "/doc", description: "write documentation for the selection" },
  { name: "/context", description: "what the next question would send (no model call)" },
  { name: "/cost", description: "this session's tokens and cost (no model call)" },
  { name: "/clear", description: "start the conversation afresh" },
];

/** Commands matching what is typed so far (only while the input is a lone "/word"). */
export function slashHints(input: string): SlashCommand[] {
  const match = /^\/(\w*)$/.exec(input.trimStart());
  if (!match) return [];
  const typed = `/${match[1].toLowerCase()}`;
  return SLASH_COMMANDS.filter((c) => c.name.startsWith(typed));
}

/** Whether `message` starts with /clear (the view then starts a new transcript). */
export function isClear(message: string): boolean {
  return /^\/clear(\s|$)/.test(message.trim());
}
