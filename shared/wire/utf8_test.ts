/** Unit tests of the UTF-8 check of requests' `string` fields. */
import assert from "node:assert/strict";
import { requestTypeOf, utf8Check } from "./utf8.ts";

/** A GetRequest with namespace "n" and these key bytes. */
function getRequest(key: number[]): Uint8Array {
  return new Uint8Array([10, 1, 0x6e, 18, key.length, ...key]);
}

Deno.test("utf8Check names the field whose bytes are not UTF-8, and accepts a real U+FFFD", () => {
  const check = utf8Check("ganache.cfe.GetRequest");
  assert.equal(
    check({ namespace: "n", key: "\uFFFD" }, getRequest([0xff])),
    "key",
  );
  assert.equal(
    check({ namespace: "n", key: "\uFFFD" }, getRequest([0xfe])),
    "key",
  );
  assert.equal(
    check({ namespace: "n", key: "\uFFFD" }, getRequest([0xef, 0xbf, 0xbd])),
    undefined,
  );
  // Without a U+FFFD in the decoded strings the bytes are not looked at.
  assert.equal(
    check({ namespace: "n", key: "k" }, new Uint8Array()),
    undefined,
  );
});

Deno.test("utf8Check looks into repeated fields and nested messages", () => {
  const check = utf8Check("ganache.cfe.MultiGetRequest");
  // keys: "a", "\xC3" (a truncated two-byte sequence)
  const bytes = new Uint8Array([18, 1, 0x61, 18, 1, 0xc3]);
  assert.equal(
    check({ namespace: "", keys: ["a", "\uFFFD"] }, bytes),
    "keys[1]",
  );
  assert.equal(requestTypeOf("/ganache.cfe.CFE/Get"), "ganache.cfe.GetRequest");
});
