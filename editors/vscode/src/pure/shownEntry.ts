// A chat entry as the extension renders it and the webview script shows it (shared by both sides).

export interface ShownEntry {
  role: "user" | "assistant";
  html: string;
  reasoningHtml?: string;
  reasoningChars?: number;
  cost?: string;
  error?: string;
  streaming: boolean;
}
