// Unit tests of the diff shown while an edit streams and once it is proposed.

import assert from "node:assert/strict";
import { test } from "node:test";
import { diffLines, splitLines } from "../../src/pure/lineDiff";
import { lineDecorations, streamHunks } from "../../src/pure/previewDiff";

test("diffLines finds replaced, added and removed runs", () => {
  assert.deepEqual(diffLines(["a", "b", "c"], ["a", "B", "c"]), [{ aStart: 1, aCount: 1, bStart: 1, bCount: 1 }]);
  assert.deepEqual(diffLines(["a", "c"], ["a", "b", "c"]), [{ aStart: 1, aCount: 0, bStart: 1, bCount: 1 }]);
  assert.deepEqual(diffLines(["a", "b", "c"], ["a", "c"]), [{ aStart: 1, aCount: 1, bStart: 1, bCount: 0 }]);
  assert.deepEqual(diffLines(["x"], ["x"]), []);
  assert.deepEqual(
    diffLines(["1", "2", "3", "4", "5"], ["1", "two", "3", "4", "five", "six"]),
    [
      { aStart: 1, aCount: 1, bStart: 1, bCount: 1 },
      { aStart: 4, aCount: 1, bStart: 4, bCount: 2 },
    ],
  );
});

test("splitLines ignores one final line break", () => {
  assert.deepEqual(splitLines("a\nb\n"), ["a", "b"]);
  assert.deepEqual(splitLines("a\r\nb"), ["a", "b"]);
  assert.deepEqual(splitLines(""), []);
  assert.deepEqual(splitLines("\n"), [""]);
});

test("while streaming, the unwritten tail is pending, not removed", () => {
  const original = ["def f(x):", "    return x", "", "print(f(1))"];
  // The model has written the first line (changed) so far.
  const hunks = streamHunks(10, original, "def f(x: int) -> int:\n");
  assert.equal(hunks.length, 1);
  assert.equal(hunks[0].line, 10);
  assert.equal(hunks[0].pending, true);
  const decorations = lineDecorations(hunks, 100);
  assert.deepEqual(
    decorations.map((d) => [d.line, d.kind]),
    [
      [10, "pending"],
      [11, "pending"],
      [12, "pending"],
      [13, "pending"],
    ],
  );
  // Later: the whole proposal written, only the first line differs.
  const done = streamHunks(10, original, "def f(x: int) -> int:\n    return x\n\nprint(f(1))\n");
  assert.equal(done.length, 1);
  assert.equal(done[0].pending, false);
  const d = lineDecorations(done, 100);
  assert.deepEqual(d, [{ line: 10, kind: "removed", after: "→ def f(x: int) -> int:", hunk: 0 }]);
});

test("insertions are anchored above, extra lines summarised, deletions marked", () => {
  const original = ["a", "b", "c"];
  const hunks = streamHunks(0, original, "a\nnew1\nnew2\nnew3\nb\n", true);
  const d = lineDecorations(hunks, 3);
  assert.deepEqual(d, [
    { line: 0, kind: "anchor", after: "↓ + new1  ⏎ new2  (+1 more line)", hunk: 0 },
    { line: 2, kind: "removed", after: "✕ removed", hunk: 1 },
  ]);
  const grow = lineDecorations(streamHunks(5, ["x"], "y\nz\n", true), 10);
  assert.deepEqual(grow, [{ line: 5, kind: "removed", after: "→ y  ⏎ z", hunk: 0 }]);
  const top = lineDecorations(streamHunks(0, ["x"], "first\nx\n", true), 10);
  assert.deepEqual(top, [{ line: 0, kind: "anchor", after: "↑ + first", hunk: 0 }]);
});

test("long ghost lines are cut", () => {
  const long = "x".repeat(500);
  const d = lineDecorations(streamHunks(0, ["a"], long + "\n", true), 1);
  assert.ok((d[0].after ?? "").length < 170);
  assert.ok((d[0].after ?? "").endsWith("…"));
});
