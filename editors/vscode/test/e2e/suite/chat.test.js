// Chat: an answer streams into the chat view (reasoning and content), and stopping a slow
// answer closes the upstream HTTP stream. The view is checked in the browser too: the webview's
// DOM (the answer's text as it grows, its cost line, the reasoning folded in a <details>).
"use strict";

const assert = require("assert");
const { api, fake, openFile, report, screenshot, status, waitFor } = require("./support");
const { inFrame } = require("./view");

/** Runs in the chat webview: records every text the last answer showed while streaming. */
function watchAnswers() {
  window.__kimiSeen = [];
  const transcript = document.getElementById("transcript");
  const record = () => {
    const entries = transcript.querySelectorAll("section.entry.assistant");
    const last = entries[entries.length - 1];
    if (!last) return;
    const seen = { text: last.querySelector(".content").textContent, streaming: last.classList.contains("streaming") };
    const prev = window.__kimiSeen[window.__kimiSeen.length - 1];
    if (!prev || prev.text !== seen.text || prev.streaming !== seen.streaming) window.__kimiSeen.push(seen);
  };
  new MutationObserver(record).observe(transcript, { childList: true, subtree: true, characterData: true });
  return true;
}

/** Runs in the chat webview: the last answer as shown, and what the recorder saw. */
function readAnswer() {
  const entries = document.querySelectorAll("#transcript section.entry");
  const last = entries[entries.length - 1];
  const details = last.querySelector("details.reasoning");
  const body = details && details.querySelector(".reasoning-body");
  const user = entries[entries.length - 2];
  return {
    entries: entries.length,
    userText: user ? user.querySelector(".content").textContent.trim() : null,
    who: last.querySelector(".who").textContent,
    classes: last.className,
    text: last.querySelector(".content").textContent,
    code: [...last.querySelectorAll(".content code")].map((c) => c.textContent),
    cost: last.querySelector(".cost") ? last.querySelector(".cost").textContent : null,
    error: last.querySelector(".error") ? last.querySelector(".error").textContent : null,
    reasoning: details
      ? { open: details.open, summary: details.querySelector("summary").textContent, text: body.textContent.trim(), shown: body.checkVisibility() }
      : null,
    seen: window.__kimiSeen || [],
    // The session's running totals depend on the suites before: masked in the screenshot check.
    sessionBox: (({ x, y, width, height }) => ({ x, y, width, height }))(document.getElementById("session").getBoundingClientRect()),
  };
}

/** Runs in the chat webview: opens the reasoning as a click on its summary does. */
function openReasoning() {
  const entries = document.querySelectorAll("#transcript section.entry");
  const details = entries[entries.length - 1].querySelector("details.reasoning");
  details.querySelector("summary").click();
  const body = details.querySelector(".reasoning-body");
  return { open: details.open, shown: body.checkVisibility(), text: body.textContent.trim() };
}

const lastAssistant = (kimi) => kimi.chat.transcript().filter((t) => t.role === "assistant").pop();

suite("chat", () => {
  suiteSetup(async () => {
    await api();
    await openFile("calc.py"); // the open file is the chat's context
  });

  test("an answer streams into the chat view with its reasoning", async () => {
    const kimi = await api();
    await kimi.chat.reveal();
    await fake.enqueue([{
      content: ["The ", "bug is ", "`a - b`", " in `add`: it should add."],
      reasoning: ["Look at add.\n", "It subtracts."],
      chunk_delay: 0.15,
      usage: { prompt_tokens: 1000, completion_tokens: 50 },
    }]);
    const before = (await fake.requests()).length;
    assert.strictEqual(await inFrame("#transcript", watchAnswers), true);
    let done = false;
    const answer = kimi.chat.send("What is wrong here?").finally(() => { done = true; });
    // Seen in the transcript while the model is still writing.
    const partial = await waitFor("part of the answer while streaming", () => {
      const last = lastAssistant(kimi);
      return last && last.content && !done && last.content;
    }, 20000, 20);
    assert.ok(partial.length < "The bug is `a - b` in `add`: it should add.".length, partial);
    await answer;
    const last = lastAssistant(kimi);
    assert.strictEqual(last.content, "The bug is `a - b` in `add`: it should add.");
    assert.strictEqual(last.reasoning, "Look at add.\nIt subtracts.");
    assert.ok(!last.error, last.error);
    const transcript = kimi.chat.transcript();
    const user = transcript.filter((t) => t.role === "user").pop();
    assert.strictEqual(user.content, "What is wrong here?");
    const requests = await fake.requests();
    assert.strictEqual(requests.length, before + 1);
    assert.ok(JSON.stringify(requests[requests.length - 1].body.messages).includes("return a - b"),
      "the open file was not sent as context");

    // What the chat view shows, read in its webview (the same <details> stays folded).
    const full = "The bug is a - b in add: it should add.";
    const shown = await waitFor("the finished answer in the webview", async () => {
      const a = await inFrame("#transcript", readAnswer);
      return a.text === full && !a.classes.includes("streaming") && a.cost && a;
    });
    assert.strictEqual(shown.who, "Kimi");
    assert.strictEqual(shown.userText, "What is wrong here?");
    assert.deepStrictEqual(shown.code, ["a - b", "add"]);
    assert.strictEqual(shown.cost, last.cost, "the webview's cost line is not the transcript's");
    assert.match(shown.cost, /^\$\d+\.\d+ · 1,000 in\b.* · 50 out/, shown.cost);
    const reasoning = "Look at add.\nIt subtracts.";
    assert.deepStrictEqual(shown.reasoning, {
      open: false, summary: `Reasoning (${reasoning.length} characters)`, text: reasoning, shown: false,
    });
    // Streamed: the webview showed shorter prefixes of the answer before the whole of it.
    const texts = shown.seen.map((s) => s.text);
    const partials = shown.seen.filter((s) => s.streaming && s.text && s.text !== full);
    assert.ok(partials.length >= 1, `no partial answer was shown: ${JSON.stringify(shown.seen)}`);
    assert.ok(partials.every((s) => full.startsWith(s.text.replace(/…$/, ""))), JSON.stringify(texts));
    const shot = await screenshot("chat-streamed", { chat: "iframe.webview.ready" });
    const frame = shot.boxes.chat;
    const inner = shown.sessionBox;
    report("chatView", {
      box: frame || null,
      masks: frame ? [{ x: frame.x + inner.x, y: frame.y + inner.y, width: inner.width, height: inner.height }] : [],
    });
    // The reasoning opens on a click and shows its text.
    const opened = await inFrame("#transcript", openReasoning);
    assert.deepStrictEqual(opened, { open: true, shown: true, text: "Look at add.\nIt subtracts." });
  });

  test("stop closes the upstream stream and the chat goes on", async () => {
    const kimi = await api();
    const words = Array.from({ length: 300 }, (_, i) => `word${i} `);
    await fake.enqueue([{ content: words, chunk_delay: 0.05 }, { content: "Back again." }]);
    const before = (await fake.requests()).length;
    const answer = kimi.chat.send("Write a long answer.");
    const settled = answer.then(() => "resolved", (err) => `rejected: ${err && err.message}`);
    await waitFor("the slow answer to start streaming", () => {
      const last = lastAssistant(kimi);
      return last && last.content.includes("word2");
    }, 20000, 20);
    kimi.chat.stop();
    const outcome = await waitFor("send() to settle after stop()", () => settled, 10000);
    const [stopped] = await waitFor("the fake to see the client disconnect", async () => {
      const requests = (await fake.requests()).slice(before);
      return requests.length === 1 && requests[0].outcome !== "in_progress" && requests;
    }, 10000);
    assert.strictEqual(stopped.outcome, "client_disconnected", `send(): ${outcome}`);
    assert.ok(stopped.events_sent < 250, `the stream was not cut early: ${stopped.events_sent} events`);
    const cut = lastAssistant(kimi).content;
    assert.ok(!cut.includes("word299"), "the whole answer arrived");
    // No more text after stop: whatever the server sent before answering this has arrived.
    await status();
    assert.strictEqual(lastAssistant(kimi).content, cut, "text arrived after stop");
    // The view shows the cut answer and that it was stopped.
    const stoppedView = await waitFor("the stopped answer in the webview", async () => {
      const a = await inFrame("#transcript", readAnswer);
      return a.text.trim() === cut.trim() && !a.classes.includes("streaming") && a.error && a;
    });
    assert.match(stoppedView.error, /Stopped/, stoppedView.error);

    await kimi.chat.send("Are you still there?");
    assert.strictEqual(lastAssistant(kimi).content, "Back again.");
    const requests = (await fake.requests()).slice(before);
    assert.deepStrictEqual(requests.map((r) => r.outcome), ["client_disconnected", "completed"]);
  });
});
