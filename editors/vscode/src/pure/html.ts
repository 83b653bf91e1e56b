// HTML escaping: the one place text becomes markup, so model output can never inject tags or attributes.

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text as inert HTML (safe inside elements and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A link target the chat may show: http(s) and mailto only; anything else (javascript:, data:, command:) is refused. */
export function safeUrl(url: string): string | undefined {
  const trimmed = url.trim();
  return /^(https?:\/\/|mailto:)[^\s"'<>`]+$/i.test(trimmed) ? trimmed : undefined;
}
