// Test-only helper extension: runs the mocha suites named by the JSON file in $KIMI_E2E_CONFIG
// inside the real extension host (real `vscode` API, real kimi-lsp extension and server), then
// writes every test's outcome to the results file that pytest waits for
// (tests/editors/vscode/test_vscode.py). Mocha is loaded by path from the test cache.
"use strict";

const fs = require("fs");
const path = require("path");

function writeJson(file, data) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2));
  fs.renameSync(tmp, file); // pytest never reads a half-written file
}

function errorText(err) {
  if (!err) return "";
  const parts = [err.stack || String(err.message || err)];
  if (err.actual !== undefined || err.expected !== undefined) {
    const show = (v) => (typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v, null, 1));
    parts.push(`actual:   ${show(err.actual)}`, `expected: ${show(err.expected)}`);
  }
  return parts.join("\n");
}

async function runSuites(config) {
  const Mocha = require(config.mocha);
  const mocha = new Mocha({ ui: "tdd", timeout: config.testTimeoutMs || 60000, color: false });
  for (const suite of config.suites) {
    mocha.addFile(path.resolve(__dirname, "suite", suite));
  }
  const tests = [];
  const started = Date.now();
  await new Promise((resolve) => {
    const runner = mocha.run(() => resolve());
    const record = (test, state, err) =>
      tests.push({
        file: test.file ? path.basename(test.file) : "",
        title: test.fullTitle(),
        state,
        ms: test.duration || 0,
        error: errorText(err),
      });
    runner.on("pass", (test) => record(test, "passed"));
    runner.on("fail", (test, err) => record(test, "failed", err));
    runner.on("pending", (test) => record(test, "pending"));
  });
  return { tests, ms: Date.now() - started };
}

async function activate() {
  const configFile = process.env.KIMI_E2E_CONFIG;
  if (!configFile) return;
  const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
  const started = `${config.results}.started`;
  if (fs.existsSync(started)) return; // one run per session, even if the window reloads
  fs.writeFileSync(started, String(process.pid));
  let outcome;
  try {
    outcome = await runSuites(config);
  } catch (err) {
    outcome = { tests: [], crash: errorText(err) };
  }
  writeJson(config.results, outcome);
}

function deactivate() {}

module.exports = { activate, deactivate };
