// The chat webview's script (runs in the browser): shows entries the extension rendered, sends input, buttons and slash hints.

import type { ShownEntry } from "../pure/shownEntry";
import type { SlashCommand } from "../pure/slash";

type Incoming =
  | { type: "all"; entries: ShownEntry[]; busy: boolean }
  | { type: "entry"; index: number; entry: ShownEntry; busy: boolean }
  | { type: "slash"; commands: SlashCommand[] }
  | { type: "session"; text: string }
  | { type: "focus" };

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscodeApi = acquireVsCodeApi();
const transcript = document.getElementById("transcript") as HTMLElement;
const empty = document.getElementById("empty") as HTMLElement;
const input = document.getElementById("input") as HTMLTextAreaElement;
const sendButton = document.getElementById("send") as HTMLButtonElement;
const stopButton = document.getElementById("stop") as HTMLButtonElement;
const newButton = document.getElementById("new") as HTMLButtonElement;
const hints = document.getElementById("hints") as HTMLUListElement;
const session = document.getElementById("session") as HTMLElement;

let busy = false;
let slashCommands: SlashCommand[] = [];
let shownHints: SlashCommand[] = [];
let selectedHint = 0;

function nearBottom(): boolean {
  const root = document.scrollingElement ?? document.documentElement;
  return root.scrollHeight - root.scrollTop - root.clientHeight < 80;
}

function scrollToBottom(): void {
  const root = document.scrollingElement ?? document.documentElement;
  root.scrollTop = root.scrollHeight;
}

function setBusy(value: boolean): void {
  busy = value;
  stopButton.hidden = !busy;
  sendButton.disabled = busy;
}

function element(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Build (or rebuild) the element of one entry. `html` comes from the extension's escaping renderer. */
function renderEntry(index: number, entry: ShownEntry, previous?: HTMLElement): HTMLElement {
  const wasOpen = previous?.querySelector("details")?.open ?? false;
  const section = element("section", `entry ${entry.role}${entry.streaming ? " streaming" : ""}`);
  section.dataset.index = String(index);
  section.appendChild(element("div", "who", entry.role === "user" ? "You" : "Kimi"));
  if (entry.reasoningHtml) {
    const details = document.createElement("details");
    details.className = "reasoning";
    details.open = wasOpen;
    const label = entry.streaming && !entry.html ? "Thinking…" : "Reasoning";
    details.appendChild(element("summary", "", `${label} (${entry.reasoningChars ?? 0} characters)`));
    const body = element("div", "reasoning-body");
    body.innerHTML = entry.reasoningHtml;
    details.appendChild(body);
    section.appendChild(details);
  }
  const content = element("div", "content");
  content.innerHTML = entry.html;
  if (entry.streaming && !entry.html && !entry.reasoningHtml) {
    content.appendChild(element("span", "waiting", "…"));
  }
  section.appendChild(content);
  if (entry.error) {
    const error = element("div", "error");
    error.innerHTML = entry.error;
    section.appendChild(error);
  }
  if (entry.cost) section.appendChild(element("div", "cost", entry.cost));
  return section;
}

function showAll(entries: ShownEntry[]): void {
  transcript.replaceChildren(...entries.map((entry, i) => renderEntry(i, entry)));
  empty.hidden = entries.length > 0;
  scrollToBottom();
}

function showEntry(index: number, entry: ShownEntry): void {
  const follow = nearBottom();
  const previous = transcript.querySelector<HTMLElement>(`section.entry[data-index="${index}"]`);
  const next = renderEntry(index, entry, previous ?? undefined);
  if (previous) previous.replaceWith(next);
  else transcript.appendChild(next);
  empty.hidden = true;
  if (follow) scrollToBottom();
}

function send(): void {
  const text = input.value;
  if (!text.trim() || busy) return;
  vscodeApi.postMessage({ type: "send", text });
  input.value = "";
  updateHints();
}

function updateHints(): void {
  const match = /^\/(\w*)$/.exec(input.value.trimStart());
  shownHints = match ? slashCommands.filter((c) => c.name.startsWith(`/${match[1].toLowerCase()}`)) : [];
  if (shownHints.length === 1 && shownHints[0].name === input.value.trim()) shownHints = [];
  selectedHint = Math.min(selectedHint, Math.max(0, shownHints.length - 1));
  hints.replaceChildren(
    ...shownHints.map((c, i) => {
      const item = element("li", i === selectedHint ? "selected" : "");
      item.setAttribute("role", "option");
      item.dataset.name = c.name;
      item.appendChild(element("span", "name", c.name));
      item.appendChild(element("span", "description", c.description));
      return item;
    }),
  );
  hints.hidden = shownHints.length === 0;
}

function complete(name: string): void {
  input.value = `${name} `;
  input.focus();
  updateHints();
}

input.addEventListener("input", () => {
  selectedHint = 0;
  updateHints();
});
input.addEventListener("keydown", (event) => {
  if (!hints.hidden && shownHints.length > 0) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      selectedHint = (selectedHint + step + shownHints.length) % shownHints.length;
      updateHints();
      event.preventDefault();
      return;
    }
    if (event.key === "Tab" || (event.key === "Enter" && !event.shiftKey)) {
      complete(shownHints[selectedHint].name);
      event.preventDefault();
      return;
    }
    if (event.key === "Escape") {
      shownHints = [];
      hints.hidden = true;
      return;
    }
  }
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
hints.addEventListener("mousedown", (event) => {
  const item = (event.target as HTMLElement).closest("li");
  if (item?.dataset.name) {
    event.preventDefault();
    complete(item.dataset.name);
  }
});
sendButton.addEventListener("click", send);
stopButton.addEventListener("click", () => vscodeApi.postMessage({ type: "stop" }));
newButton.addEventListener("click", () => vscodeApi.postMessage({ type: "new" }));
transcript.addEventListener("click", (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
  const section = button?.closest<HTMLElement>("section.entry");
  if (!button || !section) return;
  vscodeApi.postMessage({
    type: "code",
    action: button.dataset.action,
    entry: Number(section.dataset.index),
    block: Number(button.dataset.block),
  });
  if (button.dataset.action === "copy") {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = label), 1200);
  }
});

window.addEventListener("message", (event: MessageEvent<Incoming>) => {
  const message = event.data;
  switch (message.type) {
    case "all":
      showAll(message.entries);
      setBusy(message.busy);
      break;
    case "entry":
      showEntry(message.index, message.entry);
      setBusy(message.busy);
      break;
    case "slash":
      slashCommands = message.commands;
      break;
    case "session":
      session.textContent = message.text;
      break;
    case "focus":
      input.focus();
      break;
  }
});

vscodeApi.postMessage({ type: "ready" });
input.focus();
