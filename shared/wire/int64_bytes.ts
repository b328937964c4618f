/**
 * `google.protobuf.Int64Value` to and from its bytes, by hand: exact over
 * the whole int64 range (as `bigint`), and without protobufjs, so that a
 * shard worker can run a counter without loading it.
 *
 * @module
 */
import { FailedPreconditionError, OutOfRangeError } from "./errors.ts";

/** Type URL of `google.protobuf.Int64Value`. */
export const INT64_VALUE_TYPE_URL =
  "type.googleapis.com/google.protobuf.Int64Value";
/** The smallest int64. */
export const INT64_MIN = -(2n ** 63n);
/** The largest int64. */
export const INT64_MAX = 2n ** 63n - 1n;

/**
 * Checks that `n` fits an int64.
 *
 * @throws {OutOfRangeError} when it does not.
 */
export function checkInt64(n: bigint, what: string): bigint {
  if (n < INT64_MIN || n > INT64_MAX) {
    throw new OutOfRangeError(
      `${what} is ${n}: an int64 holds ${INT64_MIN} to ${INT64_MAX}`,
    );
  }
  return n;
}

/**
 * The bytes of an `Int64Value` holding `n` (none for 0, as protobuf
 * writes a default).
 *
 * @example
 * ```ts
 * encodeInt64Bytes(1n); // Uint8Array [8, 1]
 * ```
 */
export function encodeInt64Bytes(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  let rest = BigInt.asUintN(64, checkInt64(n, "value"));
  const bytes = [8];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return new Uint8Array(bytes);
}

/**
 * The int64 an `Int64Value`'s bytes hold (the last `value` field wins, as
 * in protobuf).
 *
 * @throws {FailedPreconditionError} when the bytes are not an `Int64Value`.
 */
export function decodeInt64Bytes(bytes: Uint8Array): bigint {
  let value = 0n;
  let at = 0;
  const varint = (): bigint => {
    let n = 0n, shift = 0n;
    for (;;) {
      const byte = bytes[at++];
      if (byte === undefined || shift > 63n) throw notInt64();
      n |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return n;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    if (bytes[at++] !== 8) throw notInt64();
    value = BigInt.asIntN(64, varint());
  }
  return value;
}

function notInt64(): FailedPreconditionError {
  return new FailedPreconditionError(
    "the key holds a malformed google.protobuf.Int64Value",
  );
}
