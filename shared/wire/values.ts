/**
 * Typed values inside `google.protobuf.Any`, encoded exactly as the original
 * Go client encodes them, so both clients read each other's values.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";
import { PROTO_ROOT } from "./services.ts";
import type { AnyValue } from "./messages.ts";

const PREFIX = "type.googleapis.com/";
const StringValue = PROTO_ROOT.lookupType("google.protobuf.StringValue");
const Int64Value = PROTO_ROOT.lookupType("google.protobuf.Int64Value");
const BytesValue = PROTO_ROOT.lookupType("google.protobuf.BytesValue");

/** Type URL of `google.protobuf.StringValue`, used for strings and JSON. */
export const STRING_TYPE_URL = `${PREFIX}google.protobuf.StringValue`;
/** Type URL of `google.protobuf.Int64Value`. */
export const INT64_TYPE_URL = `${PREFIX}google.protobuf.Int64Value`;
/** Type URL of `google.protobuf.BytesValue`. */
export const BYTES_TYPE_URL = `${PREFIX}google.protobuf.BytesValue`;

function expect(value: AnyValue, typeUrl: string): void {
  if (value.typeUrl !== typeUrl) {
    throw new InvalidArgumentError(
      `value is a ${value.typeUrl || "(no type)"}: expected ${typeUrl}`,
    );
  }
}

/** Wraps a string as `Any(StringValue)`. */
export function encodeString(text: string): AnyValue {
  return {
    typeUrl: STRING_TYPE_URL,
    // proto3 leaves zero values out, as Go's proto.Marshal does.
    value: StringValue.encode(text === "" ? {} : { value: text }).finish(),
  };
}

/**
 * Unwraps `Any(StringValue)`.
 *
 * @throws {InvalidArgumentError} when the value is of another type.
 */
export function decodeString(value: AnyValue): string {
  expect(value, STRING_TYPE_URL);
  return (StringValue.decode(value.value) as unknown as { value: string })
    .value;
}

/** Wraps a signed 64-bit integer as `Any(Int64Value)`. */
export function encodeInt64(n: bigint): AnyValue {
  if (n < -(2n ** 63n) || n >= 2n ** 63n) {
    throw new RangeError(`Cannot encode int64: out of range: received ${n}`);
  }
  const message = Int64Value.fromObject(
    n === 0n ? {} : { value: n.toString() },
  );
  return {
    typeUrl: INT64_TYPE_URL,
    value: Int64Value.encode(message).finish(),
  };
}

/**
 * Unwraps `Any(Int64Value)`.
 *
 * @throws {InvalidArgumentError} when the value is of another type.
 */
export function decodeInt64(value: AnyValue): bigint {
  expect(value, INT64_TYPE_URL);
  const message = Int64Value.toObject(Int64Value.decode(value.value), {
    longs: String,
  }) as { value?: string };
  return BigInt(message.value ?? "0");
}

/** Wraps bytes as `Any(BytesValue)`. */
export function encodeBytes(bytes: Uint8Array): AnyValue {
  return {
    typeUrl: BYTES_TYPE_URL,
    value: BytesValue.encode(bytes.length === 0 ? {} : { value: bytes })
      .finish(),
  };
}

/**
 * Unwraps `Any(BytesValue)`.
 *
 * @throws {InvalidArgumentError} when the value is of another type.
 */
export function decodeBytes(value: AnyValue): Uint8Array {
  expect(value, BYTES_TYPE_URL);
  const message = BytesValue.decode(value.value) as unknown as {
    value: Uint8Array;
  };
  return new Uint8Array(message.value);
}

/** Wraps any JSON-serialisable value as `Any(StringValue)` of its JSON text. */
export function encodeJSON(data: unknown): AnyValue {
  const text = JSON.stringify(data);
  if (text === undefined) {
    throw new TypeError("Cannot encode JSON: the value has no JSON form");
  }
  return encodeString(text);
}

/**
 * Unwraps `Any(StringValue)` and parses it as JSON.
 *
 * @throws {InvalidArgumentError} when the value is of another type.
 * @throws {SyntaxError} when the text is not JSON.
 */
export function decodeJSON<T = unknown>(value: AnyValue): T {
  return JSON.parse(decodeString(value)) as T;
}
