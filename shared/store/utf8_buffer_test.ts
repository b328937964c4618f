/** Unit tests of {@linkcode Utf8Buffer} and {@linkcode utf8Into}: the ASCII path and the general one give the same bytes. */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../wire/errors.ts";
import { Utf8Buffer, utf8Into } from "./utf8_buffer.ts";

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

Deno.test("utf8Into writes ASCII and other text at an offset, leaving the bytes around it", () => {
  for (const text of ["k1", "ключé", "a😀\ud800", ""]) {
    const expected = new TextEncoder().encode(text);
    const bytes = new Uint8Array(expected.length + 4).fill(0xee);
    assert.equal(utf8Into(text, bytes, 3), expected.length, text);
    assert.deepEqual(bytes.subarray(3, 3 + expected.length), expected, text);
    assert.deepEqual(
      [...bytes.subarray(0, 3), bytes[3 + expected.length]],
      [0xee, 0xee, 0xee, 0xee],
      text,
    );
  }
});
