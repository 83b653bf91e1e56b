// Shared helpers for the suites: the run's configuration, the kimi-lsp extension's test API,
// bounded waits, the fake Kimi API's control endpoints and requests to the browser driver
// (screenshots, clicks) answered through files.
"use strict";

const assert = require("assert");
const fs = require("fs");
const http = require("http");
const path = require("path");
const vscode = require("vscode");

const config = JSON.parse(fs.readFileSync(process.env.KIMI_E2E_CONFIG, "utf8"));
const EXTENSION_ID = "kimi-lsp.kimi-lsp";

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a truthy value (returned) or fails after `timeoutMs`. */
async function waitFor(what, probe, timeoutMs = 20000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.stack : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(everyMs);
  }
}

/** `kimi/status` from the running server (after a restart too). */
async function status() {
  const kimi = await api();
  await kimi.ready();
  const client = kimi.client();
  assert.ok(client, "no language client");
  return client.sendRequest("kimi/status", {});
}

let apiPromise;
/** The kimi-lsp extension's test API, activated and with its server ready. */
function api() {
  if (!apiPromise) {
    apiPromise = (async () => {
      const ext = await waitFor(
        `the extension ${EXTENSION_ID} to be installed`,
        () => vscode.extensions.getExtension(EXTENSION_ID),
        15000,
      );
      const exported = await ext.activate();
      assert.ok(exported && typeof exported.ready === "function", "activate() returned no test API");
      await exported.ready();
      return exported;
    })();
    // A failure is not kept: a later call tries again (e.g. once an untrusted folder is trusted,
    // VS Code enables an extension that had not declared Restricted Mode support).
    apiPromise.catch(() => {
      apiPromise = undefined;
    });
  }
  return apiPromise;
}

function request(method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      { method, headers: data ? { "content-type": "application/json", "content-length": data.length } : {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) reject(new Error(`${method} ${url}: ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : null);
        });
      },
    );
    req.on("error", reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${url}: no answer in 10 s`)));
    req.end(data);
  });
}

/** The control endpoints (tests/fake_kimi/control.py) of the fake Kimi API at `root`. */
function fakeAt(root) {
  const at = {
    control: (name) => `${root}/_control/${name}`,
    enqueue: (items) => request("POST", at.control("enqueue"), items),
    gate: (name, open) => request("POST", at.control("gate"), { name, open }),
    requests: async () =>
      (await request("GET", at.control("requests"))).filter((r) => r.path.endsWith("/chat/completions")),
    stats: () => request("GET", at.control("stats")),
  };
  return at;
}

/** The fake Kimi API every suite talks to (kimi.baseUrl). */
const fake = fakeAt(config.fakeRoot);

let driverSeq = 0;
/** Asks the Playwright driver to do something in the browser; resolves with its answer. */
async function driver(action, timeoutMs = 30000) {
  driverSeq += 1;
  const id = String(driverSeq).padStart(3, "0");
  const req = path.join(config.driverDir, `req-${id}.json`);
  const ack = path.join(config.driverDir, `ack-${id}.json`);
  fs.writeFileSync(`${req}.tmp`, JSON.stringify(action));
  fs.renameSync(`${req}.tmp`, req);
  const answer = await waitFor(
    `the browser driver to answer ${JSON.stringify(action)}`,
    () => fs.existsSync(ack) && JSON.parse(fs.readFileSync(ack, "utf8")),
    timeoutMs,
  );
  assert.ok(answer.ok, `browser driver failed ${JSON.stringify(action)}: ${answer.error}`);
  return answer;
}

/**
 * A screenshot of the whole window, without the toasts of earlier steps over it; `boxes`
 * ({label: CSS selector}) also gives the page box of each selector's first visible match.
 */
async function screenshot(name, boxes) {
  await vscode.commands.executeCommand("notifications.clearAll");
  return driver({ kind: "screenshot", name, boxes });
}

function workspaceUri(rel) {
  return vscode.Uri.file(path.join(config.workspace, rel));
}

async function openFile(rel) {
  const doc = await vscode.workspace.openTextDocument(workspaceUri(rel));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  return { doc, editor };
}

/** Puts a file back to `text` on disk and in any open document, saved. */
async function resetFile(rel, text) {
  const uri = workspaceUri(rel);
  const doc = await vscode.workspace.openTextDocument(uri);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, new vscode.Range(0, 0, doc.lineCount, 0), text);
  assert.ok(await vscode.workspace.applyEdit(edit), `could not reset ${rel}`);
  await doc.save();
  assert.strictEqual(doc.getText(), text);
  return doc;
}

/** A streamed inline-edit reply: the continuation after the server's "```python\n" prefix. */
function editReply(content, extra = {}) {
  const lines = content.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return { content: [...lines.map((l) => `${l}\n`), "```"], chunk_delay: 0.05, ...extra };
}

/** Writes a value for pytest to assert on (the facts file, one JSON object per suite key). */
function report(key, value) {
  const file = config.facts;
  const facts = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
  facts[key] = value;
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(facts, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

module.exports = {
  api, config, driver, status, editReply, fake, fakeAt, openFile, report, resetFile, screenshot, sleep, waitFor,
  workspaceUri,
};
