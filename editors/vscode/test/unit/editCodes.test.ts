// Unit tests of the edit result codes: the review switches on them, never on the server's sentence.

import assert from "node:assert/strict";
import { test } from "node:test";
import { serverForgot } from "../../src/pure/editCodes";

test("an edit the server no longer holds is recognised by its code", () => {
  for (const code of ["not_pending", "expired", "document_closed"]) {
    assert.equal(serverForgot({ applied: false, code, reason: "whatever the server says" }), true, code);
  }
});

test("other refusals keep the edit under review", () => {
  for (const code of ["already_accepted", "stale_document", "no_change", "client_refused", "user_edited", "from_a_newer_server"]) {
    assert.equal(serverForgot({ applied: false, code, reason: "This edit is no longer pending." }), false, code);
  }
});

test("the sentence alone decides nothing, and an applied result is never forgotten", () => {
  assert.equal(serverForgot({ applied: false, reason: "This edit is no longer pending." }), false);
  assert.equal(serverForgot({ applied: true, code: "not_pending" }), false);
  assert.equal(serverForgot(undefined), false);
  assert.equal(serverForgot(null), false);
});
