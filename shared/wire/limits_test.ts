/** Unit tests of the request limits and their messages. */
import assert from "node:assert/strict";
import { InvalidArgumentError, Status } from "./errors.ts";
import {
  checkBatch,
  checkKey,
  checkTtl,
  checkTypeUrl,
  checkValue,
  MAX_TYPE_URL_BYTES,
  utf8Length,
  valueBytes,
} from "./limits.ts";

/** Asserts that `fn` throws an InvalidArgumentError with exactly `message`. */
function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.equal(error.code, Status.INVALID_ARGUMENT);
    assert.equal(error.code, 3);
    assert.equal(error.message, message);
    return true;
  });
}

const encoded = (text: string) => new TextEncoder().encode(text).length;

Deno.test("utf8Length equals the TextEncoder length of ASCII, 2-byte, 3-byte and emoji text", () => {
  const cases: [string, number][] = [
    ["", 0],
    ["hello", 5],
    ["é", 2],
    ["ключ", 8],
    ["߿", 2], // U+07FF, the last 2-byte code point
    ["ࠀ", 3], // U+0800, the first 3-byte code point
    ["日本語", 9],
    ["￿", 3], // U+FFFF
    ["🔑", 4],
    ["a🔑é日", 10],
    ["🔑🔑", 8],
  ];
  for (const [text, bytes] of cases) {
    assert.equal(utf8Length(text), encoded(text), JSON.stringify(text));
    assert.equal(utf8Length(text), bytes, JSON.stringify(text));
  }
});

Deno.test("valueBytes charges the UTF-8 type URL plus the value bytes", () => {
  assert.equal(
    valueBytes({ typeUrl: "t/é", value: new Uint8Array(5) }),
    4 + 5,
  );
});

Deno.test("checkKey rejects an empty key", () => {
  assertInvalid(() => checkKey("demo", ""), "key is empty");
});

Deno.test("checkKey accepts a 1024-byte key and rejects 1025 bytes, naming both sizes", () => {
  checkKey("demo", "k".repeat(1024));
  assertInvalid(
    () => checkKey("demo", "k".repeat(1025)),
    "key is 1025 bytes: the limit is 1024",
  );
});

Deno.test("checkKey counts UTF-8 bytes, not UTF-16 units", () => {
  // 513 units, 1026 bytes.
  const key = "é".repeat(513);
  assert.ok(key.length < 1024);
  assertInvalid(
    () => checkKey("demo", key),
    "key is 1026 bytes: the limit is 1024",
  );
  // 342 three-byte characters: 342 units, 1026 bytes.
  assertInvalid(
    () => checkKey("demo", "日".repeat(342)),
    "key is 1026 bytes: the limit is 1024",
  );
  // 341 three-byte characters + 1 ASCII: exactly 1024 bytes.
  checkKey("demo", "日".repeat(341) + "k");
  // 256 emoji: 512 units, 1024 bytes.
  checkKey("demo", "🔑".repeat(256));
  assertInvalid(
    () => checkKey("demo", "🔑".repeat(256) + "k"),
    "key is 1025 bytes: the limit is 1024",
  );
});

Deno.test("checkKey accepts a 256-byte namespace and rejects 257 bytes", () => {
  checkKey("n".repeat(256), "k");
  assertInvalid(
    () => checkKey("n".repeat(257), "k"),
    "namespace is 257 bytes: the limit is 256",
  );
  // 129 units, 258 bytes.
  assertInvalid(
    () => checkKey("é".repeat(129), "k"),
    "namespace is 258 bytes: the limit is 256",
  );
});

Deno.test("checkKey accepts an empty namespace", () => {
  checkKey("", "k");
});

Deno.test("checkValue requires data", () => {
  assertInvalid(() => checkValue(null, 100), "data is required");
  assertInvalid(() => checkValue(undefined, 100), "data is required");
});

Deno.test("checkValue accepts a value at the limit and returns it", () => {
  const value = { typeUrl: "t", value: new Uint8Array(9) }; // 10 bytes
  assert.equal(checkValue(value, 10), value);
});

Deno.test("checkValue rejects a value over the limit, naming both sizes", () => {
  const value = { typeUrl: "t/é", value: new Uint8Array(7) }; // 4 + 7 bytes
  assertInvalid(
    () => checkValue(value, 10),
    "value is 11 bytes: the limit is 10 (--max-value-bytes)",
  );
});

Deno.test("checkTtl accepts 0 and the largest safe integer", () => {
  checkTtl(0);
  checkTtl(1);
  checkTtl(Number.MAX_SAFE_INTEGER);
});

Deno.test("checkTtl rejects negative, fractional and unsafe TTLs", () => {
  for (const ttl of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
    assertInvalid(
      () => checkTtl(ttl),
      `ttl_ms is ${ttl}: the limit is 9007199254740991`,
    );
  }
});

Deno.test("checkBatch accepts 10000 items and rejects 10001", () => {
  checkBatch(0);
  checkBatch(10_000);
  assertInvalid(
    () => checkBatch(10_001),
    "request has 10001 keys: the limit is 10000",
  );
});

Deno.test({
  name: "utf8Length counts a lone surrogate as 3 bytes, as TextEncoder does",
  fn() {
    for (const text of ["\ud800", "\udc00", "a\ud83d", "\udc11\ud83d"]) {
      assert.equal(utf8Length(text), encoded(text), JSON.stringify(text));
    }
  },
});

Deno.test("checkTypeUrl accepts 2048 UTF-8 bytes and refuses 2049, naming the limit", () => {
  checkTypeUrl("t".repeat(MAX_TYPE_URL_BYTES));
  checkTypeUrl("é".repeat(MAX_TYPE_URL_BYTES / 2));
  assertInvalid(
    () => checkTypeUrl("t".repeat(MAX_TYPE_URL_BYTES + 1)),
    "type URL is 2049 bytes: the limit is 2048",
  );
  assertInvalid(
    () => checkTypeUrl(`${"é".repeat(1024)}x`),
    "type URL is 2049 bytes: the limit is 2048",
  );
});

Deno.test("checkValue refuses a type URL over the limit even when the value fits", () => {
  const value = { typeUrl: "t".repeat(4096), value: new Uint8Array(0) };
  assertInvalid(
    () => checkValue(value, 1 << 20),
    "type URL is 4096 bytes: the limit is 2048",
  );
});
