// Unit tests of issue 16's client-side boundaries: the key's host and the refactor preview's re-check.

import assert from "node:assert/strict";
import { test } from "node:test";
import { movedFiles, movedMessage, sha256, touchedUris } from "../../src/pure/bases";
import { DEFAULT_BASE_URL, effectiveBaseUrl, endpointHost, keyDecision } from "../../src/pure/endpoint";

test("the endpoint: the user's setting, else KIMI_BASE_URL, else the default", () => {
  assert.equal(effectiveBaseUrl("http://127.0.0.1:8000/v1", { KIMI_BASE_URL: "https://x/v1" }), "http://127.0.0.1:8000/v1");
  assert.equal(effectiveBaseUrl(undefined, { KIMI_BASE_URL: "https://relay.example/v1" }), "https://relay.example/v1");
  assert.equal(effectiveBaseUrl("", {}), DEFAULT_BASE_URL);
  assert.equal(endpointHost("https://API.Moonshot.ai/v1"), "api.moonshot.ai");
  assert.equal(endpointHost("http://127.0.0.1:8000/v1"), "127.0.0.1:8000");
});

test("the stored key goes to the default host; another host is asked once, then remembered", () => {
  assert.equal(keyDecision("api.moonshot.ai", undefined), "send");
  assert.equal(keyDecision("evil.example", undefined), "ask");
  assert.equal(keyDecision("evil.example", { "evil.example": "allow" }), "send");
  assert.equal(keyDecision("evil.example", { "evil.example": "deny" }), "withhold");
  // An answer for one host says nothing about another (a port is part of the host).
  assert.equal(keyDecision("127.0.0.1:9000", { "127.0.0.1:8000": "allow" }), "ask");
});

test("sha256 is of the UTF-8 bytes", () => {
  assert.equal(sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256("é"), sha256(new Uint8Array([0xc3, 0xa9])));
});

test("a file changed since the server answered is reported; unchanged and still-absent files are not", async () => {
  const a = "file:///w/a.py";
  const b = "file:///w/b.py";
  const c = "file:///w/new.py";
  const bases = { [a]: sha256("c = 4\n"), [b]: sha256("x = 1\n"), [c]: null };
  const disk: Record<string, string | null> = { [a]: "a = 10\nb = 2\nc = 4\n", [b]: "x = 1\n", [c]: null };
  const current = async (uri: string) => disk[uri] ?? null;
  assert.deepEqual(await movedFiles([a, b, c], bases, current), [a]);
  disk[a] = "c = 4\n";
  assert.deepEqual(await movedFiles([a, b, c], bases, current), []);
  disk[c] = "someone made it meanwhile\n";
  assert.deepEqual(await movedFiles([a, b, c], bases, current), [c]);
  // A touched file without a base cannot be checked: refused too.
  assert.deepEqual(await movedFiles(["file:///w/other.py"], bases, current), ["file:///w/other.py"]);
  // A server without bases (before issue 16): nothing to compare.
  assert.deepEqual(await movedFiles([a], undefined, current), []);
  assert.match(movedMessage(["pkg/a.py"]), /pkg\/a\.py has changed .* Run the refactor again\./);
});

test("touchedUris: text edits and created files", () => {
  const uris = touchedUris({
    documentChanges: [
      { kind: "create", uri: "file:///w/new.py", options: { overwrite: false, ignoreIfExists: false } },
      { textDocument: { uri: "file:///w/new.py", version: null }, edits: [] },
      { textDocument: { uri: "file:///w/a.py", version: 3 }, edits: [] },
    ],
  });
  assert.deepEqual(uris, ["file:///w/new.py", "file:///w/a.py"]);
  assert.deepEqual(touchedUris({ changes: { "file:///w/b.py": [] } }), ["file:///w/b.py"]);
});
