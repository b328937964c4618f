/** Unit tests of typed values in `google.protobuf.Any`, byte for byte. */
import assert from "node:assert/strict";
import { InvalidArgumentError, Status } from "./errors.ts";
import {
  BYTES_TYPE_URL,
  decodeBytes,
  decodeInt64,
  decodeJSON,
  decodeString,
  encodeBytes,
  encodeInt64,
  encodeJSON,
  encodeString,
  INT64_TYPE_URL,
  STRING_TYPE_URL,
} from "./values.ts";

Deno.test("type URLs are the well-known wrapper types", () => {
  assert.equal(
    STRING_TYPE_URL,
    "type.googleapis.com/google.protobuf.StringValue",
  );
  assert.equal(
    INT64_TYPE_URL,
    "type.googleapis.com/google.protobuf.Int64Value",
  );
  assert.equal(
    BYTES_TYPE_URL,
    "type.googleapis.com/google.protobuf.BytesValue",
  );
});

Deno.test("encodeString gives the StringValue bytes Go's wrapperspb produces", () => {
  const any = encodeString("v");
  assert.equal(any.typeUrl, "type.googleapis.com/google.protobuf.StringValue");
  assert.deepEqual(Array.from(any.value), [0x0a, 0x01, 0x76]);
  // Field 1, length 2, UTF-8 of "é".
  assert.deepEqual(Array.from(encodeString("é").value), [
    0x0a,
    0x02,
    0xc3,
    0xa9,
  ]);
});

Deno.test("encodeInt64(-1n) is the 10-byte protobuf varint of -1", () => {
  const any = encodeInt64(-1n);
  assert.equal(any.typeUrl, "type.googleapis.com/google.protobuf.Int64Value");
  assert.deepEqual(Array.from(any.value), [
    0x08,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x01,
  ]);
});

Deno.test("encodeInt64 of small and extreme values gives the varint bytes", () => {
  assert.deepEqual(Array.from(encodeInt64(1n).value), [0x08, 0x01]);
  assert.deepEqual(Array.from(encodeInt64(300n).value), [0x08, 0xac, 0x02]);
  assert.deepEqual(Array.from(encodeInt64(2n ** 63n - 1n).value), [
    0x08,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x7f,
  ]);
  assert.deepEqual(Array.from(encodeInt64(-(2n ** 63n)).value), [
    0x08,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x01,
  ]);
});

Deno.test("strings round-trip, including empty and non-ASCII text", () => {
  for (const text of ["", "v", "héllo wörld", "日本語 🔑", "a\u0000b"]) {
    assert.equal(decodeString(encodeString(text)), text);
  }
});

Deno.test("int64 values round-trip, including int64 min and max", () => {
  const values = [
    0n,
    1n,
    -1n,
    2n ** 31n,
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
  ];
  for (const n of values) {
    assert.equal(decodeInt64(encodeInt64(n)), n);
  }
});

Deno.test("an empty Int64Value decodes as 0, as proto3 defaults say", () => {
  assert.equal(
    decodeInt64({ typeUrl: INT64_TYPE_URL, value: new Uint8Array() }),
    0n,
  );
  assert.equal(
    decodeString({ typeUrl: STRING_TYPE_URL, value: new Uint8Array() }),
    "",
  );
});

Deno.test("encodeInt64 rejects values outside the signed 64-bit range", () => {
  assert.throws(() => encodeInt64(2n ** 63n), RangeError);
  assert.throws(() => encodeInt64(-(2n ** 63n) - 1n), RangeError);
});

Deno.test("decoding a value of another type is INVALID_ARGUMENT naming both types", () => {
  assert.throws(
    () => decodeString(encodeInt64(1n)),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.code, Status.INVALID_ARGUMENT);
      assert.equal(
        error.message,
        "value is a type.googleapis.com/google.protobuf.Int64Value: expected type.googleapis.com/google.protobuf.StringValue",
      );
      return true;
    },
  );
  assert.throws(() => decodeInt64(encodeString("1")), InvalidArgumentError);
  assert.throws(() => decodeBytes(encodeString("1")), InvalidArgumentError);
  assert.throws(
    () => decodeJSON(encodeBytes(new Uint8Array())),
    InvalidArgumentError,
  );
  assert.throws(
    () => decodeString({ typeUrl: "", value: new Uint8Array() }),
    {
      message:
        "value is a (no type): expected type.googleapis.com/google.protobuf.StringValue",
    },
  );
});

Deno.test("bytes round-trip byte for byte", () => {
  const bytes = new Uint8Array([0, 1, 127, 128, 255]);
  const any = encodeBytes(bytes);
  assert.equal(any.typeUrl, BYTES_TYPE_URL);
  assert.deepEqual(Array.from(any.value), [0x0a, 0x05, 0, 1, 127, 128, 255]);
  const back = decodeBytes(any);
  assert.deepEqual(Array.from(back), [0, 1, 127, 128, 255]);
  assert.equal(back.constructor, Uint8Array);
  assert.deepEqual(Array.from(decodeBytes(encodeBytes(new Uint8Array()))), []);
});

Deno.test("JSON round-trips as a StringValue of its text", () => {
  const data = { a: [1, 2, { b: null }], c: "dé", d: true, e: -0.5 };
  const any = encodeJSON(data);
  assert.equal(any.typeUrl, STRING_TYPE_URL);
  assert.equal(decodeString(any), JSON.stringify(data));
  assert.deepEqual(decodeJSON(any), data);
  assert.equal(decodeJSON(encodeJSON("s")), "s");
  assert.equal(decodeJSON(encodeJSON(null)), null);
});

Deno.test("decodeJSON of text that is not JSON throws SyntaxError", () => {
  assert.throws(() => decodeJSON(encodeString("{nope")), SyntaxError);
});

Deno.test("encodeJSON of a value without a JSON form throws TypeError", () => {
  assert.throws(() => encodeJSON(undefined), TypeError);
  assert.throws(() => encodeJSON(() => 1), TypeError);
  assert.throws(() => encodeJSON(Symbol("s")), TypeError);
});

Deno.test({
  name: "zero values encode to empty bytes, as Go's proto.Marshal does",
  fn() {
    assert.deepEqual(Array.from(encodeInt64(0n).value), []);
    assert.deepEqual(Array.from(encodeString("").value), []);
    assert.deepEqual(Array.from(encodeBytes(new Uint8Array()).value), []);
  },
});
