// Unit tests of cost and token formatting, the status text, error sentences and the transcript.

import assert from "node:assert/strict";
import { test } from "node:test";
import { describeError } from "../../src/pure/errors";
import { count, money, statusText, usageLine } from "../../src/pure/format";
import { lineSpan, manifestMarkdown } from "../../src/pure/manifest";
import { slashHints } from "../../src/pure/slash";
import { Transcript } from "../../src/pure/transcript";

test("money: dollars with 4 decimals, other currencies after the amount", () => {
  assert.equal(money(0.00123, "USD"), "$0.0012");
  assert.equal(money(0, undefined), "$0.0000");
  assert.equal(money(1.5, "CNY"), "1.5000 CNY");
  assert.equal(money(1234.567, "USD"), "$1234.57");
  assert.equal(money(Number.NaN, "USD"), "$0.0000");
});

test("count groups thousands", () => {
  assert.equal(count(0), "0");
  assert.equal(count(1234567), "1,234,567");
  assert.equal(count(undefined), "0");
});

test("usageLine: cost, prompt tokens with the cached part, output", () => {
  assert.equal(
    usageLine({ promptTokens: 2048, cachedTokens: 1024, completionTokens: 310, cost: 0.0031, currency: "USD" }),
    "$0.0031 · 2,048 in (1,024 cached) · 310 out",
  );
  assert.equal(usageLine({ promptTokens: 10, cachedTokens: 0, completionTokens: 2, cost: 0, currency: "USD" }), "$0.0000 · 10 in · 2 out");
});

test("statusText: model, spinner while busy, session cost", () => {
  const session = { cost: 0.0123, currency: "USD" };
  assert.equal(statusText({ model: "kimi-k2.6", busy: 0, session, server: "running" }), "$(sparkle) kimi-k2.6 $0.0123");
  assert.equal(statusText({ model: "kimi-k2.6", busy: 1, session, server: "running" }), "$(sync~spin) kimi-k2.6 $0.0123");
  assert.equal(statusText({ busy: 0, server: "failed" }), "$(error) Kimi");
  assert.equal(statusText({ busy: 0, server: "stopped" }), "$(sparkle) Kimi (stopped)");
});

test("errors with data.kind become a readable sentence", () => {
  const e = { code: -32803, message: "Rate limited by the API.", data: { kind: "rate_limit", retryAfter: 2.5 } };
  assert.deepEqual(describeError(e), {
    kind: "rate_limit",
    title: "Rate limited",
    message: "Rate limited by the API.",
    cancelled: false,
    text: "Rate limited: Rate limited by the API. (retry in 3 s)",
  });
  assert.equal(describeError({ code: -32800, message: "cancelled" }).cancelled, true);
  assert.equal(describeError(new Error("boom")).text, "Error: boom");
});

test("the transcript: deltas stream in, the result is the truth, errors are kept", () => {
  const t = new Transcript();
  const i = t.ask("hello");
  assert.ok(t.delta(i, { conversationId: "c1", kind: "reasoning", text: "hm" }));
  assert.ok(t.delta(i, { conversationId: "c1", kind: "content", text: "Hi" }));
  assert.ok(!t.delta(i, { conversationId: "other", kind: "content", text: "X" }));
  t.finish(i, { conversationId: "c1", content: "Hi!", usage: { promptTokens: 5, completionTokens: 1, cost: 0.001, currency: "USD" } });
  assert.deepEqual(t.snapshot(), [
    { role: "user", content: "hello" },
    { role: "assistant", content: "Hi!", reasoning: "hm", cost: "$0.0010 · 5 in · 1 out" },
  ]);
  const j = t.ask("again");
  t.fail(j, { code: -32803, message: "Kimi API key missing.", data: { kind: "auth" } });
  assert.equal(t.snapshot()[3].error, "API key rejected: Kimi API key missing. In VS Code: run 'Kimi: Set API Key'.");
  assert.equal(t.conversationId, "c1");
});

test("slash hints follow what is typed", () => {
  assert.deepEqual(slashHints("/c").map((c) => c.name), ["/context", "/cost", "/clear"]);
  assert.deepEqual(slashHints("/explain more"), []);
  assert.equal(slashHints("/").length, 7);
});

test("the context manifest as markdown", () => {
  const md = manifestMarkdown(
    {
      budget: 228352,
      totalTokens: 1200,
      tokenizer: "kimi",
      exact: true,
      purpose: "chat",
      sections: [
        { kind: "current_file", uri: "file:///w/src/a.py", range: { start: { line: 0, character: 0 }, end: { line: 40, character: 0 } }, tokens: 1000, reason: "the file | you are in", truncated: false },
        { kind: "repo_map", tokens: 200, reason: "overview", truncated: true },
      ],
      excluded: [{ uri: "file:///w/.env", reason: "secret file" }],
    },
    "src/a.py:3",
    ["file:///w"],
  );
  assert.ok(md.includes("1,200 of 228,352 tokens (<1% of the budget)"), md);
  assert.ok(md.includes("kimi (exact counts)"), md);
  assert.ok(md.includes("| 1 | current_file | `src/a.py:1-40` | 1,000 | the file \\| you are in |  |"), md);
  assert.ok(md.includes("| 2 | repo_map | — | 200 | overview | yes |"), md);
  assert.ok(md.includes("| `.env` | secret file |"), md);
  assert.equal(lineSpan({ start: { line: 4, character: 0 }, end: { line: 4, character: 9 } }), "5");
});

test("statusText says when the stored key was withheld from the endpoint", () => {
  assert.equal(statusText({ model: "kimi-k2.6", busy: 0, server: "running", keyWithheld: true }), "$(sparkle) kimi-k2.6 (no key)");
});
