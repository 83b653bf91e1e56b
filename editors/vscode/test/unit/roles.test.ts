// Unit tests of model roles and fallback in the UI: who answered, the status text and tooltip, per-endpoint key routes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { endpointSecretName, keyRoutes, keyVariableProblem } from "../../src/pure/endpointKeys";
import { statusText, usageLine } from "../../src/pure/format";
import { answeredBy, fallbackText, fallbackTime, fallbackTooltip, rolesLines } from "../../src/pure/roles";

test("answeredBy reads kimi/usage's usage: model, role, fallback, estimated", () => {
  assert.deepEqual(answeredBy({ model: "fast-model", role: "chat", fallback: true, promptTokens: 3 }), {
    model: "fast-model",
    role: "chat",
    fallback: true,
    estimated: false,
  });
  assert.deepEqual(answeredBy({ model: "kimi-k2.6", estimated: true }), {
    model: "kimi-k2.6",
    role: undefined,
    fallback: false,
    estimated: true,
  });
  // A server without roles (no model in usage) says nothing: the caller keeps what it showed.
  assert.equal(answeredBy({ promptTokens: 1 }), undefined);
  assert.equal(answeredBy(undefined), undefined);
  assert.equal(answeredBy({ model: "" }), undefined);
  // Anything but true is not a fallback.
  assert.equal(answeredBy({ model: "m", fallback: "yes" })?.fallback, false);
});

test("statusText: a fallback's answer shows its model and the notice; the primary's answer shows it plainly", () => {
  const session = { cost: 0.5, currency: "USD" };
  assert.equal(
    statusText({ model: "fast-model", busy: 0, session, server: "running", fallback: true }),
    "$(warning) Kimi: fast-model (fallback)",
  );
  assert.equal(
    statusText({ model: "fast-model", busy: 1, session, server: "running", fallback: true }),
    "$(sync~spin) Kimi: fast-model (fallback)",
  );
  assert.equal(statusText({ model: "kimi-k2.6", busy: 0, session, server: "running", fallback: false }), "$(sparkle) kimi-k2.6 $0.5000");
  // Stopped or key withheld: those states win over the notice.
  assert.equal(statusText({ model: "m", busy: 0, server: "stopped", fallback: true }), "$(sparkle) m (stopped)");
  assert.equal(statusText({ model: "m", busy: 0, server: "running", keyWithheld: true, fallback: true }), "$(sparkle) m (no key)");
  assert.equal(fallbackText({ model: "fast-model", fallback: true }), "$(warning) Kimi: fast-model (fallback)");
});

test("fallbackTooltip names the primary, what happened to it and the model that answered", () => {
  const answer = { model: "fast-model", role: "chat", fallback: true };
  const status = {
    model: "kimi-k2.6",
    roles: { chat: { model: "kimi-k2.6", baseUrl: "https://api.moonshot.ai/v1" } },
    lastFallback: { at: "2026-12-07T11:00:00Z", from: "kimi-k2.6", to: "fast-model", kind: "overloaded" },
  };
  assert.equal(fallbackTooltip(answer, status), "kimi-k2.6 was overloaded; fast-model answered via fallback");
  const timedOut = { ...status, lastFallback: { ...status.lastFallback, kind: "timeout" } };
  assert.equal(fallbackTooltip(answer, timedOut), "kimi-k2.6 timed out; fast-model answered via fallback");
  // The role's own primary, not the top-level model.
  const edit = { model: "relay-k2", role: "edit", fallback: true };
  const roles = { model: "kimi-k2.6", roles: { edit: { model: "self-hosted" } } };
  assert.equal(fallbackTooltip(edit, roles), "self-hosted failed; relay-k2 answered via fallback");
  // Before kimi/status answered.
  assert.equal(fallbackTooltip(answer, undefined), "the primary model failed; fast-model answered via fallback");
});

test("rolesLines: one line per role, then the last fallback; nothing from a server without roles", () => {
  assert.deepEqual(
    rolesLines({
      roles: { chat: { model: "kimi-k2.6", baseUrl: "https://api.moonshot.ai/v1" }, prediction: { model: "fast" } },
      lastFallback: { at: "2026-12-07T11:00:00Z", from: "kimi-k2.6", to: "fast", kind: "server" },
    }),
    [
      "Role chat: kimi-k2.6 · https://api.moonshot.ai/v1",
      "Role prediction: fast",
      "Last fallback at 2026-12-07T11:00:00Z: kimi-k2.6 → fast (server)",
    ],
  );
  assert.deepEqual(rolesLines({ model: "kimi-k2.6" }), []);
  assert.equal(fallbackTime(1765105200), "2025-12-07T11:00:00.000Z");
  assert.equal(fallbackTime(1765105200000), "2025-12-07T11:00:00.000Z");
});

test("keyRoutes: each endpoint variable's key goes to its entries' hosts; the main key to those naming its variable", () => {
  const routes = keyRoutes(
    "https://api.moonshot.ai/v1",
    {
      prediction: { model: "fast", baseUrl: "https://relay.example/v1", apiKeyEnv: "RELAY_KEY" },
      chat: { model: "kimi-k2.6" },
      edit: { model: "self", baseUrl: "http://127.0.0.1:8000/v1" },
    },
    [
      { model: "kimi-k2.6", baseUrl: "https://relay.example/v1", apiKeyEnv: "RELAY_KEY" },
      { model: "kimi-k2.6", apiKeyEnv: "SECOND_KEY" },
      { model: "k", baseUrl: "https://other.example/v1", apiKeyEnv: "MOONSHOT_API_KEY" },
    ],
  );
  // The self-hosted edit role (no apiKeyEnv, another endpoint) gets no key at all (config.py);
  // the entry naming MOONSHOT_API_KEY gets the main key.
  assert.deepEqual(routes.main, ["api.moonshot.ai", "other.example"]);
  assert.deepEqual(routes.endpoints, { RELAY_KEY: ["relay.example"], SECOND_KEY: ["api.moonshot.ai"] });
  assert.deepEqual(routes.problems, []);
});

test("keyRoutes: a variable that would change how the server runs never carries a stored key", () => {
  const routes = keyRoutes("https://api.moonshot.ai/v1", { chat: { model: "m", apiKeyEnv: "LD_PRELOAD" } }, [
    { model: "m", apiKeyEnv: "PATH" },
    { model: "m", apiKeyEnv: "1BAD" },
    "not an entry",
    null,
  ]);
  assert.deepEqual(routes.endpoints, {});
  assert.equal(routes.problems.length, 3);
  assert.match(routes.problems[0], /^models\.chat\.apiKeyEnv: 'LD_PRELOAD'/);
  assert.match(routes.problems[1], /^fallback\[0\]\.apiKeyEnv: 'PATH'/);
  assert.match(routes.problems[2], /not an environment variable name/);
  assert.equal(keyVariableProblem("FALLBACK_API_KEY"), undefined);
  assert.equal(keyVariableProblem("PYTHONPATH")?.includes("changes how programs run"), true);
  // Malformed settings are no routes at all.
  assert.deepEqual(keyRoutes("https://api.moonshot.ai/v1", "x", { a: 1 }), { main: ["api.moonshot.ai"], endpoints: {}, problems: [] });
  assert.equal(endpointSecretName("RELAY_KEY"), "kimi-lsp.endpointKey.RELAY_KEY");
});

test("usageLine under an answer names a fallback's model and marks estimated counts", () => {
  const usage = { promptTokens: 10, cachedTokens: 0, completionTokens: 2, cost: 0, currency: "USD" };
  assert.equal(usageLine({ ...usage, model: "kimi-k2.6", role: "chat", fallback: false }), "$0.0000 · 10 in · 2 out");
  assert.equal(usageLine({ ...usage, model: "fast-model", fallback: true }), "$0.0000 · 10 in · 2 out · fast-model (fallback)");
  assert.equal(usageLine({ ...usage, model: "local", estimated: true }), "$0.0000 · 10 in · 2 out (estimated)");
});
