// The chat webview's HTML shell: a strict content security policy with a nonce, local script and styles only.

import * as crypto from "node:crypto";
import * as vscode from "vscode";

export function chatHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = crypto.randomBytes(16).toString("base64");
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview.js"));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "chat.css"));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Kimi Chat</title>
</head>
<body>
<main id="transcript" aria-live="polite"></main>
<div id="empty" class="empty">
  <p><strong>Ask Kimi</strong> about the active file or the selection.</p>
  <p>Slash commands: <code>/explain</code> <code>/fix</code> <code>/tests</code> <code>/doc</code> <code>/context</code> <code>/cost</code> <code>/clear</code></p>
</div>
<footer>
  <ul id="hints" class="hints" role="listbox" hidden></ul>
  <div class="input-row">
    <textarea id="input" rows="3" placeholder="Ask Kimi… (Enter to send, Shift+Enter for a new line, / for commands)" aria-label="Message"></textarea>
  </div>
  <div class="button-row">
    <span id="session" class="session"></span>
    <button id="new" class="secondary" title="Start a new conversation">New</button>
    <button id="stop" class="secondary" title="Stop the answer" hidden>Stop</button>
    <button id="send" title="Send (Enter)">Send</button>
  </div>
</footer>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
