// Chat: an answer streams into the chat view (reasoning and content), and stopping a slow
// answer closes the upstream HTTP stream.
"use strict";

const assert = require("assert");
const { api, fake, openFile, screenshot, waitFor } = require("./support");

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
    await screenshot("chat-streamed");
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
    await waitFor("no more text after stop", async () => {
      await new Promise((r) => setTimeout(r, 300));
      return lastAssistant(kimi).content === cut;
    });

    await kimi.chat.send("Are you still there?");
    assert.strictEqual(lastAssistant(kimi).content, "Back again.");
    const requests = (await fake.requests()).slice(before);
    assert.deepStrictEqual(requests.map((r) => r.outcome), ["client_disconnected", "completed"]);
  });
});
