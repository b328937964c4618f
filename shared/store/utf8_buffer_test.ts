/** Unit tests of {@linkcode Utf8Buffer}: the ASCII path and the general one give the same bytes. */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../wire/errors.ts";
import { Utf8Buffer } from "./utf8_buffer.ts";

Deno.test("Utf8Buffer encodes ASCII and other text alike, each from the start of its buffer", () => {
  const buffer = new Utf8Buffer("key", 64);
  for (
    const text of [
      "demo\u0000k1",
      "ключé",
      "",
      "日本語😀",
      "plain",
      "\u007f\u0080",
    ]
  ) {
    const expected = new TextEncoder().encode(text);
    assert.equal(buffer.encode(text), expected.length, text);
    assert.deepEqual(buffer.view(), expected, text);
  }
});

Deno.test("Utf8Buffer refuses text longer than its maximum in UTF-8 bytes", () => {
  const buffer = new Utf8Buffer("key", 4);
  assert.equal(buffer.encode("abcd"), 4);
  assert.throws(
    () => buffer.encode("abcdé"),
    (error: unknown) =>
      error instanceof InvalidArgumentError &&
      error.message === "key is 6 bytes: the store holds at most 4",
  );
});
