// Unit tests of edit prediction's pure parts: the settings sent, the toggle, next-edit picking and rebasing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { following, fromWire, insertedLabel, nearest, rebase, shift, typingLike, type NextEdit } from "../../src/pure/nextEdits";
import { PREDICTION_KEYS, modeText, modeTooltip, predictionMode, predictionWire, remaining } from "../../src/pure/prediction";
import type { Inspected } from "../../src/pure/settings";

function inspector(values: Record<string, Inspected>) {
  return (key: string) => values[key];
}

test("only the user-set prediction keys are sent, under their wire names", () => {
  const out = predictionWire(
    inspector({
      "prediction.enabled": { defaultValue: true },
      "prediction.debounceMs": { defaultValue: 75, globalValue: 120 },
      "prediction.nextEdit": { defaultValue: true, workspaceValue: false },
    }),
    true,
    false,
  );
  assert.deepEqual(out, { debounceMs: 120, nextEdit: false });
  assert.equal(predictionWire(inspector({}), true, false), undefined);
});

test("snoozed or restricted, enabled is sent as false whatever the setting", () => {
  const inspect = inspector({ "prediction.enabled": { defaultValue: true, globalValue: true } });
  assert.deepEqual(predictionWire(inspect, true, true), { enabled: false });
  assert.deepEqual(predictionWire(inspector({}), true, true), { enabled: false });
});

test("a workspace cannot raise the hourly cap, nor set anything when untrusted", () => {
  const inspect = inspector({
    "prediction.maxCostPerHour": { defaultValue: 1, workspaceValue: 50 },
    "prediction.debounceMs": { defaultValue: 75, workspaceValue: 10 },
  });
  assert.deepEqual(predictionWire(inspect, true, false), { debounceMs: 10 });
  assert.equal(predictionWire(inspect, false, false), undefined);
  const user = inspector({ "prediction.maxCostPerHour": { defaultValue: 1, globalValue: 2, workspaceValue: 50 } });
  assert.deepEqual(predictionWire(user, true, false), { maxCostPerHour: 2 });
});

test("the toggle's mode, text and tooltip", () => {
  const now = 1_000_000;
  assert.equal(predictionMode({ enabled: true, trusted: true, snoozedUntil: undefined, now }), "on");
  assert.equal(predictionMode({ enabled: false, trusted: true, snoozedUntil: undefined, now }), "off");
  assert.equal(predictionMode({ enabled: true, trusted: true, snoozedUntil: now + 1, now }), "snoozed");
  assert.equal(predictionMode({ enabled: true, trusted: true, snoozedUntil: now - 1, now }), "on");
  assert.equal(predictionMode({ enabled: true, trusted: false, snoozedUntil: undefined, now }), "restricted");
  assert.equal(remaining(now + 15 * 60000, now), "15 min");
  assert.equal(remaining(now + 60 * 60000, now), "1 h");
  assert.equal(remaining(now + 65 * 60000 - 1, now), "1 h 5 min");
  assert.equal(modeText("on", undefined, now), "$(sparkle) Predict");
  assert.equal(modeText("snoozed", now + 14 * 60000, now), "$(clock) Predict 14 min");
  assert.equal(modeText("off", undefined, now), "$(circle-slash) Predict");
  const tip = modeTooltip("on", undefined, now, { made: 5, shown: 4, accepted: 3, rejected: 1, ignored: 0, cost: 0.0123, costLastHour: 0.01, maxCostPerHour: 1 });
  assert.match(tip, /5 made, 4 shown, 3 accepted, 1 rejected, 0 ignored/);
  assert.match(tip, /\$0\.0123 \(last hour \$0\.0100 of \$1\.0000 allowed\)/);
  assert.doesNotMatch(modeTooltip("restricted", undefined, now, undefined), /Predictions/);
});

const doc = "file:///w/a.py";
function edit(id: string, sl: number, sc: number, el: number, ec: number, text: string, version = 3): NextEdit {
  return { id, text, version, range: { start: { line: sl, character: sc }, end: { line: el, character: ec } } };
}

test("fromWire keeps well-formed edits for the document's version, sorted, without overlaps", () => {
  const wire = {
    edits: [
      { id: "b", text: "x", range: { start: { line: 4, character: 0 }, end: { line: 4, character: 2 } }, textDocument: { uri: doc, version: 3 } },
      { id: "a", text: "y", range: { start: { line: 1, character: 0 }, end: { line: 1, character: 2 } }, textDocument: { uri: doc, version: 3 } },
      { id: "old", text: "z", range: { start: { line: 2, character: 0 }, end: { line: 2, character: 1 } }, textDocument: { uri: doc, version: 2 } },
      { id: "over", text: "z", range: { start: { line: 4, character: 1 }, end: { line: 4, character: 3 } } },
      { id: "bad", text: 1, range: {} },
    ],
  };
  assert.deepEqual(fromWire(wire, doc, 3).map((e) => e.id), ["a", "b"]);
  assert.deepEqual(fromWire(null, doc, 3), []);
  assert.deepEqual(fromWire({ edits: "no" }, doc, 3), []);
});

test("nearest picks the edit closest to the cursor; following wraps around", () => {
  const edits = [edit("a", 2, 4, 2, 10, "x"), edit("b", 5, 4, 5, 10, "y"), edit("c", 9, 0, 9, 1, "z")];
  assert.equal(nearest(edits, { line: 0, character: 0 })?.id, "a");
  assert.equal(nearest(edits, { line: 4, character: 0 })?.id, "b");
  assert.equal(nearest(edits, { line: 5, character: 7 })?.id, "b");
  assert.equal(nearest(edits, { line: 20, character: 0 })?.id, "c");
  assert.equal(nearest([], { line: 0, character: 0 }), undefined);
  assert.equal(following(edits, { line: 2, character: 4 })?.id, "b");
  assert.equal(following(edits, { line: 9, character: 0 })?.id, "a");
});

test("shift moves positions after a replaced range, across lines too", () => {
  const range = { start: { line: 1, character: 4 }, end: { line: 1, character: 10 } };
  assert.deepEqual(shift({ line: 0, character: 9 }, range, "ab"), { line: 0, character: 9 });
  assert.deepEqual(shift({ line: 1, character: 12 }, range, "ab"), { line: 1, character: 8 });
  assert.deepEqual(shift({ line: 3, character: 2 }, range, "ab"), { line: 3, character: 2 });
  assert.deepEqual(shift({ line: 1, character: 12 }, range, "a\nbcd"), { line: 2, character: 5 });
  assert.deepEqual(shift({ line: 3, character: 2 }, range, "a\nb"), { line: 4, character: 2 });
  const twoLines = { start: { line: 1, character: 4 }, end: { line: 2, character: 1 } };
  assert.deepEqual(shift({ line: 2, character: 3 }, twoLines, "Z"), { line: 1, character: 7 });
  assert.deepEqual(shift({ line: 5, character: 3 }, twoLines, "Z"), { line: 4, character: 3 });
});

test("rebase drops the accepted edit and moves the others to the new version", () => {
  const edits = [edit("a", 2, 8, 2, 14, "ratio"), edit("b", 2, 20, 2, 26, "ratio"), edit("c", 4, 0, 4, 6, "ratio")];
  const rest = rebase(edits, edits[0], 4);
  assert.deepEqual(rest.map((e) => [e.id, e.version, e.range.start, e.range.end]), [
    ["b", 4, { line: 2, character: 19 }, { line: 2, character: 25 }],
    ["c", 4, { line: 4, character: 0 }, { line: 4, character: 6 }],
  ]);
});

test("insertedLabel shows newlines and cuts long text", () => {
  assert.equal(insertedLabel("a\nb"), "a⏎b");
  assert.equal(insertedLabel("x".repeat(100), 10), `${"x".repeat(9)}…`);
});

test("typingLike: one change within a line asks for next edits, a whole-file replacement does not", () => {
  const at = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });
  assert.equal(typingLike([{ range: at(0, 18, 0, 24), text: "r" }]), true);
  assert.equal(typingLike([{ range: at(3, 4, 3, 4), text: "\n    " }]), true);
  assert.equal(typingLike([{ range: at(0, 0, 40, 0), text: "def f():\n    pass\n" }]), false);
  assert.equal(typingLike([{ range: at(0, 0, 0, 0), text: "a" }, { range: at(2, 0, 2, 0), text: "a" }]), false);
  assert.equal(typingLike([{ range: at(1, 0, 1, 0), text: "a\nb\nc" }]), false);
  assert.equal(typingLike([]), false);
});

test("package.json: kimi.prediction.* mirror the server's prediction defaults; the cap is machine-scoped", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8"));
  const props = manifest.contributes.configuration.properties;
  const defaults = Object.fromEntries(PREDICTION_KEYS.map((k) => [k, props[`kimi.prediction.${k}`]?.default]));
  // The server's PredictionSettings(enabled=True, debounce_ms=75, next_edit=True, max_cost_per_hour=1.0).
  assert.deepEqual(defaults, { enabled: true, debounceMs: 75, nextEdit: true, maxCostPerHour: 1 });
  assert.equal(props["kimi.prediction.maxCostPerHour"].scope, "machine");
});

test("package.json: Tab and Esc are taken only while next edits are shown and no menu or ghost text is", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8"));
  const bindings: { command: string; key: string; when: string }[] = manifest.contributes.keybindings;
  const find = (command: string) => bindings.find((b) => b.command === command);
  for (const [command, key] of [["kimi-lsp.acceptNextEdit", "tab"], ["kimi-lsp.dismissNextEdit", "escape"]]) {
    const binding = find(command);
    assert.ok(binding, command);
    assert.equal(binding.key, key);
    for (const clause of ["kimi.nextEditVisible", "!suggestWidgetVisible", "!inlineSuggestionVisible", "editorTextFocus"]) {
      assert.ok(binding.when.split(" && ").includes(clause), `${command}: ${binding.when} lacks ${clause}`);
    }
  }
  assert.equal(find("kimi-lsp.jumpToNextEdit")?.key, "alt+]");
  assert.ok(find("kimi-lsp.jumpToNextEdit")?.when.includes("kimi.nextEditVisible"));
});
