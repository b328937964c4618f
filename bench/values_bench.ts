/**
 * Value encoding: the typed client's `Any` wrappers, against a plain UTF-8
 * encode of the same text.
 *
 * Run: deno bench bench/values_bench.ts
 *
 * @module
 */
import {
  decodeString,
  encodeInt64,
  encodeString,
} from "../shared/wire/values.ts";

const text = "x".repeat(100);
const utf8 = new TextEncoder();
const encoded = encodeString(text);

Deno.bench({
  name: "TextEncoder.encode",
  group: "encode a 100-character string",
  baseline: true,
  fn: () => void utf8.encode(text),
});
Deno.bench({
  name: "encodeString (Any of StringValue)",
  group: "encode a 100-character string",
  fn: () => void encodeString(text),
});
Deno.bench({
  name: "encodeInt64 (Any of Int64Value)",
  group: "encode a 100-character string",
  fn: () => void encodeInt64(123456789n),
});
Deno.bench({
  name: "decodeString",
  group: "encode a 100-character string",
  fn: () => void decodeString(encoded),
});
