// Unit tests of the pending-edit bookkeeping: hunks keep their indices and follow the document's changes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { PendingEdit, lineHunk, moveRange, type TextEdit } from "../../src/pure/hunks";

const r = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });

test("a change above a range moves it; one below leaves it", () => {
  assert.deepEqual(moveRange(r(5, 0, 6, 0), { range: r(1, 0, 1, 0), text: "x\ny\n" }), { range: r(7, 0, 8, 0), touched: false });
  assert.deepEqual(moveRange(r(5, 0, 6, 0), { range: r(8, 0, 9, 0), text: "" }), { range: r(5, 0, 6, 0), touched: false });
  assert.deepEqual(moveRange(r(5, 2, 5, 4), { range: r(5, 0, 5, 1), text: "abc" }), { range: r(5, 4, 5, 6), touched: false });
});

test("a change inside a range touches it", () => {
  assert.equal(moveRange(r(5, 0, 7, 0), { range: r(6, 1, 6, 2), text: "z" }).touched, true);
  assert.equal(moveRange(r(5, 0, 7, 0), { range: r(4, 0, 5, 1), text: "" }).touched, true);
});

test("an insertion exactly at a range's start goes before it, at its end after it", () => {
  assert.deepEqual(moveRange(r(2, 0, 3, 0), { range: r(2, 0, 2, 0), text: "new\n" }), { range: r(3, 0, 4, 0), touched: false });
  assert.deepEqual(moveRange(r(2, 0, 3, 0), { range: r(3, 0, 3, 0), text: "new\n" }), { range: r(2, 0, 3, 0), touched: false });
});

test("after a partial accept, the other hunks keep their original indices and move with the text", () => {
  // Document lines 0..9; three hunks proposed.
  const edits: TextEdit[] = [
    { range: r(1, 0, 2, 0), newText: "one\n" },
    { range: r(4, 0, 5, 0), newText: "four a\nfour b\nfour c\n" },
    { range: r(8, 0, 9, 0), newText: "" },
  ];
  const pending = new PendingEdit("e1", "file:///a.py", edits);
  assert.deepEqual(pending.beginAccept([1]), [1]);
  // The server applies hunk 1 (one line becomes three): VS Code reports that change.
  const touched = pending.applyChanges([{ range: r(4, 0, 5, 0), text: "four a\nfour b\nfour c\n" }]);
  assert.deepEqual(touched, []);
  pending.finishAccept([1], true);
  const offered = pending.offered();
  assert.deepEqual(
    offered.map((h) => [h.index, h.range]),
    [
      [0, r(1, 0, 2, 0)],
      [2, r(10, 0, 11, 0)],
    ],
  );
  assert.equal(pending.settled(), false);
  // Rejecting one locally, then accepting the last: settled, and the server still holds the rejected one.
  assert.equal(pending.rejectLocally(0), true);
  pending.beginAccept([2]);
  pending.finishAccept([2], true);
  assert.equal(pending.settled(), true);
  assert.equal(pending.serverStillPending(), true);
});

test("accepting everything leaves nothing pending on the server", () => {
  const pending = new PendingEdit("e2", "file:///b.py", [{ range: r(0, 0, 1, 0), newText: "x\n" }]);
  pending.beginAccept([0]);
  pending.finishAccept([0], true);
  assert.equal(pending.settled(), true);
  assert.equal(pending.serverStillPending(), false);
});

test("a refused accept offers the hunk again; the user's typing in a hunk is reported once", () => {
  const pending = new PendingEdit("e3", "file:///c.py", [{ range: r(3, 0, 4, 0), newText: "y\n" }]);
  pending.beginAccept([0]);
  pending.finishAccept([0], false);
  assert.equal(pending.offered().length, 1);
  assert.deepEqual(pending.applyChanges([{ range: r(3, 1, 3, 1), text: "q" }]), [0]);
  assert.deepEqual(pending.applyChanges([{ range: r(3, 1, 3, 1), text: "q" }]), []);
});

test("lineHunk shows whole lines, with unchanged ones trimmed", () => {
  const lines = ["def f(x):", "    return x", "", "print(f(1))"];
  assert.deepEqual(lineHunk(lines, { range: r(0, 8, 0, 8), newText: ": int" }), {
    line: 0,
    oldLines: ["def f(x):"],
    newLines: ["def f(x): int:"],
  });
  assert.deepEqual(lineHunk(lines, { range: r(2, 0, 2, 0), newText: "# note\n" }), { line: 2, oldLines: [], newLines: ["# note"] });
  assert.deepEqual(lineHunk(lines, { range: r(1, 0, 2, 0), newText: "" }), { line: 1, oldLines: ["    return x"], newLines: [] });
  assert.deepEqual(lineHunk(lines, { range: r(4, 0, 4, 0), newText: "end\n" }), { line: 4, oldLines: [], newLines: ["end"] });
});
