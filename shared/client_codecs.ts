/**
 * The typed value codecs of the Ganache client: how strings, 64-bit
 * integers, bytes and JSON travel inside `google.protobuf.Any`, and the
 * shapes of writes (`SetOptions`, `MultiSetItem`, `Entries`).
 * Re-exported by `client.ts`, the package entry point.
 *
 * @module
 */
import {
  decodeBytes,
  decodeInt64,
  decodeJSON,
  decodeString,
  encodeBytes,
  encodeInt64,
  encodeJSON,
  encodeString,
} from "./wire/values.ts";
import type { AnyValue } from "./wire/messages.ts";

/**
 * How a type of value travels inside `google.protobuf.Any`, as the original
 * Go client encodes it.
 */
export interface Codec<T> {
  /** Wraps a value in `Any`. */
  encode(value: T): AnyValue;
  /**
   * Unwraps a value.
   * @throws {Error} when the value is of another type.
   */
  decode(value: AnyValue): T;
}

/** The codecs of the value types the typed methods use. */
export const codecs: {
  /** `google.protobuf.StringValue`. */
  string: Codec<string>;
  /** `google.protobuf.Int64Value`. */
  int64: Codec<bigint>;
  /** `google.protobuf.BytesValue`. */
  bytes: Codec<Uint8Array>;
  /** JSON text in a `google.protobuf.StringValue`. */
  json: Codec<unknown>;
} = {
  string: { encode: encodeString, decode: decodeString },
  int64: { encode: encodeInt64, decode: decodeInt64 },
  bytes: { encode: encodeBytes, decode: decodeBytes },
  json: { encode: encodeJSON, decode: decodeJSON },
};

/** Keys and values to write: an object, a `Map` or `[key, value]` pairs. */
export type Entries<T> =
  | Record<string, T>
  | Map<string, T>
  | Iterable<readonly [string, T]>;

/** The `[key, value]` pairs of {@linkcode Entries}, in order. */
export function entriesOf<T>(entries: Entries<T>): [string, T][] {
  if (entries instanceof Map || Symbol.iterator in entries) {
    return Array.from(entries as Iterable<[string, T]>);
  }
  return Object.entries(entries);
}

/** Options of a write. */
export interface SetOptions {
  /** Time to live in milliseconds; 0 or absent means no expiry. */
  ttlMs?: number;
}

/** One item of {@linkcode NamespaceClient.multiSet}. */
export interface MultiSetItem extends SetOptions {
  /** The key. */
  key: string;
  /** The value, already wrapped in `Any`. */
  value: AnyValue;
}
