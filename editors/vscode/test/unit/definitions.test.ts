// Unit tests of the editor-supplied definitions: which identifiers are looked up, how answers become
// wire Locations, which are kept, the per-version cache and the time cap (a deadline promise, no clock).

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DefinitionCache,
  gatherDefinitions,
  gatherUntil,
  toLocation,
  usefulLocations,
  type Location,
  type LookupKind,
  type ProviderLocation,
} from "../../src/pure/definitions";
import { blankStringsAndComments, mostUsed, pickIdentifiers, windowOf, type Focus, type Probe } from "../../src/pure/identifiers";

const SOURCE = [
  'import { computeTotal, type Basket } from "./util";', // 0
  "", // 1
  "export function checkout(basket: Basket): string {", // 2
  "  const total = computeTotal(basket.items); // computeTotal sums", // 3
  '  return `total: ${total}` + "checkout done";', // 4
  "}", // 5
];

function pick(lines: string[], focus: Focus, languageId = "typescript", max?: number): Probe[] {
  return pickIdentifiers((i) => lines[i], lines.length, focus, languageId, max);
}

const range = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });
const loc = (uri: string, sl: number, el: number): Location => ({ uri, range: range(sl, 0, el, 1) });

test("identifiers near the cursor: each once at its nearest use, keywords and one-letter names skipped", () => {
  const probes = pick(SOURCE, { cursor: { line: 3, character: 20 } });
  const names = probes.map((p) => p.name);
  assert.deepEqual(new Set(names), new Set(["computeTotal", "Basket", "checkout", "basket", "total", "items"]));
  for (const keyword of ["import", "from", "export", "function", "const", "return", "type", "string"]) assert.ok(!names.includes(keyword), keyword);
  const compute = probes.find((p) => p.name === "computeTotal")!;
  assert.deepEqual([compute.line, compute.character, compute.count], [3, 16, 2]); // the comment's mention is not a use
  // The cursor's line first (the most used there first), then the next lines; `total` in the template string is no use.
  assert.deepEqual(names, ["computeTotal", "basket", "total", "items", "Basket", "checkout"]);
});

test("string literals and comments are not identifiers, and columns stay right", () => {
  const blanked = blankStringsAndComments('  return `total: ${total}` + "checkout done"; // ok', "typescript");
  assert.equal(blanked.length, '  return `total: ${total}` + "checkout done"; // ok'.length);
  assert.ok(!/total|checkout|ok/.test(blanked), blanked);
  assert.equal(blankStringsAndComments("x = 'a#b'  # note", "python").trimEnd(), "x =");
  assert.equal(blankStringsAndComments("a = b # c", "typescript"), "a = b # c");
});

test("a selection gives only its own words; a selection ending at column 0 stops the line before", () => {
  const focus: Focus = { cursor: { line: 3, character: 2 }, selection: { start: { line: 3, character: 8 }, end: { line: 3, character: 41 } } };
  assert.deepEqual(pick(SOURCE, focus).map((p) => p.name).sort(), ["basket", "computeTotal", "items", "total"]);
  assert.deepEqual(windowOf({ cursor: { line: 2, character: 0 }, selection: { start: { line: 2, character: 0 }, end: { line: 4, character: 0 } } }, 6), { first: 2, last: 3 });
});

test("the window is ten lines each side of the cursor, clipped to the document, and the count is capped", () => {
  assert.deepEqual(windowOf({ cursor: { line: 3, character: 0 } }, 100), { first: 0, last: 13 });
  assert.deepEqual(windowOf({ cursor: { line: 50, character: 0 } }, 55), { first: 40, last: 54 });
  const lines = Array.from({ length: 60 }, (_, i) => `let name${i} = other${i};`);
  const probes = pick(lines, { cursor: { line: 30, character: 0 } });
  assert.equal(probes.length, 24);
  assert.ok(probes.every((p) => p.line >= 20 && p.line <= 40));
  assert.deepEqual(probes.slice(0, 2).map((p) => p.name).sort(), ["name30", "other30"]);
  assert.equal(pick(lines, { cursor: { line: 30, character: 0 } }, "typescript", 5).length, 5);
});

test("the most used identifiers get the type-definition lookups", () => {
  const probes: Probe[] = [
    { name: "a1", line: 0, character: 0, count: 1, distance: 0 },
    { name: "b2", line: 1, character: 0, count: 5, distance: 1 },
    { name: "c3", line: 2, character: 0, count: 3, distance: 2 },
  ];
  assert.deepEqual(mostUsed(probes, 2).map((p) => p.name), ["b2", "c3"]);
});

test("Locations and LocationLinks become wire Locations; links give their whole target", () => {
  const uri = { toString: () => "file:///w/util.ts" };
  assert.deepEqual(toLocation({ uri, range: range(0, 16, 0, 28) }), { uri: "file:///w/util.ts", range: range(0, 16, 0, 28) });
  assert.deepEqual(toLocation({ targetUri: uri, targetRange: range(0, 0, 2, 1), targetSelectionRange: range(0, 16, 0, 28) }), {
    uri: "file:///w/util.ts",
    range: range(0, 0, 2, 1),
  });
  assert.deepEqual(toLocation({ targetUri: "file:///w/a.ts", targetSelectionRange: range(3, 0, 3, 4) }), { uri: "file:///w/a.ts", range: range(3, 0, 3, 4) });
  // What the server could not read, and what is not a location at all.
  assert.equal(toLocation({ uri: "untitled:Untitled-1", range: range(0, 0, 0, 1) }), undefined);
  assert.equal(toLocation({ uri: "file:///w/a.ts" }), undefined);
  assert.equal(toLocation({ uri: "file:///w/a.ts", range: range(-1, 0, 0, 1) }), undefined);
  assert.equal(toLocation(null), undefined);
});

test("locations at the identifier or in the lines looked at are dropped; duplicates and nested spans once", () => {
  const here = "file:///w/main.ts";
  const util = "file:///w/util.ts";
  const probe = (name: string, line: number): Probe => ({ name, line, character: 4, count: 1, distance: 0 });
  const kept = usefulLocations(
    [
      { probe: probe("total", 3), locations: [{ uri: here, range: range(3, 2, 3, 40) }] }, // its own declaration
      { probe: probe("helper", 3), locations: [loc(here, 1, 2)] }, // in the window
      { probe: probe("far", 3), locations: [loc(here, 40, 45)] }, // same file, far away: kept
      { probe: probe("method", 3), locations: [loc(util, 5, 6)] },
      { probe: probe("Klass", 3), locations: [loc(util, 2, 20)] }, // holds the method: replaces it, in its place
      { probe: probe("computeTotal", 3), locations: [loc(util, 30, 32), loc(util, 30, 32)] },
      { probe: probe("inner", 3), locations: [loc(util, 3, 4)] }, // inside the class: already sent
    ],
    here,
    { first: 0, last: 13 },
  );
  assert.deepEqual(kept, [loc(here, 40, 45), loc(util, 2, 20), loc(util, 30, 32)]);
  const many = Array.from({ length: 50 }, (_, i) => ({ probe: probe(`n${i}`, 3), locations: [loc(util, i * 10, i * 10 + 1)] }));
  assert.equal(usefulLocations(many, here, { first: 0, last: 13 }, 32).length, 32);
});

test("the cache answers for one version of a document and forgets the oldest documents", () => {
  const cache = new DefinitionCache(2);
  cache.set("file:///a", 1, "k", [loc("file:///u", 0, 1)]);
  assert.deepEqual(cache.get("file:///a", 1, "k"), [loc("file:///u", 0, 1)]);
  assert.equal(cache.get("file:///a", 2, "k"), undefined);
  cache.set("file:///a", 2, "k2", [loc("file:///u", 5, 6)]);
  assert.equal(cache.get("file:///a", 1, "k"), undefined, "a new version drops the old answers");
  cache.set("file:///b", 1, "k", []);
  cache.set("file:///c", 1, "k", []);
  assert.equal(cache.size, 2);
  assert.equal(cache.get("file:///a", 2, "k2"), undefined, "the least recently used document went");
});

/** A promise resolved by hand: the deadline or a language server's answer, with no clock involved. */
function manual<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test("the gather returns what answered by the deadline; failures and late answers are left out", async () => {
  const late = manual<number>();
  const failed = manual<number>();
  const deadline = manual<void>();
  const gathered = gatherUntil([Promise.resolve(1), late.promise, failed.promise], deadline.promise);
  failed.reject(new Error("provider threw"));
  await Promise.resolve();
  deadline.resolve();
  assert.deepEqual(await gathered, [1, undefined, undefined]);
  // Everything settled before the deadline: no waiting for it.
  assert.deepEqual(await gatherUntil([Promise.resolve("a"), Promise.resolve("b")], new Promise(() => undefined)), ["a", "b"]);
});

test("gatherDefinitions: parallel lookups, the cap, the cache filled by late answers, empty answers not cached", async () => {
  const here = "file:///w/main.ts";
  const util = "file:///w/util.ts";
  const probes = pick(SOURCE, { cursor: { line: 3, character: 20 } });
  const answers = new Map<string, ReturnType<typeof manual<ProviderLocation[] | undefined>>>();
  const asked: string[] = [];
  const resolve = (kind: LookupKind, probe: Probe) => {
    const key = `${kind} ${probe.name}`;
    asked.push(key);
    const answer = manual<ProviderLocation[] | undefined>();
    answers.set(key, answer);
    return answer.promise;
  };
  const cache = new DefinitionCache();
  const target = { uri: here, version: 7, window: windowOf({ cursor: { line: 3, character: 20 } }, SOURCE.length) };
  const deadline = manual<void>();
  const first = gatherDefinitions(target, probes, resolve, cache, deadline.promise, 2);
  await new Promise((r) => setImmediate(r));
  assert.equal(asked.length, probes.length + 2, "every lookup started before any answered");
  answers.get("definition computeTotal")!.resolve([{ targetUri: util, targetRange: range(0, 0, 2, 1), targetSelectionRange: range(0, 16, 0, 28) }]);
  answers.get("definition total")!.resolve([{ uri: here, range: range(3, 8, 3, 13) }]); // its own declaration
  answers.get("definition items")!.resolve([]);
  await new Promise((r) => setImmediate(r));
  deadline.resolve();
  const got = await first;
  assert.deepEqual(got.locations, [{ uri: util, range: range(0, 0, 2, 1) }]);
  assert.equal(got.asked, probes.length + 2);
  assert.equal(got.answered, 3);
  assert.equal(got.unanswered, probes.length - 1);
  // Basket answers after the deadline: the next request has it from the cache without asking.
  answers.get("definition Basket")!.resolve([{ uri: util, range: range(4, 0, 6, 1) }]);
  await new Promise((r) => setImmediate(r));
  asked.length = 0;
  const second = gatherDefinitions(target, probes, resolve, cache, Promise.resolve(), 2);
  const again = await second;
  assert.ok(!asked.includes("definition Basket") && !asked.includes("definition computeTotal"), asked.join());
  assert.ok(asked.includes("definition items"), "an empty answer is asked again");
  assert.equal(again.cached, 3); // computeTotal, Basket, and total (its own declaration: cached, never sent)
  assert.deepEqual(again.locations, [{ uri: util, range: range(0, 0, 2, 1) }, { uri: util, range: range(4, 0, 6, 1) }]);
  // A new version of the document asks again.
  asked.length = 0;
  void gatherDefinitions({ ...target, version: 8 }, probes, resolve, cache, Promise.resolve(), 0);
  await new Promise((r) => setImmediate(r));
  assert.ok(asked.includes("definition Basket"));
});

test("a resolver that throws synchronously fails its lookup only", async () => {
  const probes: Probe[] = [
    { name: "good", line: 0, character: 0, count: 1, distance: 0 },
    { name: "bad", line: 0, character: 5, count: 1, distance: 0 },
  ];
  const resolve = (_kind: LookupKind, probe: Probe) => {
    if (probe.name === "bad") throw new Error("no provider");
    return Promise.resolve([{ uri: "file:///w/x.ts", range: range(9, 0, 9, 5) }]);
  };
  const got = await gatherDefinitions({ uri: "file:///w/m.ts", version: 1, window: { first: 0, last: 0 } }, probes, resolve, new DefinitionCache(), new Promise(() => undefined), 0);
  assert.deepEqual(got.locations, [{ uri: "file:///w/x.ts", range: range(9, 0, 9, 5) }]);
  assert.equal(got.unanswered, 1);
});
