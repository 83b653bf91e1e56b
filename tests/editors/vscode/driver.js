// The browser side of the VS Code end-to-end tests: opens code-server's workbench in Debian's
// headless chromium (driven by playwright-core, never a downloaded browser), which starts the
// extension host that runs the mocha suites. Then it serves the suites' requests, written as
// files into the driver folder: req-NNN.json -> ack-NNN.json.
//   {kind: "screenshot", name, boxes?}    -> a PNG in the artifacts folder; `boxes` {label: selector}
//                                            -> also the page box of each selector's first visible
//                                            match ({x, y, width, height} in pixels, or null)
//   {kind: "click", selector?, role?, name, exact?} -> clicks the first visible match (a CSS
//                                            selector with that text, a role and name, or a text)
//   {kind: "type", selector, text, press?} -> fills a visible input (e.g. the quick input box)
//   {kind: "checked", selector}           -> the checked state of every visible checkbox matching
//   {kind: "check", selector}             -> ticks every visible unticked checkbox matching
//   {kind: "keys", keys: ["Control+S"]}   -> presses keys in the focused element
//   {kind: "wait", selector, timeout?}    -> waits until a CSS selector is visible
//   {kind: "hidden", selector, timeout?}  -> waits until nothing matching is visible
//   {kind: "texts", selector}             -> the inner texts of every match
//   {kind: "visible", selector}           -> whether a CSS selector is visible
//   {kind: "eval", fn, arg?}              -> the JSON value of `(fn)(arg)` run in the workbench page
//                                            (fn: a function's source text)
//   {kind: "frameEval", marker, fn, arg?, timeout?} -> the same in the first frame (e.g. a
//                                            webview's) holding a match of the CSS selector `marker`
//
//   node driver.js CONFIG.json   (written by test_vscode.py)
"use strict";

const fs = require("fs");
const path = require("path");

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { chromium } = require(path.join(config.nodeModules, "playwright-core"));

const log = (...args) => console.log(new Date().toISOString(), ...args);

function writeJson(file, data) {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(data));
  fs.renameSync(`${file}.tmp`, file);
}

async function handle(page, action) {
  switch (action.kind) {
    case "screenshot": {
      const file = path.join(config.artifacts, `${action.name}.png`);
      // Boxes first: the picture is then taken of the page as measured.
      const boxes = {};
      for (const [label, selector] of Object.entries(action.boxes || {})) {
        const match = page.locator(selector).filter({ visible: true }).first();
        boxes[label] = (await match.count()) ? await match.boundingBox() : null;
      }
      await page.screenshot({ path: file });
      return { path: file, boxes };
    }
    case "click": {
      let target;
      if (action.selector) {
        target = page.locator(action.selector);
        if (action.name) target = target.filter({ hasText: action.name });
      } else if (action.role) {
        target = page.getByRole(action.role, { name: action.name, exact: Boolean(action.exact) });
      } else {
        target = page.getByText(action.name, { exact: Boolean(action.exact) });
      }
      const visible = target.filter({ visible: true }).first();
      await visible.waitFor({ state: "visible", timeout: action.timeout || 15000 });
      await visible.click({ timeout: 5000 });
      return {};
    }
    case "type": {
      const input = page.locator(action.selector).filter({ visible: true }).first();
      await input.waitFor({ state: "visible", timeout: action.timeout || 15000 });
      await input.fill(action.text);
      if (action.press) await input.press(action.press);
      return {};
    }
    case "checked": {
      const boxes = page.locator(action.selector).filter({ visible: true });
      return { checked: await boxes.evaluateAll((els) => els.map((el) => el.checked)) };
    }
    case "check": {
      // Ticks every unticked match, one at a time (the tree re-renders after each).
      for (let i = 0; i < 50; i++) {
        const unticked = page.locator(`${action.selector}:not(:checked)`).filter({ visible: true });
        if ((await unticked.count()) === 0) return {};
        await unticked.first().click({ timeout: 5000 });
      }
      throw new Error(`still unticked boxes matching ${action.selector} after 50 clicks`);
    }
    case "keys": {
      for (const key of action.keys) await page.keyboard.press(key);
      return {};
    }
    case "wait": {
      await page.locator(action.selector).first().waitFor({ state: "visible", timeout: action.timeout || 15000 });
      return {};
    }
    case "hidden": {
      await page.locator(action.selector).first().waitFor({ state: "hidden", timeout: action.timeout || 15000 });
      return {};
    }
    case "texts": {
      return { texts: await page.locator(action.selector).allInnerTexts() };
    }
    case "visible": {
      return { visible: await page.locator(action.selector).first().isVisible() };
    }
    case "eval": {
      return { value: await page.evaluate(`(${action.fn})(${JSON.stringify(action.arg ?? null)})`) };
    }
    case "frameEval": {
      const frame = await frameWith(page, action.marker, action.timeout || 15000);
      return { value: await frame.evaluate(`(${action.fn})(${JSON.stringify(action.arg ?? null)})`) };
    }
    default:
      throw new Error(`unknown driver action ${JSON.stringify(action)}`);
  }
}

/** The first frame (webviews are iframes in iframes) holding a match of `selector`. */
async function frameWith(page, selector, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const found = await frame.evaluate((sel) => !!document.querySelector(sel), selector).catch(() => false);
      if (found) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no frame holds ${selector} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main() {
  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const consoleLog = fs.createWriteStream(path.join(config.driverDir, "browser-console.log"));
  page.on("console", (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => consoleLog.write(`[pageerror] ${e.stack || e}\n`));
  log(`opening ${config.url}`);
  await page.goto(config.url, { timeout: 60000 });
  await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 60000 });
  log("workbench visible");
  writeJson(path.join(config.driverDir, "workbench-ready.json"), { ok: true });

  const done = new Set();
  for (;;) {
    for (const name of fs.readdirSync(config.driverDir).sort()) {
      const m = /^req-(\d+)\.json$/.exec(name);
      if (!m || done.has(name)) continue;
      done.add(name);
      const action = JSON.parse(fs.readFileSync(path.join(config.driverDir, name), "utf8"));
      // Without `text`: the suites type the API key through this.
      log(`request ${m[1]}: ${JSON.stringify({ ...action, text: action.text && "…" })}`);
      let answer;
      try {
        answer = { ok: true, ...(await handle(page, action)) };
      } catch (err) {
        answer = { ok: false, error: String((err && err.stack) || err) };
        // A picture of the moment it failed says more than the error.
        await page.screenshot({ path: path.join(config.artifacts, `failed-${m[1]}.png`) }).catch(() => {});
      }
      writeJson(path.join(config.driverDir, `ack-${m[1]}.json`), answer);
    }
    if (fs.existsSync(config.results)) {
      await page.screenshot({ path: path.join(config.artifacts, "final.png") }).catch(() => {});
      log("results written: closing the browser");
      await browser.close();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().catch((err) => {
  log(`driver failed: ${(err && err.stack) || err}`);
  process.exit(1);
});
