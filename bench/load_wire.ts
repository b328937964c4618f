/**
 * What the load tool puts on the wire: key names, the value, and the raw
 * gRPC messages that h2load sends and the echo server answers with.
 *
 * @module
 */
import { encodeBytes } from "../shared/wire/values.ts";
import { PROTO_ROOT } from "../shared/wire/services.ts";
import type { AnyValue } from "../shared/wire/messages.ts";

/** The namespace every load request uses. */
export const LOAD_NAMESPACE = "load";

/** The name of key `i`; keys `0..keys-1` are the preloaded space. */
export function keyName(i: number): string {
  return `key-${i}`;
}

/**
 * A key that hits with probability `hitRate`: a random key of the
 * preloaded space `0..keys-1`, or else one of `keys..2*keys-1`, which is
 * never written.
 */
export function randomKey(keys: number, hitRate: number): string {
  const i = Math.floor(Math.random() * keys);
  return keyName(Math.random() < hitRate ? i : keys + i);
}

/** A value of `bytes` random bytes, as `Any(BytesValue)`. */
export function makeValue(bytes: number): AnyValue {
  return encodeBytes(crypto.getRandomValues(new Uint8Array(bytes)));
}

const GetRequest = PROTO_ROOT.lookupType("ganache.cfe.GetRequest");
const GetResponse = PROTO_ROOT.lookupType("ganache.cfe.GetResponse");
const MultiGetRequest = PROTO_ROOT.lookupType("ganache.cfe.MultiGetRequest");
const MultiGetResponse = PROTO_ROOT.lookupType("ganache.cfe.MultiGetResponse");

/** One request that h2load repeats, and what a server answers to it. */
export interface FixedRequest {
  /** The gRPC method path, e.g. `/ganache.cfe.CFE/Get`. */
  path: string;
  /** The gRPC-framed request body (5-byte prefix + message). */
  body: Uint8Array;
  /** The encoded response a cache that holds the keys answers with. */
  reply: Uint8Array;
  /** Keys read per request. */
  keysPerRequest: number;
  /**
   * Whether Ganache answers with a message: false for a Get of a missing
   * key, which is a `NOT_FOUND` status.
   */
  answered: boolean;
}

/** Prefixes a message with the gRPC frame header (uncompressed, length). */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

/**
 * The Get that h2load sends: key 0 when `hit`, else a key that was never
 * written.
 */
export function fixedGet(
  value: AnyValue,
  keys: number,
  hit: boolean,
): FixedRequest {
  const key = keyName(hit ? 0 : keys);
  return {
    path: "/ganache.cfe.CFE/Get",
    body: grpcFrame(
      GetRequest.encode({ namespace: LOAD_NAMESPACE, key }).finish(),
    ),
    reply: GetResponse.encode(hit ? { data: value } : {}).finish(),
    keysPerRequest: 1,
    answered: hit,
  };
}

/**
 * The MultiGet that h2load sends: `count` keys, of which the first
 * `round(count * hitRate)` are preloaded and the others never written.
 */
export function fixedMultiGet(
  value: AnyValue,
  keys: number,
  count: number,
  hitRate: number,
): FixedRequest {
  const hits = Math.round(count * hitRate);
  const names = Array.from(
    { length: count },
    (_, j) => keyName(j < hits ? j % keys : keys + (j % keys)),
  );
  return {
    path: "/ganache.cfe.CFE/MultiGet",
    body: grpcFrame(
      MultiGetRequest.encode({ namespace: LOAD_NAMESPACE, keys: names })
        .finish(),
    ),
    reply: MultiGetResponse.encode({
      results: names.map((key, j) =>
        j < hits ? { key, found: true, data: value } : { key }
      ),
    }).finish(),
    keysPerRequest: count,
    answered: true,
  };
}
