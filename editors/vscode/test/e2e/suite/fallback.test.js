// Model roles and fallback (issue 17): a fallback endpoint with its own key (Kimi: Set API Key
// for an Endpoint…, asked about per host), the primary overloaded: the status bar shows the
// fallback's model and the notice; the primary answers again: the notice goes. The session's
// user settings name the fallback (kimi.fallback, apiKeyEnv KIMI_E2E_FALLBACK_KEY) from the
// start, and this suite writes no setting: once anything writes the user settings, code-server
// no longer reads the machine-scoped ones (kimi.server.command, kimi.fallback) from them, so a
// restart afterwards would not find the server. It restarts the server twice (the key stored,
// then removed) and runs before definitions.test.js, which writes a setting.
"use strict";

const assert = require("assert");
const vscode = require("vscode");
const { api, config, driver, fake, fakeAt, openFile, report, screenshot, status, waitFor } = require("./support");

const VARIABLE = "KIMI_E2E_FALLBACK_KEY";
// The second fallback entry: the same fake spelled "localhost", so another host to ask about.
const REFUSED = "KIMI_E2E_REFUSED_KEY";
const DIALOG = ".monaco-dialog-box";
const fallbackFake = fakeAt(config.fallbackRoot);
const lastAssistant = (kimi) => kimi.chat.transcript().filter((t) => t.role === "assistant").pop();

/** The status bar as the browser shows it. */
async function statusBarText() {
  return (await driver({ kind: "texts", selector: ".statusbar" })).texts.join(" ");
}

/** Waits until a new language client (not `old`) runs and answers (the output log is bounded: no offsets into it). */
async function restarted(kimi, old, what) {
  await waitFor(what, async () => {
    await kimi.ready().catch(() => undefined);
    const client = kimi.client();
    return client && client !== old && client.isRunning() && (await status()) !== undefined;
  }, 30000);
}

/** The output log's last "Starting the Kimi server" line. */
function lastStart(kimi) {
  const log = kimi.logText();
  return log.slice(log.lastIndexOf("Starting the Kimi server")).split("\n")[0];
}

suite("fallback", () => {
  suiteSetup(async () => {
    const kimi = await api();
    await openFile("calc.py");
    // Each fallback's key goes to its own host only.
    assert.deepStrictEqual(kimi.keyRoutes().endpoints, {
      [REFUSED]: [new URL(config.refusedRoot).host],
      [VARIABLE]: [new URL(config.fallbackRoot).host],
    });
  });

  suiteTeardown(async () => {
    const kimi = await api();
    for (const name of [VARIABLE, REFUSED]) {
      const old = kimi.client();
      await vscode.commands.executeCommand("kimi-lsp.clearEndpointApiKey", name);
      await restarted(kimi, old, `a restart without the key for ${name}`);
    }
  });

  test("the endpoint's key is typed once, asked about for its host, and given to the server", async () => {
    const kimi = await api();
    const old = kimi.client();
    const asked = vscode.commands.executeCommand("kimi-lsp.setEndpointApiKey", VARIABLE);
    await driver({ kind: "type", selector: ".quick-input-widget input", text: config.fallbackKey, press: "Enter" });
    assert.strictEqual(await asked, true);
    await driver({ kind: "wait", selector: DIALOG, timeout: 20000 });
    const dialog = await driver({ kind: "texts", selector: DIALOG });
    const host = new URL(config.fallbackRoot).host;
    assert.ok(dialog.texts.some((t) => t.includes(`Send your key for ${VARIABLE} to ${host}?`)), JSON.stringify(dialog.texts));
    await driver({ kind: "click", selector: `${DIALOG} .monaco-button`, name: "Allow" });
    await restarted(kimi, old, "a restart with the endpoint key");
    const started = lastStart(kimi);
    assert.ok(started.includes(`(endpoint keys from VS Code's secret storage: ${VARIABLE})`), started);
    assert.deepStrictEqual(kimi.endpointKeysWithheld(), {});
    assert.ok(!kimi.logText().includes(config.fallbackKey), "the endpoint key is in the output channel");
  });

  test("Cancel for an endpoint's host: its key is not handed to the server", async () => {
    const kimi = await api();
    const old = kimi.client();
    const asked = vscode.commands.executeCommand("kimi-lsp.setEndpointApiKey", REFUSED);
    await driver({ kind: "type", selector: ".quick-input-widget input", text: config.refusedKey, press: "Enter" });
    assert.strictEqual(await asked, true);
    await driver({ kind: "wait", selector: DIALOG, timeout: 20000 });
    const dialog = await driver({ kind: "texts", selector: DIALOG });
    const host = new URL(config.refusedRoot).host;
    // Only the new host is asked about: the main key's and the first fallback's were answered.
    assert.ok(dialog.texts.some((t) => t.includes(`Send your key for ${REFUSED} to ${host}?`)), JSON.stringify(dialog.texts));
    await driver({ kind: "click", selector: `${DIALOG} .monaco-button`, name: "Cancel" });
    await driver({ kind: "hidden", selector: DIALOG, timeout: 10000 });
    await restarted(kimi, old, "a restart without the refused key");
    assert.deepStrictEqual(kimi.endpointKeysWithheld(), { [REFUSED]: host });
    const started = lastStart(kimi);
    assert.ok(started.includes(`(endpoint keys from VS Code's secret storage: ${VARIABLE})`), started);
    assert.ok(!started.includes(REFUSED), started);
  });

  test("the primary overloaded: the fallback answers and the status bar says so", async () => {
    const kimi = await api();
    // Not retried: with a fallback in hand the server retries only rate limits.
    await fake.enqueue([{ status: 503, type: "engine_overloaded_error", message: "The engine is currently overloaded, please try again later" }]);
    await fallbackFake.enqueue([{ content: "The fallback answers." }]);
    const result = await kimi.chat.send("Who answers?");
    assert.strictEqual(lastAssistant(kimi).content, "The fallback answers.", JSON.stringify(result));
    const answer = await waitFor("kimi/usage to say a fallback answered", () => {
      const last = kimi.lastAnswer();
      return last && last.fallback && last;
    });
    assert.deepStrictEqual({ model: answer.model, fallback: answer.fallback }, { model: "kimi-k2.5", fallback: true });
    assert.strictEqual(kimi.statusText(), "$(warning) Kimi: kimi-k2.5 (fallback)");
    const shown = await waitFor("the status bar to show the fallback", async () => {
      const text = await statusBarText();
      return text.includes("Kimi: kimi-k2.5 (fallback)") && text;
    });
    report("fallbackStatusBar", shown);
    assert.ok(lastAssistant(kimi).cost.includes("kimi-k2.5 (fallback)"), lastAssistant(kimi).cost);
    await screenshot("status-fallback");
    const requests = await fallbackFake.requests();
    assert.strictEqual(requests.length, 1);
    assert.strictEqual(requests[0].headers.authorization, `Bearer ${config.fallbackKey}`);
    assert.strictEqual(requests[0].body.model, "kimi-k2.5");
  });

  test("Show Status lists the last fallback and who answered", async () => {
    const shown = vscode.commands.executeCommand("kimi-lsp.showStatus");
    await driver({ kind: "wait", selector: DIALOG, timeout: 20000 });
    const dialog = (await driver({ kind: "texts", selector: DIALOG })).texts.join("\n");
    report("fallbackStatusDialog", dialog);
    await driver({ kind: "keys", keys: ["Escape"] });
    await driver({ kind: "hidden", selector: DIALOG, timeout: 10000 });
    await shown;
    assert.ok(dialog.includes("Last answer: kimi-k2.5 (chat) via fallback"), dialog);
    assert.ok(/Last fallback[^\n]*kimi-k2\.6 → kimi-k2\.5/.test(dialog), dialog);
    assert.ok(dialog.includes(`The key stored for ${REFUSED} was not sent to ${new URL(config.refusedRoot).host}`), dialog);
  });

  test("the primary answers again: the notice goes", async () => {
    const kimi = await api();
    await fake.enqueue([{ content: "The primary is back." }]);
    await kimi.chat.send("And now?");
    assert.strictEqual(lastAssistant(kimi).content, "The primary is back.");
    await waitFor("kimi/usage to say the primary answered", () => {
      const last = kimi.lastAnswer();
      return last && !last.fallback && last.model === "kimi-k2.6";
    });
    assert.ok(kimi.statusText().startsWith("$(sparkle) kimi-k2.6 "), kimi.statusText());
    const shown = await waitFor("the status bar to drop the notice", async () => {
      const text = await statusBarText();
      return !text.includes("(fallback)") && text.includes("kimi-k2.6") && text;
    });
    report("primaryStatusBar", shown);
    assert.strictEqual((await fallbackFake.requests()).length, 1, "the fallback was asked again");
  });
});
